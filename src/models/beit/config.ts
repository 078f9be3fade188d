/**
 * BeitForImageClassification's hyperparameters from config.json (transformers' BeitConfig; missing fields take its
 * defaults, microsoft/beit-base-patch16-224's geometry).
 */
import {type ConfigFields, checkGelu, configFields} from '../config-fields.js'

export interface BeitConfig {
  hiddenSize: number // C
  numLayers: number
  numHeads: number
  intermediateSize: number
  patchHeight: number
  patchWidth: number
  imageHeight: number
  imageWidth: number
  numChannels: number
  numLabels: number
  layerNormEps: number
  /** position_embeddings added to the tokens (use_absolute_position_embeddings). */
  absolutePositions: boolean
  /** A relative position bias table per layer (use_relative_position_bias). */
  relativeBias: boolean
  /** One table shared by all layers (use_shared_relative_position_bias). */
  sharedRelativeBias: boolean
  /** lambda_1 / lambda_2 exist (layer_scale_init_value > 0). */
  layerScale: boolean
  /** Head on LayerNorm(mean of patch tokens) (use_mean_pooling), else on the final-LayerNorm'd [CLS]. */
  meanPooling: boolean
  gridHeight: number
  gridWidth: number
  numPatches: number
  numTokens: number // T = numPatches + 1
}

export function parseBeitConfig(json: unknown, file: string): {config: BeitConfig; labels: string[]} {
  const f: ConfigFields = configFields(json, file, 'beit', 'BeitForImageClassification')
  checkGelu(f)
  const hiddenSize = f.positiveInt('hidden_size', 768)
  const numHeads = f.positiveInt('num_attention_heads', 12)
  if (hiddenSize % numHeads !== 0) f.bad('num_attention_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`)
  const [imageHeight, imageWidth] = f.pair('image_size', 224)
  const [patchHeight, patchWidth] = f.pair('patch_size', 16)
  if (patchHeight > imageHeight || patchWidth > imageWidth) f.bad('patch_size', `is larger than image_size`)
  const labels = f.labels()
  const gridHeight = Math.floor(imageHeight / patchHeight)
  const gridWidth = Math.floor(imageWidth / patchWidth)
  return {
    config: {
      hiddenSize,
      numLayers: f.positiveInt('num_hidden_layers', 12),
      numHeads,
      intermediateSize: f.positiveInt('intermediate_size', 3072),
      patchHeight,
      patchWidth,
      imageHeight,
      imageWidth,
      numChannels: f.positiveInt('num_channels', 3),
      numLabels: labels.length,
      layerNormEps: f.number('layer_norm_eps', 1e-12),
      absolutePositions: f.bool('use_absolute_position_embeddings', false),
      relativeBias: f.bool('use_relative_position_bias', false),
      sharedRelativeBias: f.bool('use_shared_relative_position_bias', false),
      layerScale: f.number('layer_scale_init_value', 0.1) > 0,
      meanPooling: f.bool('use_mean_pooling', true),
      gridHeight,
      gridWidth,
      numPatches: gridHeight * gridWidth,
      numTokens: gridHeight * gridWidth + 1,
    },
    labels,
  }
}
