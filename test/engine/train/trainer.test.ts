/**
 * The training step against PyTorch: the training references (autograd + torch.optim.AdamW under the Trainer's
 * semantics) of ViT, DINOv2 and BEiT, step for step, on the TypeScript kernels, from the fixtures' own pixel values.
 */
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {createTsTrainKernels} from '../../../src/engine/train/kernels.js'
import {decayRanges, loadTrainParams, optimizerStep, type TrainHyper, trainMicroBatch} from '../../../src/engine/train/trainer.js'
import {checkTensor} from '../../helpers/check-tensor.js'
import {FIXTURES, readF32} from '../fixtures.js'
import {createFixtureTrainModel, GRAD_NORM_REL_TOL, LOSS_TOL, readFinalWeights, readTrainCase, TRAIN_CASES, WEIGHT_TOL} from './train-fixtures.js'

describe('training step vs PyTorch (TypeScript kernels)', () => {
  for (const [fixture, name] of TRAIN_CASES) {
    it(`${fixture}/${name}: every step's lr, loss and grad_norm, and every final weight`, async () => {
      const dir = join(FIXTURES, fixture)
      const tc = readTrainCase(fixture, name)
      const h = tc.hyperparameters
      const model = await createFixtureTrainModel(fixture, createTsTrainKernels(), h.batch)
      await loadTrainParams(model, join(dir, 'model.safetensors'))
      const hyper: TrainHyper = {
        task: 'image-classification',
        optimizer: 'adamw',
        learningRate: h.lr,
        weightDecay: h.weight_decay,
        maxGradNorm: h.max_grad_norm,
        labelSmoothing: h.label_smoothing,
        gradientAccumulation: h.accum,
        schedule: {name: h.schedule === 'linear' ? 'warmup_linear' : 'warmup_cosine', warmupSteps: h.warmup, totalSteps: h.steps},
      }
      const images = tc.data.pixel_values.map((p) => readF32(join(dir, p)))
      const imageFloats = images[0].length
      const ranges = decayRanges(model)
      const pixels = new Float32Array(h.batch * imageFloats)
      let cursor = 0
      for (const expected of tc.steps) {
        let loss = 0
        for (let micro = 0; micro < h.accum; micro++) {
          const labels: number[] = []
          for (let b = 0; b < h.batch; b++) {
            const i = cursor++ % images.length
            pixels.set(images[i], b * imageFloats)
            labels.push(tc.data.labels[i])
          }
          loss += trainMicroBatch(model, pixels, h.batch, labels, hyper)
        }
        const {lr, gradNorm} = optimizerStep(model, hyper, ranges, expected.step - 1)
        expect(lr, `step ${expected.step} lr`).toBe(expected.lr)
        expect(Math.abs(loss - expected.loss), `step ${expected.step} loss ${loss} vs ${expected.loss}`).toBeLessThanOrEqual(LOSS_TOL)
        expect(Math.abs(gradNorm - expected.grad_norm) / expected.grad_norm, `step ${expected.step} grad_norm ${gradNorm} vs ${expected.grad_norm}`).toBeLessThanOrEqual(GRAD_NORM_REL_TOL)
      }
      const final = await readFinalWeights(fixture, name)
      for (const e of model.layout.entries) {
        const want = final.get(e.name)
        expect(want, e.name).toBeDefined()
        checkTensor(model.params.subarray(e.offset, e.offset + e.size), want as Float32Array, e.name, WEIGHT_TOL)
      }
    })
  }
})
