/**
 * A whole training model's backward pass against central finite differences of its loss, for EVERY parameter: the
 * model's own `backward` after one micro-batch (cross-entropy with label smoothing) against (L(p + h) - L(p - h)) / 2h.
 */
import {expect} from 'vitest'

import {seededRandom} from '../../../src/core/random.js'
import {createTsTrainKernels, type TrainKernels} from '../../../src/engine/train/kernels.js'
import {crossEntropyForwardBackward} from '../../../src/engine/train/loss.js'
import type {TrainModel} from '../../../src/engine/train/model.js'
import {type TrainHyper, trainMicroBatch} from '../../../src/engine/train/trainer.js'
import {createWasmTrainKernels} from '../../../src/engine/wasm/train.js'

/**
 * Both training backends, for whole-model checks: the TypeScript kernels and the WebAssembly ones. One thread: a
 * finite-difference check runs thousands of forwards of tiny shapes, where every threaded call would wait for a
 * worker a loaded machine may not schedule for milliseconds; the kernels' threading is tested on its own
 * (test/engine/wasm/train.test.ts) and in the CLI references (2 threads).
 */
export const TRAIN_KERNELS: Array<[string, () => Promise<TrainKernels>]> = [
  ['ts', async () => createTsTrainKernels()],
  ['wasm', () => createWasmTrainKernels({threads: 1})],
]

/** Runs `fn` on fresh kernels made by `make`, disposed afterwards. */
export async function withKernels(make: () => Promise<TrainKernels>, fn: (k: TrainKernels) => void): Promise<void> {
  const k = await make()
  try {
    fn(k)
  } finally {
    k.dispose()
  }
}

const HYPER: TrainHyper = {
  task: 'image-classification',
  optimizer: 'adamw',
  learningRate: 0,
  weightDecay: 0,
  maxGradNorm: 0,
  labelSmoothing: 0.1,
  gradientAccumulation: 1,
  schedule: {name: 'constant', warmupSteps: 0, totalSteps: 1},
}

/**
 * Fills the parameters with seeded values in +-scale, runs one micro-batch of B random images and checks every trained
 * parameter's gradient (on kernels other than the TypeScript ones, a spread sample of each tensor's) (float32 forward, h = 1e-2: worst error relative to 1 + |numeric| <= 2e-3), and that none of
 * them is zero throughout (a gradient never written would pass a loose check on small values). Untrained tensors must
 * keep a zero gradient.
 */
export function checkModelGradients(model: TrainModel, B: number, seed: number, scale = 0.7): void {
  const rand = seededRandom(seed)
  for (let i = 0; i < model.params.length; i++) model.params[i] = (rand() * 2 - 1) * scale
  // the floats no tensor covers are no parameter: they stay zero, as loading leaves them
  const covered = new Uint8Array(model.params.length)
  for (const e of model.layout.entries) covered.fill(1, e.offset, e.offset + e.size)
  for (let i = 0; i < covered.length; i++) if (!covered[i]) model.params[i] = 0
  const K = model.numLabels
  const pixels = new Float32Array(B * model.numChannels * model.inputHeight * model.inputWidth).map(() => rand() * 2 - 1)
  const labels = Array.from({length: B}, (_, b) => (b * 2 + 1) % K)
  model.grads.fill(0)
  trainMicroBatch(model, pixels, B, labels, HYPER)
  const analytic = model.grads.slice()
  const scratch = new Float32Array(B * K)
  const loss = (): number => crossEntropyForwardBackward(scratch, model.forward(pixels, B), labels, HYPER.labelSmoothing, 1, B, K)
  const h = 1e-2
  let worst = 0
  for (const e of model.layout.entries) {
    let sum = 0
    // The TypeScript kernels: every element. Others (each WebAssembly kernel call crosses to the worker threads, which
    // on these tiny shapes costs far more than the arithmetic): about 8 elements spread over each tensor, its last one
    // included; the fixtures' training runs check those kernels' whole models against PyTorch besides.
    const stride = model.kernels.name === 'ts' ? 1 : Math.max(1, Math.ceil(e.size / 8))
    for (let i = e.offset; i < e.offset + e.size; i++) {
      sum += Math.abs(analytic[i])
      if (!e.trained || ((i - e.offset) % stride !== 0 && i !== e.offset + e.size - 1)) continue
      const keep = model.params[i]
      model.params[i] = keep + h
      const up = loss()
      model.params[i] = keep - h
      const down = loss()
      model.params[i] = keep
      const numeric = (up - down) / (2 * h)
      const err = Math.abs(numeric - analytic[i]) / (1 + Math.abs(numeric))
      if (!(err <= 2e-3)) throw new Error(`${e.name}[${i - e.offset}]: analytic ${analytic[i]}, numeric ${numeric}`)
      worst = Math.max(worst, err)
    }
    if (e.trained) expect(sum, `${e.name}: gradient all zero`).toBeGreaterThan(0)
    else expect(sum, `${e.name} is not trained: its gradient stays zero`).toBe(0)
  }
  expect(worst).toBeLessThanOrEqual(2e-3)
}
