/**
 * Dinov2ForImageClassification as a training model: the shared encoder trainer (src/engine/train/encoder-train.ts)
 * over the family's parameter layout (tensors.ts) with both layer scales trained, the head on concat([CLS], mean of
 * the patch tokens) after the final LayerNorm of every token, and the position embeddings resampled to the input grid
 * at every step as the serving transformers version does it (weights.ts), their gradient taken back through the
 * resampling to the trained grid. The mask token is in the checkpoint but not in the forward pass: it is not trained.
 */
import {createEncoderTrainModel, encoderViewsOf, type EncoderDerived} from '../../engine/train/encoder-train.js'
import type {TrainKernels} from '../../engine/train/kernels.js'
import type {TrainModel} from '../../engine/train/model.js'
import type {ServingContext} from '../family.js'
import {bicubicResizeBackward} from '../ops.js'
import type {Dinov2Config} from './config.js'
import {type Dinov2Parameters, dinov2Parameters} from './tensors.js'
import {interpolatePositions, interpolatesByScaleFactor, positionResampling} from './weights.js'

const MASK_TOKEN = 'dinov2.embeddings.mask_token'

export function createDinov2TrainModel(config: Dinov2Config, kernels: TrainKernels, maxBatch: number, serving: ServingContext): TrainModel {
  const {hiddenSize: C, numPositions: N} = config
  const GH = Math.floor(serving.inputHeight / config.patchHeight)
  const GW = Math.floor(serving.inputWidth / config.patchWidth)
  const byScaleFactor = interpolatesByScaleFactor(serving.transformersVersion)
  const resampling = positionResampling(N, GH, GW, byScaleFactor, serving.weightsFile)

  const derived = (p: Dinov2Parameters, g: Dinov2Parameters, alloc: (n: number) => Float32Array): EncoderDerived => {
    // the trained grid is the input grid: the positions are the parameter itself
    if (!resampling) return {pos: {value: p.trainedPos, grad: g.trainedPos}, relBias: [], compute() {}, fold() {}}
    const pos = {value: alloc((1 + GH * GW) * C), grad: alloc((1 + GH * GW) * C)}
    return {
      pos,
      relBias: [],
      compute: () => interpolatePositions(pos.value, p.trainedPos, N, C, GH, GW, byScaleFactor, serving.weightsFile),
      fold() {
        // [CLS]'s position is copied; the patch positions are the bicubic resampling of the S x S grid
        for (let c = 0; c < C; c++) g.trainedPos[c] += pos.grad[c]
        const {S, ratioH, ratioW} = resampling
        bicubicResizeBackward(g.trainedPos.subarray(C), pos.grad.subarray(C), C, S, S, GH, GW, ratioH, ratioW)
        pos.grad.fill(0)
      },
    }
  }

  return createEncoderTrainModel<Dinov2Parameters>(
    {
      geometry: {...config, inputHeight: serving.inputHeight, inputWidth: serving.inputWidth, gridHeight: GH, gridWidth: GW},
      head: {pool: 'cls+mean', norm: 'tokens'},
      lay: (alloc) => {
        const p = dinov2Parameters(config, alloc)
        return {tensors: p.plan.tensors, views: p}
      },
      untrained: new Set([MASK_TOKEN]),
      views: (v) => encoderViewsOf(v, v.lnfGamma, v.lnfBeta),
      derived,
      headInit: 'truncated-normal',
    },
    kernels,
    maxBatch,
  )
}
