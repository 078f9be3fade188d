/**
 * Dinov2ForImageClassification's hyperparameters from config.json (transformers' Dinov2Config; missing fields take its
 * defaults, facebook/dinov2-base's geometry).
 */
import {type ConfigFields, checkGelu, configFields} from '../config-fields.js'

export interface Dinov2Config {
  hiddenSize: number // C
  numLayers: number
  numHeads: number
  /** int(hidden_size * mlp_ratio). */
  intermediateSize: number
  patchHeight: number
  patchWidth: number
  /** The image size the position embeddings were trained for (their grid is image / patch). */
  imageHeight: number
  imageWidth: number
  numChannels: number
  numLabels: number
  layerNormEps: number
  qkvBias: boolean
  /** Positions in the trained grid (position_embeddings has numPositions + 1 rows). */
  numPositions: number
  /** transformers_version from config.json, when it says. */
  transformersVersion: string | undefined
}

export function parseDinov2Config(json: unknown, file: string): {config: Dinov2Config; labels: string[]} {
  const f: ConfigFields = configFields(json, file, 'dinov2', 'Dinov2ForImageClassification')
  checkGelu(f)
  if (f.bool('use_swiglu_ffn', false)) f.bad('use_swiglu_ffn', 'is true: vitrine implements the GELU MLP of DINOv2, not the SwiGLU one')
  const hiddenSize = f.positiveInt('hidden_size', 768)
  const numHeads = f.positiveInt('num_attention_heads', 12)
  if (hiddenSize % numHeads !== 0) f.bad('num_attention_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`)
  const mlpRatio = f.number('mlp_ratio', 4)
  const [imageHeight, imageWidth] = f.pair('image_size', 224)
  const [patchHeight, patchWidth] = f.pair('patch_size', 14)
  if (patchHeight > imageHeight || patchWidth > imageWidth) f.bad('patch_size', `is larger than image_size`)
  const numPositions = Math.floor(imageHeight / patchHeight) * Math.floor(imageWidth / patchWidth)
  const labels = f.labels()
  const version = f.cfg.transformers_version
  return {
    config: {
      hiddenSize,
      numLayers: f.positiveInt('num_hidden_layers', 12),
      numHeads,
      intermediateSize: Math.trunc(hiddenSize * mlpRatio),
      patchHeight,
      patchWidth,
      imageHeight,
      imageWidth,
      numChannels: f.positiveInt('num_channels', 3),
      numLabels: labels.length,
      layerNormEps: f.number('layer_norm_eps', 1e-6),
      qkvBias: f.bool('qkv_bias', true),
      numPositions,
      transformersVersion: typeof version === 'string' ? version : undefined,
    },
    labels,
  }
}
