/**
 * `npm run bench -- finetune`: one training step of ViT-B/16 (seeded random weights) at batch 8 — forward keeping
 * the activations, cross-entropy, backward, clipping, AdamW — against inference on the same batch, in the same run,
 * both on the WebAssembly SIMD kernels with the same threads (default 2; VITRINE_BENCH_THREADS). The target is a
 * step at most 3.5x the inference (the FLOP ratio is about 3). Medians of VITRINE_BENCH_RUNS (default 3) after a
 * warm-up, inference and training alternated so a busy machine slows both alike; CPU seconds beside wall seconds, and
 * the step's phases. Peak RSS: VmHWM of this process, which holds the training state (parameters, gradients, both
 * AdamW moments and the batch's activations, all in the WebAssembly memory) and the inference model at once.
 */
import {existsSync, readFileSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {loadavg} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {seededRandom} from '../src/core/random.js'
import {loadModel} from '../src/engine/classifier.js'
import {type TrainHyper, decayRanges, loadTrainParams, optimizerStep, trainMicroBatch} from '../src/engine/train/trainer.js'
import {createVitTrainModel} from '../src/models/vit/train.js'
import {createWasmBackend} from '../src/engine/wasm/index.js'
import {createWasmTrainKernels} from '../src/engine/wasm/train.js'
import {parseVitConfig} from '../src/models/vit/config.js'
import {ownPeakMemoryMiB} from './lib/peak-memory.js'
import {VIT_B16, writeRandomVitFolder} from './lib/random-vit.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
// the engine bench's model folder: generated once, shared
const MODEL_DIR = join(ROOT, 'bench', 'out', 'engine', 'vit-b16-random')
const BATCH = 8

interface Timing {
  wallS: number
  cpuS: number
}

/** Wall and CPU seconds of `fn`. */
function timed(fn: () => void): Timing {
  const c = process.cpuUsage()
  const t = performance.now()
  fn()
  const used = process.cpuUsage(c)
  return {wallS: (performance.now() - t) / 1000, cpuS: (used.user + used.system) / 1e6}
}

const round = (x: number): number => Math.round(x * 1000) / 1000
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const medianTiming = (ts: Timing[]): Timing => ({wallS: round(median(ts.map((t) => t.wallS))), cpuS: round(median(ts.map((t) => t.cpuS)))})

export default async function bench(): Promise<unknown> {
  const threads = Number(process.env.VITRINE_BENCH_THREADS ?? 2)
  const runs = Number(process.env.VITRINE_BENCH_RUNS ?? 3)
  await mkdir(MODEL_DIR, {recursive: true})
  if (!existsSync(join(MODEL_DIR, 'model.safetensors'))) await writeRandomVitFolder(MODEL_DIR, VIT_B16, 1234)
  const {config} = parseVitConfig(JSON.parse(readFileSync(join(MODEL_DIR, 'config.json'), 'utf8')), 'config.json')
  const rnd = seededRandom(5)
  const labels = Array.from({length: BATCH}, (_, i) => (i * 97) % config.numLabels)
  const loadBefore = loadavg()

  // the training state first (its peak is what fine-tuning costs), then the inference model beside it
  const kernels = await createWasmTrainKernels({threads})
  const model = createVitTrainModel(config, kernels, BATCH)
  await loadTrainParams(model, join(MODEL_DIR, 'model.safetensors'))
  const pixels = kernels.alloc(BATCH * 3 * 224 * 224).map(() => rnd() * 2 - 1)
  const hyper: TrainHyper = {
    task: 'image-classification',
    optimizer: 'adamw',
    learningRate: 5e-5,
    weightDecay: 0.01,
    maxGradNorm: 1,
    labelSmoothing: 0,
    gradientAccumulation: 1,
    schedule: {name: 'constant', warmupSteps: 0, totalSteps: runs + 1},
  }
  const ranges = decayRanges(model)
  let stepsDone = 0
  const phases = {forwardBackward: [] as Timing[], update: [] as Timing[]}
  const trainStep = (): Timing => {
    const fb = timed(() => trainMicroBatch(model, pixels, BATCH, labels, hyper))
    const up = timed(() => optimizerStep(model, hyper, ranges, stepsDone++))
    phases.forwardBackward.push(fb)
    phases.update.push(up)
    return {wallS: fb.wallS + up.wallS, cpuS: fb.cpuS + up.cpuS}
  }
  // warm-up (first touch of the activations and gradients, JIT)
  trainStep()
  const trainRssMB = ownPeakMemoryMiB()
  const backend = await createWasmBackend({threads})
  const infer = await loadModel(MODEL_DIR, {backend, maxBatch: BATCH})
  infer.forward(pixels, BATCH)
  phases.forwardBackward.length = 0
  phases.update.length = 0
  const inference: Timing[] = []
  const step: Timing[] = []
  for (let i = 0; i < runs; i++) {
    inference.push(timed(() => infer.forward(pixels, BATCH)))
    step.push(trainStep())
  }
  infer.dispose()
  backend.dispose()
  kernels.dispose()

  const inf = medianTiming(inference)
  const st = medianTiming(step)
  return {
    model: 'ViT-B/16 random weights',
    batch: BATCH,
    threads,
    backend: kernels.name,
    runs,
    inference: inf,
    trainStep: st,
    trainStepPhases: {forwardBackward: medianTiming(phases.forwardBackward), clipAndAdamW: medianTiming(phases.update)},
    trainOverInferenceWall: round(st.wallS / inf.wallS),
    trainOverInferenceCpu: round(st.cpuS / inf.cpuS),
    target: 'train step <= 3.5x inference on the same batch (FLOP ratio ~3)',
    loadAverage: {before: loadBefore.map(round), after: loadavg().map(round)},
    // VmHWM after a first training step (the whole training state touched), and at the end (the inference model added)
    peakRssTrainStateMB: trainRssMB,
    peakRssMB: ownPeakMemoryMiB(),
    // params, gradients and AdamW's two moments, plus the activations kept for the backward pass
    trainStateMB: Math.round((4 * (4 * model.layout.total + model.activationFloats)) / 1e6),
  }
}
