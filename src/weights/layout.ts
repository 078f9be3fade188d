import {InvalidInputError} from '../core/errors.js'
import type {SourceTensor} from './source.js'

/**
 * The three naming schemes ViT weights come in and how each maps onto Hugging Face's ViTForImageClassification
 * (the canonical form vitrine writes). The mappings are in test/fixtures/FIXTURES.md:
 * - hf: `vit.embeddings.cls_token`, `vit.encoder.layer.N.attention.attention.query.weight` [out, in], ...
 * - timm: `cls_token`, `blocks.N.attn.qkv.weight` (query, key, value stacked along rows), `head.weight`, ...
 * - jax: `cls`, `Transformer/encoderblock_N/MultiHeadDotProductAttention_1/query/kernel` [hidden, heads, head_dim],
 *   `.../out/kernel` [heads, head_dim, hidden], Dense kernels [in, out], `embedding/kernel` HWIO, `head/kernel` [hidden, classes].
 */

export type Scheme = 'hf' | 'timm' | 'jax'

/** The numbers that fix every tensor's shape. */
export interface VitGeometry {
  hidden: number
  layers: number
  heads: number
  intermediate: number
  patch: number
  image: number
  channels: number
  labels: number
  qkvBias: boolean
}

/** How one canonical tensor is made from one source tensor: slice rows, view as `view`, permute axes. */
export interface Recipe {
  /** Hugging Face name and shape. */
  name: string
  shape: number[]
  source: string
  /** The shape the source tensor must have. */
  sourceShape: number[]
  /** Take `count` rows (axis 0) from `start` first (timm's fused qkv). */
  rows?: {start: number; count: number}
  /** Reinterpret the (sliced) source as this row-major shape before permuting. */
  view?: number[]
  /** out axis k = in axis perm[k]. */
  perm?: number[]
}

/** Hugging Face tensor names and shapes for a geometry, in a stable order. */
export function canonicalTensors(g: VitGeometry): Array<{name: string; shape: number[]}> {
  return recipes('hf', g).map(({name, shape}) => ({name, shape}))
}

