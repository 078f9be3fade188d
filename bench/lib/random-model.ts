/**
 * Seeded random model folders of any family at the real base geometry of the Azure ML catalog's image classifiers,
 * for the benchmarks: config.json (the catalog model's geometry), preprocessor_config.json (the family's defaults) and
 * model.safetensors (F32, every tensor of the family's table), streamed one tensor at a time so a base model never
 * sits in memory twice. Timing needs the geometry, not trained weights.
 */
import {mkdir, open, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {seededRandom} from '../../src/core/random.js'
import {familyOfConfig} from '../../src/models/registry.js'
import {vitConfigJson} from '../../src/models/vit/config.js'
import {serializeSafetensorsHeader} from '../../src/weights/safetensors.js'

/** Values for one tensor: normalisation weights near 1, everything else small (std ~0.02, like the families' init). */
export function randomTensor(name: string, size: number, rand: () => number): Float32Array {
  const data = new Float32Array(size)
  // layernorm_before/after (ViT, BEiT, SwinV2), layernorm, norm (SwinV2's embeddings and patch merging), norm1/2 (DINOv2)
  const isNormWeight = /norm(1|2|_before|_after)?\.weight$/.test(name)
  for (let i = 0; i < size; i++) data[i] = isNormWeight ? 1 + (rand() - 0.5) * 0.1 : (rand() - 0.5) * 0.07
  return data
}

/**
 * Writes a Hugging Face model folder of seeded random weights for `rawConfig` (a config.json naming its model_type;
 * fields left out take the family's defaults) with `labels` classes. Returns `dir`.
 */
export async function writeRandomModelFolder(dir: string, rawConfig: Record<string, unknown>, labels: number, seed = 1234): Promise<string> {
  await mkdir(dir, {recursive: true})
  const file = join(dir, 'config.json')
  const family = familyOfConfig(rawConfig, file)
  const names = Array.from({length: labels}, (_, i) => `LABEL_${i}`)
  const config = family.outputConfig(rawConfig, names, 'float32')
  const parsed = family.parseConfig(config, file)
  const tensors = family.tensorTable(parsed.config).map(({name, shape}) => ({name, shape, dtype: 'F32'}))
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
  await writeFile(file, JSON.stringify(config, null, 2) + '\n')
  await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(family.preprocessorDefaults(parsed.config), null, 2) + '\n')
  return dir
}

/** A catalog model's geometry: the config.json fields that shape it (random weights fill it) and its class count. */
export interface BaseGeometry {
  /** Short name: the bench's key. */
  key: string
  /** The cached folder's name under bench/out/engine/. */
  folder: string
  /** The catalog model whose geometry this is. */
  model: string
  config: Record<string, unknown>
  labels: number
}

/**
 * The base geometries of the catalog's image classifiers (the azureml-assets system registry models), config.json
 * fields as the Hugging Face hub has them.
 */
export const BASE_GEOMETRIES: readonly BaseGeometry[] = [
  {
    key: 'vit',
    folder: 'vit-b16-random',
    model: 'google/vit-base-patch16-224',
    config: vitConfigJson({hidden: 768, layers: 12, heads: 12, intermediate: 3072, image: 224, patch: 16, channels: 3, qkvBias: true, layerNormEps: 1e-12}),
    labels: 1000,
  },
  {
    key: 'beit',
    folder: 'beit-base-random',
    model: 'microsoft/beit-base-patch16-224-pt22k-ft22k',
    config: {
      model_type: 'beit', hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, image_size: 224, patch_size: 16,
      num_channels: 3, layer_norm_eps: 1e-12, hidden_act: 'gelu', use_mask_token: false, use_absolute_position_embeddings: false,
      use_relative_position_bias: true, use_shared_relative_position_bias: false, layer_scale_init_value: 0.1, use_mean_pooling: true,
    },
    labels: 21841,
  },
  {
    key: 'swinv2',
    folder: 'swinv2-base-random',
    model: 'microsoft/swinv2-base-patch4-window12-192-22k',
    config: {
      model_type: 'swinv2', image_size: 192, patch_size: 4, num_channels: 3, embed_dim: 128, depths: [2, 2, 18, 2], num_heads: [4, 8, 16, 32],
      window_size: 12, pretrained_window_sizes: [0, 0, 0, 0], mlp_ratio: 4.0, qkv_bias: true, hidden_act: 'gelu', use_absolute_embeddings: false, layer_norm_eps: 1e-5,
    },
    labels: 21841,
  },
  {
    key: 'dinov2',
    folder: 'dinov2-base-random',
    model: 'facebook/dinov2-base (1-layer linear head, 1000 labels; images cropped to 224)',
    config: {
      model_type: 'dinov2', hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, mlp_ratio: 4, image_size: 518, patch_size: 14,
      num_channels: 3, qkv_bias: true, layerscale_value: 1.0, layer_norm_eps: 1e-6, hidden_act: 'gelu', use_swiglu_ffn: false, use_mask_token: true,
    },
    labels: 1000,
  },
]
