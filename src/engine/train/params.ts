/**
 * The trainable parameters of a ViTForImageClassification as llm.c lays them out: one flat buffer, a table of named
 * tensors (Hugging Face names, shapes, offsets, whether weight decay applies) and views into it. Gradients and the
 * optimizer's moments are further buffers of the same layout, so one table serves all four, and the optimizer and
 * the gradient norm walk them as plain arrays.
 *
 * The layout is the model family's (src/models/vit/parameters.ts, with a flat allocator): the same views the engine's
 * forward pass reads, query, key and value next to each other so each layer's [3C, C] qkv linear is one view.
 */
import type {VitConfig} from '../../models/vit/config.js'
import {type VitLayerParameters, type VitParameters, allocVitParameters, flatAllocator} from '../../models/vit/parameters.js'

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

export type VitLayerParams = VitLayerParameters
export type VitParams = VitParameters

/** The table for `config` (numLabels rows in the classifier): the family's tensors in memory order. */
export function vitParamLayout(config: VitConfig): ParamLayout {
  // Listing the tensors needs no memory: zero-length views, then offsets as the running sum in memory order.
  const {tensors} = allocVitParameters(config, () => new Float32Array(0))
  const entries: ParamEntry[] = []
  let offset = 0
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1)
    entries.push({name: t.name, shape: t.shape, offset, size, decay: t.decay})
    offset += size
  }
  return {entries, total: offset}
}

/** Views of `buf` (params, grads or a moment buffer, `layout.total` floats) under the layout's names. */
export function vitParamViews(config: VitConfig, layout: ParamLayout, buf: Float32Array): VitParams {
  if (buf.length < layout.total) throw new RangeError(`internal: parameter buffer holds ${buf.length} floats, the layout needs ${layout.total}`)
  const {params, tensors} = allocVitParameters(config, flatAllocator(buf))
  tensors.forEach((t, i) => {
    const offset = (t.view.byteOffset - buf.byteOffset) / 4
    if (offset !== layout.entries[i].offset || t.name !== layout.entries[i].name) throw new Error(`internal: ${t.name} is not where the layout puts it`)
  })
  return params
}
