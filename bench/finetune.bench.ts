/**
 * `npm run bench -- finetune`: one training step of ViT-B/16 (seeded random weights) at batch 8 — forward keeping
 * the activations, cross-entropy, backward, AdamW — against inference on the same batch, in the same run, on the same
 * kernels. Training runs on the TypeScript kernels only (single-threaded; the WebAssembly backward kernels are not
 * written), so the peer is the TypeScript backend's inference forward; the WebAssembly inference of the same batch is
 * reported beside it for scale. CPU seconds are reported next to wall seconds: on a shared machine they are what the
 * kernels cost. Peak RSS: VmHWM of this process (the training state of ViT-B at batch 8 included).
 */
import {existsSync, readFileSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {seededRandom} from '../src/core/random.js'
import {createTsBackend} from '../src/engine/backend-ts.js'
import {loadModel} from '../src/engine/classifier.js'
import {createTsTrainKernels} from '../src/engine/train/kernels.js'
import {type TrainHyper, decayRanges, loadTrainParams, optimizerStep, trainMicroBatch} from '../src/engine/train/trainer.js'
import {createVitTrainModel} from '../src/models/vit/train.js'
import {createWasmBackend} from '../src/engine/wasm/index.js'
import {parseVitConfig} from '../src/models/vit/config.js'
import {VIT_B16, writeRandomVitFolder} from './lib/random-vit.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
// the engine bench's model folder: generated once, shared
const MODEL_DIR = join(ROOT, 'bench', 'out', 'engine', 'vit-b16-random')
const BATCH = 8

function vmHwmMB(): number | null {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    return kb ? Math.round(Number(kb) / 1024) : null
  } catch {
    return null
  }
}

/** Wall and CPU seconds of `fn`. */
function timed(fn: () => void): {wallS: number; cpuS: number} {
  const c = process.cpuUsage()
  const t = performance.now()
  fn()
  const used = process.cpuUsage(c)
  return {wallS: (performance.now() - t) / 1000, cpuS: (used.user + used.system) / 1e6}
}

const round = (x: number): number => Math.round(x * 1000) / 1000

export default async function bench(): Promise<unknown> {
  await mkdir(MODEL_DIR, {recursive: true})
  if (!existsSync(join(MODEL_DIR, 'model.safetensors'))) await writeRandomVitFolder(MODEL_DIR, VIT_B16, 1234)
  const {config} = parseVitConfig(JSON.parse(readFileSync(join(MODEL_DIR, 'config.json'), 'utf8')), 'config.json')
  const rnd = seededRandom(5)
  const pixels = new Float32Array(BATCH * 3 * 224 * 224).map(() => rnd() * 2 - 1)
  const labels = Array.from({length: BATCH}, (_, i) => (i * 97) % config.numLabels)

  // inference on the TypeScript backend (the peer of the training step) and on WebAssembly (for scale)
  const ts = await loadModel(MODEL_DIR, {backend: createTsBackend(), maxBatch: BATCH})
  const inferTs = timed(() => ts.forward(pixels, BATCH))
  ts.dispose()
  const wasmBackend = await createWasmBackend()
  const wasm = await loadModel(MODEL_DIR, {backend: wasmBackend, maxBatch: BATCH})
  wasm.forward(pixels, BATCH) // warm-up
  const inferWasm = timed(() => wasm.forward(pixels, BATCH))
  wasm.dispose()
  wasmBackend.dispose()

  // one training step: forward with saved activations, loss, backward, clip, AdamW
  const model = createVitTrainModel(config, createTsTrainKernels(), BATCH)
  await loadTrainParams(model, join(MODEL_DIR, 'model.safetensors'))
  const hyper: TrainHyper = {
    task: 'image-classification',
    optimizer: 'adamw',
    learningRate: 5e-5,
    weightDecay: 0,
    maxGradNorm: 1,
    labelSmoothing: 0,
    gradientAccumulation: 1,
    schedule: {name: 'constant', warmupSteps: 0, totalSteps: 1},
  }
  const ranges = decayRanges(model)
  const step = timed(() => {
    trainMicroBatch(model, pixels, BATCH, labels, hyper)
    optimizerStep(model, hyper, ranges, 0)
  })
  return {
    model: 'ViT-B/16 random weights',
    batch: BATCH,
    inferenceTs: {wallS: round(inferTs.wallS), cpuS: round(inferTs.cpuS)},
    trainStepTs: {wallS: round(step.wallS), cpuS: round(step.cpuS)},
    trainOverInferenceCpu: round(step.cpuS / inferTs.cpuS),
    trainOverInferenceWall: round(step.wallS / inferTs.wallS),
    target: 'train step <= 3.5x inference on the same batch (FLOP ratio ~3)',
    inferenceWasm: {wallS: round(inferWasm.wallS), cpuS: round(inferWasm.cpuS), threads: wasmBackend.threads},
    trainStepTsOverInferenceWasmWall: round(step.wallS / inferWasm.wallS),
    peakRssMB: vmHwmMB(),
    // params, gradients and AdamW's two moments, plus the activations kept for the backward pass
    trainStateMB: Math.round((4 * (4 * model.layout.total + model.activationFloats)) / 1e6),
  }
}