export function recipes(scheme: Scheme, g: VitGeometry): Recipe[] {
  const C = g.hidden
  const I = g.intermediate
  const H = g.heads
  const D = C / H
  const T = (g.image / g.patch) ** 2 + 1
  const out: Recipe[] = []
  const same = (name: string, shape: number[], source: string): void => {
    out.push({name, shape, source, sourceShape: shape})
  }
  const transposed = (name: string, shape: number[], source: string, sourceShape: number[]): void => {
    out.push({name, shape, source, sourceShape, view: [shape[1], shape[0]], perm: [1, 0]})
  }
  const hfLayer = (l: number): string => `vit.encoder.layer.${l}`

  if (scheme === 'hf') {
    same('vit.embeddings.cls_token', [1, 1, C], 'vit.embeddings.cls_token')
    same('vit.embeddings.position_embeddings', [1, T, C], 'vit.embeddings.position_embeddings')
    same('vit.embeddings.patch_embeddings.projection.weight', [C, g.channels, g.patch, g.patch], 'vit.embeddings.patch_embeddings.projection.weight')
    same('vit.embeddings.patch_embeddings.projection.bias', [C], 'vit.embeddings.patch_embeddings.projection.bias')
    for (let l = 0; l < g.layers; l++) {
      const p = hfLayer(l)
      for (const n of ['query', 'key', 'value']) {
        same(`${p}.attention.attention.${n}.weight`, [C, C], `${p}.attention.attention.${n}.weight`)
        if (g.qkvBias) same(`${p}.attention.attention.${n}.bias`, [C], `${p}.attention.attention.${n}.bias`)
      }
      for (const [n, shape] of [
        ['attention.output.dense.weight', [C, C]], ['attention.output.dense.bias', [C]],
        ['intermediate.dense.weight', [I, C]], ['intermediate.dense.bias', [I]],
        ['output.dense.weight', [C, I]], ['output.dense.bias', [C]],
        ['layernorm_before.weight', [C]], ['layernorm_before.bias', [C]],
        ['layernorm_after.weight', [C]], ['layernorm_after.bias', [C]],
      ] as Array<[string, number[]]>) same(`${p}.${n}`, shape, `${p}.${n}`)
    }
    for (const [n, shape] of [
      ['vit.layernorm.weight', [C]], ['vit.layernorm.bias', [C]], ['classifier.weight', [g.labels, C]], ['classifier.bias', [g.labels]],
    ] as Array<[string, number[]]>) same(n, shape, n)
    return out
  }

  if (scheme === 'timm') {
    same('vit.embeddings.cls_token', [1, 1, C], 'cls_token')
    same('vit.embeddings.position_embeddings', [1, T, C], 'pos_embed')
    same('vit.embeddings.patch_embeddings.projection.weight', [C, g.channels, g.patch, g.patch], 'patch_embed.proj.weight')
    same('vit.embeddings.patch_embeddings.projection.bias', [C], 'patch_embed.proj.bias')
    for (let l = 0; l < g.layers; l++) {
      const p = hfLayer(l)
      const b = `blocks.${l}`
      ;['query', 'key', 'value'].forEach((n, i) => {
        out.push({name: `${p}.attention.attention.${n}.weight`, shape: [C, C], source: `${b}.attn.qkv.weight`, sourceShape: [3 * C, C], rows: {start: i * C, count: C}})
        if (g.qkvBias) out.push({name: `${p}.attention.attention.${n}.bias`, shape: [C], source: `${b}.attn.qkv.bias`, sourceShape: [3 * C], rows: {start: i * C, count: C}})
      })
      same(`${p}.attention.output.dense.weight`, [C, C], `${b}.attn.proj.weight`)
      same(`${p}.attention.output.dense.bias`, [C], `${b}.attn.proj.bias`)
      same(`${p}.intermediate.dense.weight`, [I, C], `${b}.mlp.fc1.weight`)
      same(`${p}.intermediate.dense.bias`, [I], `${b}.mlp.fc1.bias`)
      same(`${p}.output.dense.weight`, [C, I], `${b}.mlp.fc2.weight`)
      same(`${p}.output.dense.bias`, [C], `${b}.mlp.fc2.bias`)
      same(`${p}.layernorm_before.weight`, [C], `${b}.norm1.weight`)
      same(`${p}.layernorm_before.bias`, [C], `${b}.norm1.bias`)
      same(`${p}.layernorm_after.weight`, [C], `${b}.norm2.weight`)
      same(`${p}.layernorm_after.bias`, [C], `${b}.norm2.bias`)
    }
    same('vit.layernorm.weight', [C], 'norm.weight')
    same('vit.layernorm.bias', [C], 'norm.bias')
    same('classifier.weight', [g.labels, C], 'head.weight')
    same('classifier.bias', [g.labels], 'head.bias')
    return out
  }

  // jax
  same('vit.embeddings.cls_token', [1, 1, C], 'cls')
  same('vit.embeddings.position_embeddings', [1, T, C], 'Transformer/posembed_input/pos_embedding')
  out.push({
    name: 'vit.embeddings.patch_embeddings.projection.weight', shape: [C, g.channels, g.patch, g.patch],
    source: 'embedding/kernel', sourceShape: [g.patch, g.patch, g.channels, C], perm: [3, 2, 0, 1],
  })
  same('vit.embeddings.patch_embeddings.projection.bias', [C], 'embedding/bias')
  for (let l = 0; l < g.layers; l++) {
    const p = hfLayer(l)
    const b = `Transformer/encoderblock_${l}`
    const att = `${b}/MultiHeadDotProductAttention_1`
    for (const n of ['query', 'key', 'value']) {
      transposed(`${p}.attention.attention.${n}.weight`, [C, C], `${att}/${n}/kernel`, [C, H, D])
      if (g.qkvBias) out.push({name: `${p}.attention.attention.${n}.bias`, shape: [C], source: `${att}/${n}/bias`, sourceShape: [H, D], view: [C]})
    }
    transposed(`${p}.attention.output.dense.weight`, [C, C], `${att}/out/kernel`, [H, D, C])
    same(`${p}.attention.output.dense.bias`, [C], `${att}/out/bias`)
    transposed(`${p}.intermediate.dense.weight`, [I, C], `${b}/MlpBlock_3/Dense_0/kernel`, [C, I])
    same(`${p}.intermediate.dense.bias`, [I], `${b}/MlpBlock_3/Dense_0/bias`)
    transposed(`${p}.output.dense.weight`, [C, I], `${b}/MlpBlock_3/Dense_1/kernel`, [I, C])
    same(`${p}.output.dense.bias`, [C], `${b}/MlpBlock_3/Dense_1/bias`)
    same(`${p}.layernorm_before.weight`, [C], `${b}/LayerNorm_0/scale`)
    same(`${p}.layernorm_before.bias`, [C], `${b}/LayerNorm_0/bias`)
    same(`${p}.layernorm_after.weight`, [C], `${b}/LayerNorm_2/scale`)
    same(`${p}.layernorm_after.bias`, [C], `${b}/LayerNorm_2/bias`)
  }
  same('vit.layernorm.weight', [C], 'Transformer/encoder_norm/scale')
  same('vit.layernorm.bias', [C], 'Transformer/encoder_norm/bias')
  transposed('classifier.weight', [g.labels, C], 'head/kernel', [C, g.labels])
  same('classifier.bias', [g.labels], 'head/bias')
  return out
}

