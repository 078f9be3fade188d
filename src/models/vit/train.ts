/**
 * ViTForImageClassification as a training model: the shared encoder trainer (src/engine/train/encoder-train.ts) over
 * the family's own parameter layout (parameters.ts), position embeddings trained as they are, the head on the final
 * LayerNorm of [CLS].
 */
import {createEncoderTrainModel} from '../../engine/train/encoder-train.js'
import type {TrainKernels} from '../../engine/train/kernels.js'
import type {TrainModel} from '../../engine/train/model.js'
import type {VitConfig} from './config.js'
import {allocVitParameters, type VitParameters} from './parameters.js'

export function createVitTrainModel(config: VitConfig, kernels: TrainKernels, maxBatch: number): TrainModel {
  return createEncoderTrainModel<VitParameters>(
    {
      geometry: {...config, inputHeight: config.imageHeight, inputWidth: config.imageWidth},
      head: {pool: 'cls', norm: 'pooled'},
      lay: (alloc) => {
        const {params, tensors} = allocVitParameters(config, alloc)
        return {tensors, views: params}
      },
      views: (v) => ({
        patchWeight: v.patchWeight,
        patchBias: v.patchBias,
        clsToken: v.clsToken,
        layers: v.layers.map((l) => ({...l, outWeight: l.attnOutWeight, outBias: l.attnOutBias, lambda1: null, lambda2: null})),
        headGamma: v.lnfGamma,
        headBeta: v.lnfBeta,
        classifierWeight: v.classifierWeight,
        classifierBias: v.classifierBias,
      }),
      derived: (p, g) => ({pos: {value: p.posEmbed, grad: g.posEmbed}, relBias: [], compute() {}, fold() {}}),
      headInit: 'truncated-normal',
    },
    kernels,
    maxBatch,
  )
}
