/**
 * The whole ViT backward pass (patch embedding over a cropped grid, CLS and position embeddings, residuals, every
 * layer, the final LayerNorm on CLS rows, the classifier, cross-entropy) against central finite differences of the
 * loss, for EVERY parameter of a small model of odd geometry, with and without qkv bias.
 */
import {describe, expect, it} from 'vitest'

import {seededRandom} from '../../../src/core/random.js'
import type {VitConfig} from '../../../src/models/vit/config.js'
import {createTsTrainKernels} from '../../../src/engine/train/kernels.js'
import type {TrainHyper} from '../../../src/engine/train/trainer.js'
import {trainMicroBatch} from '../../../src/engine/train/trainer.js'
import {createVitTrainModel, vitTrainForward} from '../../../src/engine/train/vit-train.js'
import {crossEntropyForwardBackward} from '../../../src/engine/train/loss.js'

function oddConfig(qkvBias: boolean): VitConfig {
  // image 7x5 with 3x2 patches: a 2x2 grid, the last row and column of pixels dropped as the strided conv drops them
  return {
    hiddenSize: 6,
    numLayers: 2,
    numHeads: 2,
    intermediateSize: 5,
    patchHeight: 3,
    patchWidth: 2,
    imageHeight: 7,
    imageWidth: 5,
    numChannels: 3,
    numLabels: 3,
    layerNormEps: 1e-5,
    qkvBias,
    gridHeight: 2,
    gridWidth: 2,
    numPatches: 4,
    numTokens: 5,
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

describe('ViT backward vs finite differences', () => {
  for (const qkvBias of [true, false]) {
    it(`every parameter's gradient (qkv_bias ${qkvBias})`, () => {
      const config = oddConfig(qkvBias)
      const B = 3
      const model = createVitTrainModel(config, createTsTrainKernels(), B)
      const rand = seededRandom(qkvBias ? 11 : 12)
      for (let i = 0; i < model.params.length; i++) model.params[i] = (rand() * 2 - 1) * 0.7
      const pixels = new Float32Array(B * 3 * 7 * 5).map(() => rand() * 2 - 1)
      const labels = [2, 0, 1]
      trainMicroBatch(model, pixels, B, labels, HYPER)
      const analytic = model.grads.slice()
      const scratch = new Float32Array(B * 3)
      const loss = (): number => crossEntropyForwardBackward(scratch, vitTrainForward(model, pixels, B), labels, 0.1, 1, B, 3)
      const h = 1e-2
      let worst = 0
      for (const e of model.layout.entries) {
        for (let i = e.offset; i < e.offset + e.size; i++) {
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
      }
      expect(worst).toBeLessThanOrEqual(2e-3)
      // and the gradient is not trivially zero anywhere that matters
      for (const e of model.layout.entries) {
        let s = 0
        for (let i = e.offset; i < e.offset + e.size; i++) s += Math.abs(analytic[i])
        expect(s, e.name).toBeGreaterThan(0)
      }
    })
  }
})