/** The naming scheme of a set of tensor names, by majority of recognisable prefixes; undefined when none fits. */
export function detectScheme(names: Iterable<string>): Scheme | undefined {
  const votes: Record<Scheme, number> = {hf: 0, timm: 0, jax: 0}
  for (const n of names) {
    if (n.startsWith('vit.') || n.startsWith('classifier.')) votes.hf++
    else if (/^(blocks\.\d+\.|patch_embed\.|cls_token$|pos_embed$|head\.|norm\.)/.test(n)) votes.timm++
    else if (n.startsWith('Transformer/') || n.startsWith('embedding/') || n.startsWith('head/') || n === 'cls') votes.jax++
  }
  const best = (Object.entries(votes) as Array<[Scheme, number]>).sort((a, b) => b[1] - a[1])[0]
  return best[1] > 0 ? best[0] : undefined
}

/** Heads of the standard ViT sizes (Ti, S, B, L, H), for checkpoints that do not say. */
export const STANDARD_HEADS: Readonly<Record<number, number>> = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16}

/** Where each geometry number can be read in each scheme: tensor name, and the axis. */
const PROBES: Record<Scheme, {cls: string; pos: string; patch: string; patchAxes: {ch: number; p: number}; fc1: [string, number]; head: [string, number]; qkvBias: string; layer: RegExp}> = {
  hf: {
    cls: 'vit.embeddings.cls_token', pos: 'vit.embeddings.position_embeddings',
    patch: 'vit.embeddings.patch_embeddings.projection.weight', patchAxes: {ch: 1, p: 2},
    fc1: ['vit.encoder.layer.0.intermediate.dense.weight', 0], head: ['classifier.weight', 0],
    qkvBias: 'vit.encoder.layer.0.attention.attention.query.bias', layer: /^vit\.encoder\.layer\.(\d+)\./,
  },
  timm: {
    cls: 'cls_token', pos: 'pos_embed', patch: 'patch_embed.proj.weight', patchAxes: {ch: 1, p: 2},
    fc1: ['blocks.0.mlp.fc1.weight', 0], head: ['head.weight', 0], qkvBias: 'blocks.0.attn.qkv.bias', layer: /^blocks\.(\d+)\./,
  },
  jax: {
    cls: 'cls', pos: 'Transformer/posembed_input/pos_embedding', patch: 'embedding/kernel', patchAxes: {ch: 2, p: 0},
    fc1: ['Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel', 1], head: ['head/kernel', 1],
    qkvBias: 'Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/bias', layer: /^Transformer\/encoderblock_(\d+)\//,
  },
}

/**
 * The geometry read off the tensor shapes (for a checkpoint without a config). Heads: JAX kernels say; otherwise
 * `numHeads`, or the standard ViT table for the hidden size. Every other tensor is checked against the result later.
 */
export function deriveGeometry(scheme: Scheme, tensors: ReadonlyMap<string, SourceTensor>, file: string, numHeads?: number): VitGeometry {
  const p = PROBES[scheme]
  const get = (name: string, rank: number): number[] => {
    const t = tensors.get(name)
    if (!t) throw new InvalidInputError(`${file}: tensor '${name}' is missing: without a config.json the geometry is read from it`, {file})
    if (t.shape.length !== rank) throw new InvalidInputError(`${file}: tensor '${name}' has shape [${t.shape.join(', ')}], expected ${rank} dimensions`, {file})
    return t.shape
  }
  const hidden = get(p.cls, 3)[2]
  const tokens = get(p.pos, 3)[1]
  const patchShape = get(p.patch, 4)
  const patch = patchShape[p.patchAxes.p]
  const channels = patchShape[p.patchAxes.ch]
  const intermediate = get(p.fc1[0], 2)[p.fc1[1]]
  const labels = get(p.head[0], 2)[p.head[1]]
  const grid = Math.round(Math.sqrt(tokens - 1))
  if (tokens < 2 || grid * grid !== tokens - 1) {
    throw new InvalidInputError(`${file}: tensor '${p.pos}' holds ${tokens} position embeddings, not 1 + a square grid of patches: cannot derive the image size`, {file})
  }
  let layers = 0
  for (const name of tensors.keys()) {
    const m = p.layer.exec(name)
    if (m) layers = Math.max(layers, Number(m[1]) + 1)
  }
  let heads = numHeads
  if (scheme === 'jax') {
    const q = get('Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/kernel', 3)
    if (heads !== undefined && heads !== q[1]) throw new InvalidInputError(`${file}: --num-heads ${heads} contradicts the query kernel's ${q[1]} heads (shape [${q.join(', ')}])`, {file})
    heads = q[1]
  }
  heads ??= STANDARD_HEADS[hidden]
  if (heads === undefined) {
    throw new InvalidInputError(`${file}: hidden size ${hidden} is not a standard ViT size (192, 384, 768, 1024, 1280), so the number of attention heads is unknown`, {file, hint: 'Pass --num-heads N.'})
  }
  if (hidden % heads !== 0) throw new InvalidInputError(`${file}: hidden size ${hidden} is not divisible by ${heads} heads`, {file})
  return {hidden, layers, heads, intermediate, patch, image: grid * patch, channels, labels, qkvBias: tensors.has(p.qkvBias)}
}
