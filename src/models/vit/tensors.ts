/**
 * The ViT's tensor table: every tensor of a Hugging Face ViTForImageClassification with its shape, and how each is
 * made from the three naming schemes ViT weights come in. This is the only file that spells the Hugging Face tensor
 * names (a test checks it); the parameter views, the ONNX graph and `convert` take them from here.
 * The mappings are in test/fixtures/FIXTURES.md:
 * - hf: `vit.embeddings.cls_token`, `vit.encoder.layer.N.attention.attention.query.weight` [out, in], ...
 * - timm: `cls_token`, `blocks.N.attn.qkv.weight` (query, key, value stacked along rows), `head.weight`, ...
 * - jax: `cls`, `Transformer/encoderblock_N/MultiHeadDotProductAttention_1/query/kernel` [hidden, heads, head_dim],
 *   `.../out/kernel` [heads, head_dim, hidden], Dense kernels [in, out], `embedding/kernel` HWIO, `head/kernel` [hidden, classes].
 */
import {InvalidInputError} from '../../core/errors.js'
import {checkGeometry} from '../geometry-limits.js'
import type {SourceTensor} from '../../weights/source.js'
import type {SourceScheme, TensorRecipe} from '../family.js'
import type {VitConfig} from './config.js'

/** The Hugging Face names of a layer's weight and bias (a linear layer's, or a LayerNorm's gamma and beta). */
export interface WeightBiasNames {
  weight: string
  bias: string
}

export interface VitLayerTensorNames {
  /** `vit.encoder.layer.N`: the ONNX export names the layer's nodes after it. */
  prefix: string
  layernormBefore: WeightBiasNames
  query: WeightBiasNames
  key: WeightBiasNames
  value: WeightBiasNames
  attentionOutput: WeightBiasNames
  layernormAfter: WeightBiasNames
  intermediate: WeightBiasNames
  output: WeightBiasNames
}

/** Every Hugging Face tensor name of a ViTForImageClassification, by role. */
export interface VitTensorNames {
  patchEmbedding: WeightBiasNames
  clsToken: string
  positionEmbeddings: string
  layers: VitLayerTensorNames[]
  layernorm: WeightBiasNames
  classifier: WeightBiasNames
}

const pair = (prefix: string): WeightBiasNames => ({weight: `${prefix}.weight`, bias: `${prefix}.bias`})

export function vitTensorNames(numLayers: number): VitTensorNames {
  return {
    patchEmbedding: pair('vit.embeddings.patch_embeddings.projection'),
    clsToken: 'vit.embeddings.cls_token',
    positionEmbeddings: 'vit.embeddings.position_embeddings',
    layers: Array.from({length: numLayers}, (_, l) => {
      const p = `vit.encoder.layer.${l}`
      return {
        prefix: p,
        layernormBefore: pair(`${p}.layernorm_before`),
        query: pair(`${p}.attention.attention.query`),
        key: pair(`${p}.attention.attention.key`),
        value: pair(`${p}.attention.attention.value`),
        attentionOutput: pair(`${p}.attention.output.dense`),
        layernormAfter: pair(`${p}.layernorm_after`),
        intermediate: pair(`${p}.intermediate.dense`),
        output: pair(`${p}.output.dense`),
      }
    }),
    layernorm: pair('vit.layernorm'),
    classifier: pair('classifier'),
  }
}

