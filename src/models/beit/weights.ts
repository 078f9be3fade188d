/**
 * The weights of a BeitForImageClassification as named views (Hugging Face names), with what is computed once at
 * load: query, key and value fused into one [3C, C] linear (the key has no bias: zeros), lambda_1 / lambda_2 folded into
 * the attention output and second MLP linears, and each relative position bias table expanded to the [NH, T, T]
 * bias its attention adds.
 */
import type {Backend, Linear} from '../../engine/backend.js'
import {type EncoderLayerWeights, prepareEncoderLayer} from '../encoder.js'
import type {BeitConfig} from './config.js'
import type {BeitParameters} from './tensors.js'


export interface BeitWeights {
  patchEmbed: Linear // (C, ch*PH*PW)
  clsToken: Float32Array // (C)
  posEmbed: Float32Array | null // (T, C) absolute position embeddings
  layers: EncoderLayerWeights[]
  /** pooler.layernorm (mean pooling) or the final beit.layernorm (CLS pooling). */
  headGamma: Float32Array
  headBeta: Float32Array
  classifier: Linear // (numLabels, C)
  numParameters: number
}

/**
 * BeitRelativePositionBias's relative_position_index for a Wh x Ww grid: index[i * T + j] is the row of the table
 * whose bias token i adds to its score of token j, tokens being [CLS] then the patches row-major; two patches give
 * (dy + Wh - 1) * (2 Ww - 1) + (dx + Ww - 1) with dy = yi - yj; the last three rows of the table are [CLS] -> patch,
 * patch -> [CLS] and [CLS] -> [CLS].
 */
export function beitRelativePositionIndex(Wh: number, Ww: number): Int32Array {
  const T = Wh * Ww + 1
  const numRel = (2 * Wh - 1) * (2 * Ww - 1) + 3
  const out = new Int32Array(T * T)
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
    let r: number
    if (i === 0 && j === 0) r = numRel - 1
    else if (i === 0) r = numRel - 3
    else if (j === 0) r = numRel - 2
    else {
      const yi = Math.floor((i - 1) / Ww), xi = (i - 1) % Ww
      const yj = Math.floor((j - 1) / Ww), xj = (j - 1) % Ww
      r = (yi - yj + Wh - 1) * (2 * Ww - 1) + (xi - xj + Ww - 1)
    }
    out[i * T + j] = r
  }
  return out
}

/** The [NH, T, T] bias a table [numRel, NH] gives on a Wh x Ww grid: out[h, i, j] = table[index(i, j), h]. */
export function beitRelativeBias(out: Float32Array, table: Float32Array, NH: number, Wh: number, Ww: number): void {
  const index = beitRelativePositionIndex(Wh, Ww)
  const TT = index.length
  for (let k = 0; k < TT; k++) for (let h = 0; h < NH; h++) out[h * TT + k] = table[index[k] * NH + h]
}

/** The weights the forward pass runs, from parameters whose views are filled: folded, expanded, linears prepared. */
export function prepareBeitWeights(p: BeitParameters, config: BeitConfig, backend: Backend): BeitWeights {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW, numTokens: T, numHeads: NH, numLabels} = config
  const {plan, patchWeight, patchBias, clsToken, posEmbed, sharedTable, raw, headGamma, headBeta, classifierWeight, classifierBias} = p

  const expand = (table: Float32Array): Float32Array => {
    const bias = backend.alloc(NH * T * T)
    beitRelativeBias(bias, table, NH, config.gridHeight, config.gridWidth)
    return bias
  }
  const shared = sharedTable ? expand(sharedTable) : null
  const layers = raw.map((r): EncoderLayerWeights => {
    // BeitSelfAttention adds its own table's bias, then the shared one: with both, their sum.
    let relBias = r.table ? expand(r.table) : null
    if (relBias && shared) for (let i = 0; i < relBias.length; i++) relBias[i] += shared[i]
    else if (shared) relBias = shared
    return prepareEncoderLayer(backend, r, relBias, C, I)
  })
  return {
    patchEmbed: backend.prepareLinear(patchWeight, patchBias, C, ch * PH * PW),
    clsToken,
    posEmbed,
    layers,
    headGamma,
    headBeta,
    classifier: backend.prepareLinear(classifierWeight, classifierBias, numLabels, C),
    numParameters: plan.numParameters,
  }
}
