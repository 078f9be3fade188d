/**
 * The weights of a BeitForImageClassification as named views (Hugging Face names), with what is computed once at
 * load: query, key and value fused into one [3C, C] linear (the key has no bias: zeros), lambda_1 / lambda_2 folded into
 * the attention output and second MLP linears, and each relative position bias table expanded to the [NH, T, T]
 * bias its attention adds.
 */
import type {Backend, Linear} from '../../engine/backend.js'
import type {EncoderLayerWeights} from '../encoder.js'
import {TensorPlan, foldRowScale} from '../tensors.js'
import type {BeitConfig} from './config.js'


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
 * BeitRelativePositionBias for a Wh x Ww grid: out[h, i, j] = table[index(i, j), h] where tokens are [CLS] then the
 * patches row-major; index of two patches = (dy + Wh - 1) * (2 Ww - 1) + (dx + Ww - 1) with dy = yi - yj; the last
 * three rows of the table are [CLS] -> patch, patch -> [CLS] and [CLS] -> [CLS].
 */
export function beitRelativeBias(out: Float32Array, table: Float32Array, NH: number, Wh: number, Ww: number): void {
  const N = Wh * Ww
  const T = N + 1
  const numRel = (2 * Wh - 1) * (2 * Ww - 1) + 3
  const index = (i: number, j: number): number => {
    if (i === 0 && j === 0) return numRel - 1
    if (i === 0) return numRel - 3
    if (j === 0) return numRel - 2
    const yi = Math.floor((i - 1) / Ww), xi = (i - 1) % Ww
    const yj = Math.floor((j - 1) / Ww), xj = (j - 1) % Ww
    return (yi - yj + Wh - 1) * (2 * Ww - 1) + (xi - xj + Ww - 1)
  }
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
    const r = index(i, j)
    for (let h = 0; h < NH; h++) out[(h * T + i) * T + j] = table[r * NH + h]
  }
}

export async function loadBeitWeights(file: string, config: BeitConfig, backend: Backend): Promise<BeitWeights> {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW, numTokens: T, numHeads: NH, numLabels} = config
  const plan = new TensorPlan(backend)
  const numRel = (2 * config.gridHeight - 1) * (2 * config.gridWidth - 1) + 3
  const patchWeight = plan.want('beit.embeddings.patch_embeddings.projection.weight', [C, ch, PH, PW])
  const patchBias = plan.want('beit.embeddings.patch_embeddings.projection.bias', [C])
  const clsToken = plan.want('beit.embeddings.cls_token', [1, 1, C])
  const posEmbed = config.absolutePositions ? plan.want('beit.embeddings.position_embeddings', [1, T, C]) : null
  const sharedTable = config.sharedRelativeBias ? plan.want('beit.encoder.relative_position_bias.relative_position_bias_table', [numRel, NH]) : null
  const raw = Array.from({length: config.numLayers}, (_, l) => {
    const p = `beit.encoder.layer.${l}`
    const qkvWeight = backend.alloc(3 * C * C)
    const qkvBias = backend.alloc(3 * C) // the key's third stays zero: BEiT's key has no bias
    plan.want(`${p}.attention.attention.query.weight`, [C, C], qkvWeight.subarray(0, C * C))
    plan.want(`${p}.attention.attention.key.weight`, [C, C], qkvWeight.subarray(C * C, 2 * C * C))
    plan.want(`${p}.attention.attention.value.weight`, [C, C], qkvWeight.subarray(2 * C * C))
    plan.want(`${p}.attention.attention.query.bias`, [C], qkvBias.subarray(0, C))
    plan.want(`${p}.attention.attention.value.bias`, [C], qkvBias.subarray(2 * C))
    return {
      qkvWeight,
      qkvBias,
      table: config.relativeBias ? plan.want(`${p}.attention.attention.relative_position_bias.relative_position_bias_table`, [numRel, NH]) : null,
      ln1Gamma: plan.want(`${p}.layernorm_before.weight`, [C]),
      ln1Beta: plan.want(`${p}.layernorm_before.bias`, [C]),
      outWeight: plan.want(`${p}.attention.output.dense.weight`, [C, C]),
      outBias: plan.want(`${p}.attention.output.dense.bias`, [C]),
      ln2Gamma: plan.want(`${p}.layernorm_after.weight`, [C]),
      ln2Beta: plan.want(`${p}.layernorm_after.bias`, [C]),
      fc1Weight: plan.want(`${p}.intermediate.dense.weight`, [I, C]),
      fc1Bias: plan.want(`${p}.intermediate.dense.bias`, [I]),
      fc2Weight: plan.want(`${p}.output.dense.weight`, [C, I]),
      fc2Bias: plan.want(`${p}.output.dense.bias`, [C]),
      lambda1: config.layerScale ? plan.want(`${p}.lambda_1`, [C]) : null,
      lambda2: config.layerScale ? plan.want(`${p}.lambda_2`, [C]) : null,
    }
  })
  const headGamma = plan.want(config.meanPooling ? 'beit.pooler.layernorm.weight' : 'beit.layernorm.weight', [C])
  const headBeta = plan.want(config.meanPooling ? 'beit.pooler.layernorm.bias' : 'beit.layernorm.bias', [C])
  const classifierWeight = plan.want('classifier.weight', [numLabels, C])
  const classifierBias = plan.want('classifier.bias', [numLabels])
  await plan.read(file)

  const expand = (table: Float32Array): Float32Array => {
    const bias = backend.alloc(NH * T * T)
    beitRelativeBias(bias, table, NH, config.gridHeight, config.gridWidth)
    return bias
  }
  const shared = sharedTable ? expand(sharedTable) : null
  const layers = raw.map((r): EncoderLayerWeights => {
    if (r.lambda1) foldRowScale(r.outWeight, r.outBias, r.lambda1, C, C)
    if (r.lambda2) foldRowScale(r.fc2Weight, r.fc2Bias, r.lambda2, C, I)
    // BeitSelfAttention adds its own table's bias, then the shared one: with both, their sum.
    let relBias = r.table ? expand(r.table) : null
    if (relBias && shared) for (let i = 0; i < relBias.length; i++) relBias[i] += shared[i]
    else if (shared) relBias = shared
    return {
      ln1Gamma: r.ln1Gamma,
      ln1Beta: r.ln1Beta,
      qkv: backend.prepareLinear(r.qkvWeight, r.qkvBias, 3 * C, C),
      attnOut: backend.prepareLinear(r.outWeight, r.outBias, C, C),
      ln2Gamma: r.ln2Gamma,
      ln2Beta: r.ln2Beta,
      fc1: backend.prepareLinear(r.fc1Weight, r.fc1Bias, I, C),
      fc2: backend.prepareLinear(r.fc2Weight, r.fc2Bias, C, I),
      relBias,
    }
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
