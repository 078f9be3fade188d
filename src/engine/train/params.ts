/**
 * The trainable parameters of a ViTForImageClassification as llm.c lays them out: one flat buffer, a table of named
 * tensors (Hugging Face names, shapes, offsets, whether weight decay applies) and views into it. Gradients and the
 * optimizer's moments are further buffers of the same layout, so one table serves all four, and the optimizer and
 * the gradient norm walk them as plain arrays.
 *
 * Query, key and value sit next to each other (weights, then biases) so each layer's [3C, C] qkv linear is one view,
 * as the forward pass fuses them.
 */
import type {VitConfig} from '../config.js'

export interface ParamEntry {
  /** Hugging Face name, as in model.safetensors. */
  name: string
  shape: number[]
  offset: number
  size: number
  /** Whether AdamW's weight decay applies: the Trainer exempts biases and LayerNorm parameters. */
  decay: boolean
}

export interface ParamLayout {
  entries: ParamEntry[]
  /** Floats in all. */
  total: number
}

export interface VitLayerParams {
  ln1Gamma: Float32Array // (C)
  ln1Beta: Float32Array // (C)
  qkvWeight: Float32Array // (3C, C) query | key | value weights
  qkvBias: Float32Array | null // (3C) (null when qkv_bias is false)
  attnOutWeight: Float32Array // (C, C)
  attnOutBias: Float32Array // (C)
  ln2Gamma: Float32Array // (C)
  ln2Beta: Float32Array // (C)
  fc1Weight: Float32Array // (I, C)
  fc1Bias: Float32Array // (I)
  fc2Weight: Float32Array // (C, I)
  fc2Bias: Float32Array // (C)
}

export interface VitParams {
  clsToken: Float32Array // (C)
  posEmbed: Float32Array // (T, C)
  patchWeight: Float32Array // (C, ch*PH*PW)
  patchBias: Float32Array // (C)
  layers: VitLayerParams[]
  lnfGamma: Float32Array // (C)
  lnfBeta: Float32Array // (C)
  classifierWeight: Float32Array // (numLabels, C)
  classifierBias: Float32Array // (numLabels)
}

/** Parameters that never decay: every bias and every LayerNorm parameter (transformers' get_decay_parameter_names). */
function decays(name: string): boolean {
  return !name.endsWith('.bias') && !/layernorm/.test(name)
}

/** The table for `config` (numLabels rows in the classifier). */
export function vitParamLayout(config: VitConfig): ParamLayout {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW, numTokens: T, numLabels} = config
  const entries: ParamEntry[] = []
  let offset = 0
  const add = (name: string, shape: number[]): void => {
    const size = shape.reduce((a, b) => a * b, 1)
    entries.push({name, shape, offset, size, decay: decays(name)})
    offset += size
  }
  add('vit.embeddings.cls_token', [1, 1, C])
  add('vit.embeddings.position_embeddings', [1, T, C])
  add('vit.embeddings.patch_embeddings.projection.weight', [C, ch, PH, PW])
  add('vit.embeddings.patch_embeddings.projection.bias', [C])
  for (let l = 0; l < config.numLayers; l++) {
    const p = `vit.encoder.layer.${l}`
    add(`${p}.layernorm_before.weight`, [C])
    add(`${p}.layernorm_before.bias`, [C])
    for (const part of ['query', 'key', 'value']) add(`${p}.attention.attention.${part}.weight`, [C, C])
    if (config.qkvBias) for (const part of ['query', 'key', 'value']) add(`${p}.attention.attention.${part}.bias`, [C])
    add(`${p}.attention.output.dense.weight`, [C, C])
    add(`${p}.attention.output.dense.bias`, [C])
    add(`${p}.layernorm_after.weight`, [C])
    add(`${p}.layernorm_after.bias`, [C])
    add(`${p}.intermediate.dense.weight`, [I, C])
    add(`${p}.intermediate.dense.bias`, [I])
    add(`${p}.output.dense.weight`, [C, I])
    add(`${p}.output.dense.bias`, [C])
  }
  add('vit.layernorm.weight', [C])
  add('vit.layernorm.bias', [C])
  add('classifier.weight', [numLabels, C])
  add('classifier.bias', [numLabels])
  return {entries, total: offset}
}

/** Views of `buf` (params, grads or a moment buffer, `layout.total` floats) under the layout's names. */
export function vitParamViews(config: VitConfig, layout: ParamLayout, buf: Float32Array): VitParams {
  if (buf.length < layout.total) throw new RangeError(`internal: parameter buffer holds ${buf.length} floats, the layout needs ${layout.total}`)
  const byName = new Map(layout.entries.map((e) => [e.name, e]))
  const view = (name: string, count = 1): Float32Array => {
    const e = byName.get(name)
    if (!e) throw new Error(`internal: no parameter ${name} in the layout`)
    return buf.subarray(e.offset, e.offset + e.size * count)
  }
  const layers: VitLayerParams[] = []
  for (let l = 0; l < config.numLayers; l++) {
    const p = `vit.encoder.layer.${l}`
    layers.push({
      ln1Gamma: view(`${p}.layernorm_before.weight`),
      ln1Beta: view(`${p}.layernorm_before.bias`),
      qkvWeight: view(`${p}.attention.attention.query.weight`, 3),
      qkvBias: config.qkvBias ? view(`${p}.attention.attention.query.bias`, 3) : null,
      attnOutWeight: view(`${p}.attention.output.dense.weight`),
      attnOutBias: view(`${p}.attention.output.dense.bias`),
      ln2Gamma: view(`${p}.layernorm_after.weight`),
      ln2Beta: view(`${p}.layernorm_after.bias`),
      fc1Weight: view(`${p}.intermediate.dense.weight`),
      fc1Bias: view(`${p}.intermediate.dense.bias`),
      fc2Weight: view(`${p}.output.dense.weight`),
      fc2Bias: view(`${p}.output.dense.bias`),
    })
  }
  return {
    clsToken: view('vit.embeddings.cls_token'),
    posEmbed: view('vit.embeddings.position_embeddings'),
    patchWeight: view('vit.embeddings.patch_embeddings.projection.weight'),
    patchBias: view('vit.embeddings.patch_embeddings.projection.bias'),
    layers,
    lnfGamma: view('vit.layernorm.weight'),
    lnfBeta: view('vit.layernorm.bias'),
    classifierWeight: view('classifier.weight'),
    classifierBias: view('classifier.bias'),
  }
}
