import {InvalidInputError} from '../core/errors.js'
import type {Scheme, VitGeometry} from './layout.js'

/**
 * The Hugging Face ViTConfig side of a conversion: the geometry read from a source config.json (with transformers'
 * defaults for missing fields, as `ViTConfig()` has them), and the config.json vitrine writes.
 */

/** transformers' ViTConfig defaults (google/vit-base-patch16-224's geometry). */
const DEFAULTS = {hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, image_size: 224, patch_size: 16, num_channels: 3}

/** A config.json is a ViT config vitrine can use when it says so or has the ViT fields (a timm config does not). */
export function isVitConfig(raw: Record<string, unknown>): boolean {
  return raw.model_type === 'vit' || ('hidden_size' in raw && 'num_hidden_layers' in raw)
}

function positiveInt(raw: Record<string, unknown>, key: keyof typeof DEFAULTS, file: string): number {
  let v = raw[key] ?? DEFAULTS[key]
  // image_size / patch_size may be [h, w]; vitrine handles square ones.
  if (Array.isArray(v) && v.length === 2 && v[0] === v[1]) v = v[0]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidInputError(`${file}: ${key} must be a positive integer${Array.isArray(v) ? ' (non-square sizes are not supported)' : ''}, got ${JSON.stringify(v)}`, {file})
  }
  return v
}

/** The geometry a config.json describes. `labelsFallback` is used when it has neither id2label nor num_labels. */
export function geometryFromConfig(raw: Record<string, unknown>, file: string, labelsFallback: number): VitGeometry {
  if (raw.model_type !== undefined && raw.model_type !== 'vit') throw new InvalidInputError(`${file}: model_type is ${JSON.stringify(raw.model_type)}; vitrine converts ViT ("vit") models`, {file})
  const g: VitGeometry = {
    hidden: positiveInt(raw, 'hidden_size', file),
    layers: positiveInt(raw, 'num_hidden_layers', file),
    heads: positiveInt(raw, 'num_attention_heads', file),
    intermediate: positiveInt(raw, 'intermediate_size', file),
    patch: positiveInt(raw, 'patch_size', file),
    image: positiveInt(raw, 'image_size', file),
    channels: positiveInt(raw, 'num_channels', file),
    labels: labelsFallback,
    qkvBias: raw.qkv_bias !== false,
  }
  if (raw.id2label && typeof raw.id2label === 'object') g.labels = Object.keys(raw.id2label).length
  else if (typeof raw.num_labels === 'number') g.labels = raw.num_labels
  if (g.hidden % g.heads) throw new InvalidInputError(`${file}: hidden_size ${g.hidden} is not divisible by num_attention_heads ${g.heads}`, {file})
  if (g.image % g.patch) throw new InvalidInputError(`${file}: image_size ${g.image} is not a multiple of patch_size ${g.patch}`, {file})
  return g
}

/** Layer-norm epsilon when no config says: transformers' default for HF checkpoints, 1e-6 for timm and JAX ones (what they were trained with). */
export function defaultLayerNormEps(scheme: Scheme): number {
  return scheme === 'hf' ? 1e-12 : 1e-6
}

function labelMaps(labels: readonly string[]): {id2label: Record<string, string>; label2id: Record<string, number>} {
  const id2label: Record<string, string> = {}
  const label2id: Record<string, number> = {}
  labels.forEach((l, i) => {
    id2label[String(i)] = l
    label2id[l] = i
  })
  return {id2label, label2id}
}

/**
 * The config.json to write: the source's (every field kept) with labels and torch_dtype set, or a full ViTConfig
 * built from the geometry when the source had none.
 */
export function outputConfig(
  source: Record<string, unknown> | undefined, g: VitGeometry, labels: readonly string[], torchDtype: string, layerNormEps: number,
): Record<string, unknown> {
  const maps = labelMaps(labels)
  if (source) {
    return {
      ...source,
      architectures: source.architectures ?? ['ViTForImageClassification'],
      model_type: 'vit',
      ...maps,
      torch_dtype: torchDtype,
    }
  }
  return {
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
    layer_norm_eps: layerNormEps,
    image_size: g.image,
    patch_size: g.patch,
    num_channels: g.channels,
    qkv_bias: g.qkvBias,
    encoder_stride: g.patch,
    ...maps,
    torch_dtype: torchDtype,
  }
}

/** ViTImageProcessor settings of google/vit-base-patch16-224, for a source without a preprocessor_config.json. */
export function defaultPreprocessorConfig(image: number): Record<string, unknown> {
  return {
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_processor_type: 'ViTImageProcessor',
    image_std: [0.5, 0.5, 0.5],
    resample: 2,
    rescale_factor: 1 / 255,
    size: {height: image, width: image},
  }
}
