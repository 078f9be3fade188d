/**
 * The whole ViT backward pass (patch embedding over a cropped grid, CLS and position embeddings, residuals, every
 * layer, the final LayerNorm on CLS rows, the classifier, cross-entropy) against central finite differences of the
 * loss, for EVERY parameter of a small model of odd geometry, with and without qkv bias.
 */
import {describe, it} from 'vitest'

import type {VitConfig} from '../../../src/models/vit/config.js'
import {createVitTrainModel} from '../../../src/models/vit/train.js'
import {checkModelGradients, TRAIN_KERNELS, withKernels} from './model-gradients.js'

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

describe.each(TRAIN_KERNELS)('ViT backward vs finite differences (%s kernels)', (_, make) => {
  for (const qkvBias of [true, false]) {
    it(`every parameter's gradient (qkv_bias ${qkvBias})`, async () => {
      await withKernels(make, (k) => checkModelGradients(createVitTrainModel(oddConfig(qkvBias), k, 3), 3, qkvBias ? 11 : 12))
    })
  }
})