/** Recipes for every canonical tensor of `c`, made from `scheme`'s tensors, in a stable order. */
export function vitTensorTable(c: VitConfig, scheme: SourceScheme = 'hf'): TensorRecipe[] {
  const C = c.hiddenSize
  const I = c.intermediateSize
  const H = c.numHeads
  const D = C / H
  const L = c.numLabels
  const {numChannels: ch, patchHeight: PH, patchWidth: PW, numTokens: T} = c
  const n = vitTensorNames(c.numLayers)
  const out: TensorRecipe[] = []
  const same = (name: string, shape: number[], source: string = name): void => {
    out.push({name, shape, source, sourceShape: shape})
  }
  const transposed = (name: string, shape: number[], source: string, sourceShape: number[]): void => {
    out.push({name, shape, source, sourceShape, view: [shape[1], shape[0]], perm: [1, 0]})
  }

  if (scheme === 'hf') {
    same(n.clsToken, [1, 1, C])
    same(n.positionEmbeddings, [1, T, C])
    same(n.patchEmbedding.weight, [C, ch, PH, PW])
    same(n.patchEmbedding.bias, [C])
    for (const layer of n.layers) {
      for (const qkv of [layer.query, layer.key, layer.value]) {
        same(qkv.weight, [C, C])
        if (c.qkvBias) same(qkv.bias, [C])
      }
      same(layer.attentionOutput.weight, [C, C])
      same(layer.attentionOutput.bias, [C])
      same(layer.intermediate.weight, [I, C])
      same(layer.intermediate.bias, [I])
      same(layer.output.weight, [C, I])
      same(layer.output.bias, [C])
      same(layer.layernormBefore.weight, [C])
      same(layer.layernormBefore.bias, [C])
      same(layer.layernormAfter.weight, [C])
      same(layer.layernormAfter.bias, [C])
    }
    same(n.layernorm.weight, [C])
    same(n.layernorm.bias, [C])
    same(n.classifier.weight, [L, C])
    same(n.classifier.bias, [L])
    return out
  }

  if (scheme === 'timm') {
    same(n.clsToken, [1, 1, C], 'cls_token')
    same(n.positionEmbeddings, [1, T, C], 'pos_embed')
    same(n.patchEmbedding.weight, [C, ch, PH, PW], 'patch_embed.proj.weight')
    same(n.patchEmbedding.bias, [C], 'patch_embed.proj.bias')
    n.layers.forEach((layer, l) => {
      const b = `blocks.${l}`
      ;[layer.query, layer.key, layer.value].forEach((qkv, i) => {
        out.push({name: qkv.weight, shape: [C, C], source: `${b}.attn.qkv.weight`, sourceShape: [3 * C, C], rows: {start: i * C, count: C}})
        if (c.qkvBias) out.push({name: qkv.bias, shape: [C], source: `${b}.attn.qkv.bias`, sourceShape: [3 * C], rows: {start: i * C, count: C}})
      })
      same(layer.attentionOutput.weight, [C, C], `${b}.attn.proj.weight`)
      same(layer.attentionOutput.bias, [C], `${b}.attn.proj.bias`)
      same(layer.intermediate.weight, [I, C], `${b}.mlp.fc1.weight`)
      same(layer.intermediate.bias, [I], `${b}.mlp.fc1.bias`)
      same(layer.output.weight, [C, I], `${b}.mlp.fc2.weight`)
      same(layer.output.bias, [C], `${b}.mlp.fc2.bias`)
      same(layer.layernormBefore.weight, [C], `${b}.norm1.weight`)
      same(layer.layernormBefore.bias, [C], `${b}.norm1.bias`)
      same(layer.layernormAfter.weight, [C], `${b}.norm2.weight`)
      same(layer.layernormAfter.bias, [C], `${b}.norm2.bias`)
    })
    same(n.layernorm.weight, [C], 'norm.weight')
    same(n.layernorm.bias, [C], 'norm.bias')
    same(n.classifier.weight, [L, C], 'head.weight')
    same(n.classifier.bias, [L], 'head.bias')
    return out
  }

  // jax
  same(n.clsToken, [1, 1, C], 'cls')
  same(n.positionEmbeddings, [1, T, C], 'Transformer/posembed_input/pos_embedding')
  out.push({name: n.patchEmbedding.weight, shape: [C, ch, PH, PW], source: 'embedding/kernel', sourceShape: [PH, PW, ch, C], perm: [3, 2, 0, 1]})
  same(n.patchEmbedding.bias, [C], 'embedding/bias')
  n.layers.forEach((layer, l) => {
    const b = `Transformer/encoderblock_${l}`
    const att = `${b}/MultiHeadDotProductAttention_1`
    for (const [part, names] of [['query', layer.query], ['key', layer.key], ['value', layer.value]] as const) {
      transposed(names.weight, [C, C], `${att}/${part}/kernel`, [C, H, D])
      if (c.qkvBias) out.push({name: names.bias, shape: [C], source: `${att}/${part}/bias`, sourceShape: [H, D], view: [C]})
    }
    transposed(layer.attentionOutput.weight, [C, C], `${att}/out/kernel`, [H, D, C])
    same(layer.attentionOutput.bias, [C], `${att}/out/bias`)
    transposed(layer.intermediate.weight, [I, C], `${b}/MlpBlock_3/Dense_0/kernel`, [C, I])
    same(layer.intermediate.bias, [I], `${b}/MlpBlock_3/Dense_0/bias`)
    transposed(layer.output.weight, [C, I], `${b}/MlpBlock_3/Dense_1/kernel`, [I, C])
    same(layer.output.bias, [C], `${b}/MlpBlock_3/Dense_1/bias`)
    same(layer.layernormBefore.weight, [C], `${b}/LayerNorm_0/scale`)
    same(layer.layernormBefore.bias, [C], `${b}/LayerNorm_0/bias`)
    same(layer.layernormAfter.weight, [C], `${b}/LayerNorm_2/scale`)
    same(layer.layernormAfter.bias, [C], `${b}/LayerNorm_2/bias`)
  })
  same(n.layernorm.weight, [C], 'Transformer/encoder_norm/scale')
  same(n.layernorm.bias, [C], 'Transformer/encoder_norm/bias')
  transposed(n.classifier.weight, [L, C], 'head/kernel', [C, L])
  same(n.classifier.bias, [L], 'head/bias')
  return out
}

