/**
 * BeitForImageClassification as a training model: the shared encoder trainer (src/engine/train/encoder-train.ts) over
 * the family's parameter layout (tensors.ts: the key's bias is a reserved zero, never trained), both layer scales
 * trained, the head on LayerNorm(mean of the patch tokens) (or the final LayerNorm of [CLS]), and the relative position
 * bias: each table (per layer, shared, or both summed) expanded to the [NH, T, T] bias its attention adds at every
 * step, the bias's gradient scattered back onto the table rows it was read from.
 */
import {createEncoderTrainModel, encoderViewsOf, type DerivedTensor, type EncoderDerived} from '../../engine/train/encoder-train.js'
import type {TrainKernels} from '../../engine/train/kernels.js'
import type {TrainModel} from '../../engine/train/model.js'
import type {BeitConfig} from './config.js'
import {type BeitParameters, beitParameters} from './tensors.js'
import {beitRelativePositionIndex} from './weights.js'

const MASK_TOKEN = 'beit.embeddings.mask_token'

// bias[NH, T, T] (+)= table[index[i, j], h]; T*T = index.length
function gatherBias(bias: Float32Array, table: Float32Array, index: Int32Array, NH: number, add: boolean): void {
  const TT = index.length
  for (let i = 0; i < TT; i++) {
    const r = index[i] * NH
    for (let h = 0; h < NH; h++) {
      const o = h * TT + i
      bias[o] = add ? bias[o] + table[r + h] : table[r + h]
    }
  }
}

// dtable[index[i, j], h] += dbias[h, i, j]   (the adjoint of gatherBias)
export function scatterBiasGrad(dtable: Float32Array, dbias: Float32Array, index: Int32Array, NH: number): void {
  const TT = index.length
  for (let i = 0; i < TT; i++) {
    const r = index[i] * NH
    for (let h = 0; h < NH; h++) dtable[r + h] += dbias[h * TT + i]
  }
}

export function createBeitTrainModel(config: BeitConfig, kernels: TrainKernels, maxBatch: number): TrainModel {
  const {numHeads: NH, numTokens: T} = config
  const index = beitRelativePositionIndex(config.gridHeight, config.gridWidth)

  const derived = (p: BeitParameters, g: BeitParameters, alloc: (n: number) => Float32Array): EncoderDerived => {
    const bias = (): DerivedTensor => ({value: alloc(NH * T * T), grad: alloc(NH * T * T)})
    // with only the shared table, every layer reads (and accumulates the gradient of) one bias
    const shared = p.sharedTable && !config.relativeBias ? bias() : null
    const relBias = p.raw.map((r) => (r.table ? bias() : shared))
    return {
      pos: p.posEmbed && g.posEmbed ? {value: p.posEmbed, grad: g.posEmbed} : null,
      relBias,
      compute() {
        if (shared && p.sharedTable) gatherBias(shared.value, p.sharedTable, index, NH, false)
        p.raw.forEach((r, l) => {
          const b = relBias[l]
          if (!r.table || !b) return
          // BeitSelfAttention adds its own table's bias, then the shared one
          gatherBias(b.value, r.table, index, NH, false)
          if (p.sharedTable) gatherBias(b.value, p.sharedTable, index, NH, true)
        })
      },
      fold() {
        if (shared && g.sharedTable) {
          scatterBiasGrad(g.sharedTable, shared.grad, index, NH)
          shared.grad.fill(0)
        }
        g.raw.forEach((r, l) => {
          const b = relBias[l]
          if (!r.table || !b) return
          scatterBiasGrad(r.table, b.grad, index, NH)
          if (g.sharedTable) scatterBiasGrad(g.sharedTable, b.grad, index, NH)
          b.grad.fill(0)
        })
      },
    }
  }

  return createEncoderTrainModel<BeitParameters>(
    {
      geometry: {...config, inputHeight: config.imageHeight, inputWidth: config.imageWidth},
      head: {pool: config.meanPooling ? 'mean' : 'cls', norm: 'pooled'},
      lay: (alloc) => {
        const p = beitParameters(config, alloc)
        return {tensors: p.plan.tensors, views: p}
      },
      untrained: new Set([MASK_TOKEN]),
      views: (v) => encoderViewsOf(v, v.headGamma, v.headBeta),
      derived,
      headInit: 'normal',
    },
    kernels,
    maxBatch,
  )
}
