/**
 * The trainable parameters of a model as llm.c lays them out: one flat buffer, a table of named tensors (Hugging Face
 * names, shapes, offsets, whether weight decay applies, whether they train at all) and views into it. Gradients and
 * the optimizer's moments are further buffers of the same layout, so one table serves all four, and the optimizer and
 * the gradient norm walk them as plain arrays.
 *
 * The layout is the model family's own: its parameter function (the one the engine's forward pass loads through, e.g.
 * `dinov2Parameters`) run with a bump allocator over the flat buffer, so training and inference read the same views.
 * A family may reserve floats no tensor fills (BEiT's key, which has no bias, is a zero third of the fused qkv bias):
 * they are no parameter, stay zero and are left out of the optimizer and the gradient norm.
 */
import type {ParameterTensor} from '../../models/parameter-tensor.js'

export interface ParamEntry {
  /** Hugging Face name, as in model.safetensors. */
  name: string
  shape: number[]
  offset: number
  size: number
  /** Whether AdamW's weight decay applies: the Trainer exempts biases and LayerNorm parameters. */
  decay: boolean
  /**
   * False for a tensor of the checkpoint the forward pass never reads (DINOv2's mask token): PyTorch leaves its
   * gradient None, so the optimizer skips it (no weight decay either); it is saved as loaded.
   */
  trained: boolean
}

export interface ParamLayout {
  entries: ParamEntry[]
  /** Floats in all (entries and the floats no entry covers). */
  total: number
}

/** A contiguous run of the flat buffers. */
export interface FlatRange {
  offset: number
  size: number
}

/** A family's parameter function: lays its tensors out with `alloc`; returns them and its named views. */
export type LayParameters<V> = (alloc: (n: number) => Float32Array) => {tensors: readonly ParameterTensor[]; views: V}

export interface FlatParameters<V> {
  layout: ParamLayout
  params: Float32Array
  grads: Float32Array
  /** The family's views into params and into grads (the same structure, the same offsets). */
  p: V
  g: V
}

/**
 * Runs `lay` over a flat params buffer and a flat grads buffer from `alloc` (a counting pass first sizes them) and
 * reads the table off the views' offsets. `untrained` names tensors the forward pass does not read.
 */
export function createFlatParameters<V>(alloc: (n: number) => Float32Array, lay: LayParameters<V>, untrained: ReadonlySet<string> = new Set()): FlatParameters<V> {
  let total = 0
  lay((n) => {
    total += n
    return new Float32Array(0)
  })
  const params = alloc(total)
  const grads = alloc(total)
  const a = lay(flatAllocator(params))
  const b = lay(flatAllocator(grads))
  const entries = a.tensors.map((t, i): ParamEntry => {
    const size = t.shape.reduce((x, y) => x * y, 1)
    const offset = (t.view.byteOffset - params.byteOffset) / 4
    const twin = b.tensors[i]
    if (t.view.buffer !== params.buffer || t.view.length !== size || twin.name !== t.name || (twin.view.byteOffset - grads.byteOffset) / 4 !== offset) {
      throw new Error(`internal: ${t.name} is not laid out alike in the parameter and gradient buffers`)
    }
    return {name: t.name, shape: t.shape, offset, size, decay: t.decay, trained: !untrained.has(t.name)}
  })
  return {layout: {entries, total}, params, grads, p: a.views, g: b.views}
}

/** The trained entries as ranges of like decay, in memory order, adjacent ones merged. */
export function trainedRanges(layout: ParamLayout): Array<FlatRange & {decay: boolean}> {
  const sorted = layout.entries.filter((e) => e.trained).sort((x, y) => x.offset - y.offset)
  const ranges: Array<FlatRange & {decay: boolean}> = []
  for (const e of sorted) {
    const last = ranges.at(-1)
    if (last && last.decay === e.decay && last.offset + last.size === e.offset) last.size += e.size
    else ranges.push({offset: e.offset, size: e.size, decay: e.decay})
  }
  return ranges
}

/** The floats of the buffers no trained entry covers (their gradients are zeroed before the norm and the step). */
export function untrainedRanges(layout: ParamLayout): FlatRange[] {
  const gaps: FlatRange[] = []
  let at = 0
  for (const r of trainedRanges(layout)) {
    if (r.offset > at) gaps.push({offset: at, size: r.offset - at})
    at = Math.max(at, r.offset + r.size)
  }
  if (at < layout.total) gaps.push({offset: at, size: layout.total - at})
  return gaps
}

/**
 * An allocator handing out consecutive views of `buf`: parameters, gradients and optimizer moments laid out in flat
 * buffers of one layout. Under it a family's parameter allocation (e.g. `allocVitParameters`) lists its tensors in memory order.
 */
export function flatAllocator(buf: Float32Array): (n: number) => Float32Array {
  let offset = 0
  return (n) => {
    if (offset + n > buf.length) throw new RangeError(`internal: parameter buffer holds ${buf.length} floats, more are needed`)
    const view = buf.subarray(offset, offset + n)
    offset += n
    return view
  }
}