/** The naming scheme of a set of tensor names, by majority of recognisable prefixes; undefined when none fits. */
export function detectVitScheme(names: Iterable<string>): SourceScheme | undefined {
  const votes: Record<SourceScheme, number> = {hf: 0, timm: 0, jax: 0}
  for (const n of names) {
    if (n.startsWith('vit.') || n.startsWith('classifier.')) votes.hf++
    else if (/^(blocks\.\d+\.|patch_embed\.|cls_token$|pos_embed$|head\.|norm\.)/.test(n)) votes.timm++
    else if (n.startsWith('Transformer/') || n.startsWith('embedding/') || n.startsWith('head/') || n === 'cls') votes.jax++
  }
  const best = (Object.entries(votes) as Array<[SourceScheme, number]>).sort((a, b) => b[1] - a[1])[0]
  return best[1] > 0 ? best[0] : undefined
}

/** Heads of the standard ViT sizes (Ti, S, B, L, H), for checkpoints that do not say. */
export const STANDARD_HEADS: Readonly<Record<number, number>> = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16}

/** Where each geometry number can be read in each scheme: tensor name, and the axis. */
const PROBES: Record<SourceScheme, {cls: string; pos: string; patch: string; patchAxes: {ch: number; ph: number; pw: number}; fc1: [string, number]; head: [string, number]; qkvBias: string; layer: RegExp}> = {
  hf: {
    cls: 'vit.embeddings.cls_token', pos: 'vit.embeddings.position_embeddings',
    patch: 'vit.embeddings.patch_embeddings.projection.weight', patchAxes: {ch: 1, ph: 2, pw: 3},
    fc1: ['vit.encoder.layer.0.intermediate.dense.weight', 0], head: ['classifier.weight', 0],
    qkvBias: 'vit.encoder.layer.0.attention.attention.query.bias', layer: /^vit\.encoder\.layer\.(\d+)\./,
  },
  timm: {
    cls: 'cls_token', pos: 'pos_embed', patch: 'patch_embed.proj.weight', patchAxes: {ch: 1, ph: 2, pw: 3},
    fc1: ['blocks.0.mlp.fc1.weight', 0], head: ['head.weight', 0], qkvBias: 'blocks.0.attn.qkv.bias', layer: /^blocks\.(\d+)\./,
  },
  jax: {
    cls: 'cls', pos: 'Transformer/posembed_input/pos_embedding', patch: 'embedding/kernel', patchAxes: {ch: 2, ph: 0, pw: 1},
    fc1: ['Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel', 1], head: ['head/kernel', 1],
    qkvBias: 'Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/bias', layer: /^Transformer\/encoderblock_(\d+)\//,
  },
}

/** The classifier's class count as the checkpoint's head tensor has it, if it has one of rank 2. */
export function vitNumLabelsOf(scheme: SourceScheme, tensors: ReadonlyMap<string, SourceTensor>): number | undefined {
  const [name, axis] = PROBES[scheme].head
  const t = tensors.get(name)
  return t?.shape.length === 2 ? t.shape[axis] : undefined
}

/** ViT geometry read off tensor shapes, before it becomes a config.json. */
export interface DerivedVitGeometry {
  hidden: number
  layers: number
  heads: number
  intermediate: number
  patch: [number, number]
  image: [number, number]
  channels: number
  labels: number
  qkvBias: boolean
}

/**
 * The geometry read off the tensor shapes (for a checkpoint without a config). The grid is taken as square (the
 * position embeddings do not say otherwise). Heads: JAX kernels say; otherwise `numHeads`, or the standard ViT
 * table for the hidden size. Every other tensor is checked against the result later.
 */
export function deriveVitGeometry(scheme: SourceScheme, tensors: ReadonlyMap<string, SourceTensor>, file: string, numHeads?: number): DerivedVitGeometry {
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
  const ph = patchShape[p.patchAxes.ph]
  const pw = patchShape[p.patchAxes.pw]
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
  // Derived from names and shapes a hostile file chooses: bounded before any recipe or buffer is made from them.
  const where = `${file} (geometry derived from the tensors)`
  checkGeometry('num_hidden_layers', layers, where, file)
  checkGeometry('hidden_size', hidden, where, file)
  checkGeometry('intermediate_size', intermediate, where, file)
  checkGeometry('num_channels', channels, where, file)
  checkGeometry('num_labels', labels, where, file)
  checkGeometry('num_patches', tokens - 1, where, file)
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
  return {hidden, layers, heads, intermediate, patch: [ph, pw], image: [grid * ph, grid * pw], channels, labels, qkvBias: tensors.has(p.qkvBias)}
}
