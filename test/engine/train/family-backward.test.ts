/**
 * The DINOv2 and BEiT training models' backward passes against central finite differences of the loss, for EVERY
 * parameter of small models of odd geometry: DINOv2 with its position grid resampled to another input grid (both
 * transformers forms) and unchanged, layer scales, [CLS] | mean head; BEiT with relative position bias per layer,
 * shared, or both, absolute positions, mean or [CLS] pooling, with and without layer scale, the key without bias.
 */
import {describe, expect, it} from 'vitest'

import type {BeitConfig} from '../../../src/models/beit/config.js'
import {createBeitTrainModel} from '../../../src/models/beit/train.js'
import type {Dinov2Config} from '../../../src/models/dinov2/config.js'
import {createDinov2TrainModel} from '../../../src/models/dinov2/train.js'
import {checkModelGradients, TRAIN_KERNELS, withKernels} from './model-gradients.js'

function dinov2Config(): Dinov2Config {
  // trained grid 2x2 (image 6x6, patch 3); hidden 6, 2 heads, intermediate 5 (mlp_ratio 5/6)
  return {
    hiddenSize: 6,
    numLayers: 2,
    numHeads: 2,
    intermediateSize: 5,
    patchHeight: 3,
    patchWidth: 3,
    imageHeight: 6,
    imageWidth: 6,
    numChannels: 3,
    numLabels: 3,
    maskToken: true,
    layerNormEps: 1e-6,
    qkvBias: true,
    numPositions: 4,
    transformersVersion: undefined,
  }
}

function beitConfig(over: Partial<BeitConfig>): BeitConfig {
  // image 7x5, patch 3x2: a 2x2 grid, the last pixel row and column dropped
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
    maskToken: false,
    layerNormEps: 1e-12,
    absolutePositions: false,
    relativeBias: true,
    sharedRelativeBias: false,
    layerScale: true,
    meanPooling: true,
    gridHeight: 2,
    gridWidth: 2,
    numPatches: 4,
    numTokens: 5,
    ...over,
  }
}

describe.each(TRAIN_KERNELS)('DINOv2 backward vs finite differences (%s kernels)', (_, make) => {
  const serving = (size: number, transformersVersion?: string) => ({inputHeight: size, inputWidth: size, transformersVersion, weightsFile: 'model.safetensors'})
  it('positions resampled 2x2 -> 3x3 (transformers >= 4.45: size=)', async () => {
    await withKernels(make, (k) => {
      const model = createDinov2TrainModel(dinov2Config(), k, 2, serving(10))
      expect(model.inputHeight).toBe(10)
      checkModelGradients(model, 2, 21)
    })
  })
  it('positions resampled 2x2 -> 3x3 (transformers 4.44: scale_factor=)', async () => {
    await withKernels(make, (k) => checkModelGradients(createDinov2TrainModel(dinov2Config(), k, 2, serving(9, '4.44.2')), 2, 22))
  })
  it('positions as trained (input grid = trained grid), no qkv bias', async () => {
    await withKernels(make, (k) => checkModelGradients(createDinov2TrainModel({...dinov2Config(), qkvBias: false}, k, 3, serving(6)), 3, 23))
  })
})

describe.each(TRAIN_KERNELS)('BEiT backward vs finite differences (%s kernels)', (_, make) => {
  const cases: Array<[string, Partial<BeitConfig>]> = [
    ['relative bias per layer, layer scale, mean pooling', {}],
    ['one shared relative bias table, absolute positions, [CLS] pooling', {relativeBias: false, sharedRelativeBias: true, absolutePositions: true, meanPooling: false}],
    ['both tables, no layer scale, mask token in the checkpoint', {sharedRelativeBias: true, layerScale: false, maskToken: true}],
  ]
  cases.forEach(([name, over], i) => {
    it(name, async () => {
      await withKernels(make, (k) => {
        const model = createBeitTrainModel(beitConfig(over), k, 2)
        checkModelGradients(model, 2, 31 + i)
        // the key has no bias: the third of the fused qkv bias that would be it is no parameter, and stays zero
        expect(model.layout.entries.some((e) => e.name.includes('key.bias'))).toBe(false)
      })
    })
  })
})
