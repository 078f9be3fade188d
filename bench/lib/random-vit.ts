import {mkdir, open, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {serializeSafetensorsHeader} from '../../src/weights/safetensors.js'

/** The geometry of a ViT; `VIT_B16` is google/vit-base-patch16-224's. */
export interface VitGeometry {
  hidden: number
  layers: number
  heads: number
  intermediate: number
  patch: number
  image: number
  labels: number
  channels?: number
}

export const VIT_B16: VitGeometry = {hidden: 768, layers: 12, heads: 12, intermediate: 3072, patch: 16, image: 224, labels: 1000}

/** Hugging Face ViTForImageClassification tensor names and shapes, in a stable order. */
export function hfTensorShapes(g: VitGeometry): Array<{name: string; shape: number[]}> {
  const C = g.hidden
  const ch = g.channels ?? 3
  const T = (g.image / g.patch) ** 2 + 1
  const out: Array<{name: string; shape: number[]}> = [
    {name: 'vit.embeddings.cls_token', shape: [1, 1, C]},
    {name: 'vit.embeddings.position_embeddings', shape: [1, T, C]},
    {name: 'vit.embeddings.patch_embeddings.projection.weight', shape: [C, ch, g.patch, g.patch]},
    {name: 'vit.embeddings.patch_embeddings.projection.bias', shape: [C]},
  ]
  for (let l = 0; l < g.layers; l++) {
    const p = `vit.encoder.layer.${l}`
    for (const n of ['query', 'key', 'value']) {
      out.push({name: `${p}.attention.attention.${n}.weight`, shape: [C, C]}, {name: `${p}.attention.attention.${n}.bias`, shape: [C]})
    }
    out.push(
      {name: `${p}.attention.output.dense.weight`, shape: [C, C]},
      {name: `${p}.attention.output.dense.bias`, shape: [C]},
      {name: `${p}.intermediate.dense.weight`, shape: [g.intermediate, C]},
      {name: `${p}.intermediate.dense.bias`, shape: [g.intermediate]},
      {name: `${p}.output.dense.weight`, shape: [C, g.intermediate]},
      {name: `${p}.output.dense.bias`, shape: [C]},
      {name: `${p}.layernorm_before.weight`, shape: [C]},
      {name: `${p}.layernorm_before.bias`, shape: [C]},
      {name: `${p}.layernorm_after.weight`, shape: [C]},
      {name: `${p}.layernorm_after.bias`, shape: [C]},
    )
  }
  out.push(
    {name: 'vit.layernorm.weight', shape: [C]},
    {name: 'vit.layernorm.bias', shape: [C]},
    {name: 'classifier.weight', shape: [g.labels, C]},
    {name: 'classifier.bias', shape: [g.labels]},
  )
  return out
}

/** mulberry32: a small seeded PRNG, so every run generates the same weights. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Values for one tensor: LayerNorm weights near 1, everything else small (std ~0.02, like ViT's init). */
export function randomTensor(name: string, size: number, rand: () => number): Float32Array {
  const data = new Float32Array(size)
  const isLnWeight = /layernorm(_before|_after)?\.weight$/.test(name)
  for (let i = 0; i < size; i++) data[i] = isLnWeight ? 1 + (rand() - 0.5) * 0.1 : (rand() - 0.5) * 0.07
  return data
}

/**
 * Writes a Hugging Face model folder (config.json, preprocessor_config.json, model.safetensors, F32) of seeded random
 * weights with geometry `g`, streaming one tensor at a time so a full ViT-B/16 never sits in memory twice.
 */
export async function writeRandomVitFolder(dir: string, g: VitGeometry = VIT_B16, seed = 1234): Promise<string> {
  await mkdir(dir, {recursive: true})
  const tensors = hfTensorShapes(g).map((t) => ({...t, dtype: 'F32'}))
  const {head} = serializeSafetensorsHeader(tensors)
  const rand = seededRandom(seed)
  const fh = await open(join(dir, 'model.safetensors'), 'w')
  try {
    await fh.write(head)
    for (const t of tensors) {
      const data = randomTensor(t.name, t.shape.reduce((a, b) => a * b, 1), rand)
      await fh.write(new Uint8Array(data.buffer))
    }
  } finally {
    await fh.close()
  }
  const id2label: Record<string, string> = {}
  const label2id: Record<string, number> = {}
  for (let i = 0; i < g.labels; i++) {
    id2label[String(i)] = `LABEL_${i}`
    label2id[`LABEL_${i}`] = i
  }
  const config = {
    architectures: ['ViTForImageClassification'],
    model_type: 'vit',
    hidden_size: g.hidden,
    num_hidden_layers: g.layers,
    num_attention_heads: g.heads,
    intermediate_size: g.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    image_size: g.image,
    patch_size: g.patch,
    num_channels: g.channels ?? 3,
    qkv_bias: true,
    id2label,
    label2id,
    torch_dtype: 'float32',
  }
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n')
  const pre = {
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_processor_type: 'ViTImageProcessor',
    image_std: [0.5, 0.5, 0.5],
    resample: 2,
    rescale_factor: 1 / 255,
    size: {height: g.image, width: g.image},
  }
  await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(pre, null, 2) + '\n')
  return dir
}
