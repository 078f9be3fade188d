/**
 * Swinv2ForImageClassification's hyperparameters from config.json (transformers' Swinv2Config; missing fields take its
 * defaults, microsoft/swinv2-tiny-patch4-window8-256's form) and the geometry derived from them.
 */
import {type ConfigFields, checkGelu, configFields} from '../config-fields.js'
import type {ModelConfig} from '../family.js'
import {previewValue} from '../../core/errors.js'

/** The model class this family runs. */
export const SWINV2_ARCHITECTURE = 'Swinv2ForImageClassification'

export interface Swinv2Config extends ModelConfig {
  imageHeight: number
  imageWidth: number
  patchSize: number
  numChannels: number
  embedDim: number // C of stage 0; stage i has embedDim * 2^i
  depths: number[]
  numHeads: number[]
  windowSize: number
  pretrainedWindowSizes: number[]
  mlpRatio: number
  qkvBias: boolean
  layerNormEps: number
  numLabels: number
}

export function parseSwinv2Config(json: unknown, file: string, numLabelsFallback?: number): {config: Swinv2Config; labels: string[]} {
  const f: ConfigFields = configFields(json, file, 'swinv2', SWINV2_ARCHITECTURE)
  checkGelu(f)
  if (f.bool('use_absolute_embeddings', false)) f.bad('use_absolute_embeddings', 'is true: vitrine implements SwinV2 with relative position bias only')
  const [imageHeight, imageWidth] = f.pair('image_size', 224)
  const [patchSize, patchWidth] = f.pair('patch_size', 4)
  if (patchSize !== patchWidth) f.bad('patch_size', 'must be square for SwinV2')
  const embedDim = f.positiveInt('embed_dim', 96)
  const depths = f.intList('depths', [2, 2, 6, 2])
  const numHeads = f.intList('num_heads', [3, 6, 12, 24])
  if (numHeads.length !== depths.length) f.bad('num_heads', `has ${numHeads.length} entries, depths ${depths.length}`)
  numHeads.forEach((h, i) => {
    if ((embedDim * 2 ** i) % h !== 0) f.bad(`num_heads[${i}]`, `(${h}) must divide the stage's width ${embedDim * 2 ** i}`)
  })
  const pws = f.cfg.pretrained_window_sizes ?? depths.map(() => 0)
  if (!Array.isArray(pws) || pws.length !== depths.length || !pws.every((x) => Number.isSafeInteger(x) && x >= 0)) {
    f.bad('pretrained_window_sizes', `must be ${depths.length} non-negative integers, got ${previewValue(pws)}`)
  }
  const labels = f.labels(numLabelsFallback)
  return {
    config: {
      imageHeight,
      imageWidth,
      patchSize,
      numChannels: f.positiveInt('num_channels', 3),
      embedDim,
      depths,
      numHeads,
      windowSize: f.positiveInt('window_size', 7),
      pretrainedWindowSizes: pws as number[],
      mlpRatio: f.number('mlp_ratio', 4),
      qkvBias: f.bool('qkv_bias', true),
      layerNormEps: f.number('layer_norm_eps', 1e-5),
      numLabels: labels.length,
    },
    labels,
  }
}

/** One block's window geometry for an input of a given size. */
export interface Swinv2BlockGeometry {
  windowSize: number
  shift: number
  /** The stage's feature map and the same padded to whole windows. */
  height: number
  width: number
  padHeight: number
  padWidth: number
  /** Windows per image. */
  numWindows: number
}

export interface Swinv2StageGeometry {
  dim: number
  heads: number
  hidden: number // int(mlp_ratio * dim)
  height: number
  width: number
  blocks: Swinv2BlockGeometry[]
}

/**
 * The stages for an input of inputHeight x inputWidth: the feature map is ceil(input / patch) (the image is padded to
 * whole patches) and ceil-halved by each patch merging; each block's window is min(stage resolution, window_size) and
 * its shift window_size // 2 on odd blocks, 0 when the stage resolution fits in one window (transformers'
 * _compute_window_shift on the config's grid, from its height).
 */
export function swinv2Geometry(config: Swinv2Config, inputHeight: number, inputWidth: number): Swinv2StageGeometry[] {
  let height = Math.ceil(inputHeight / config.patchSize)
  let width = Math.ceil(inputWidth / config.patchSize)
  const gridHeight = Math.floor(config.imageHeight / config.patchSize)
  return config.depths.map((depth, i) => {
    const dim = config.embedDim * 2 ** i
    const resolution = Math.floor(gridHeight / 2 ** i)
    const blocks = Array.from({length: depth}, (_, j) => {
      const windowSize = Math.min(resolution, config.windowSize)
      const shift = resolution <= windowSize ? 0 : j % 2 === 1 ? Math.floor(config.windowSize / 2) : 0
      const padHeight = Math.ceil(height / windowSize) * windowSize
      const padWidth = Math.ceil(width / windowSize) * windowSize
      return {windowSize, shift, height, width, padHeight, padWidth, numWindows: (padHeight / windowSize) * (padWidth / windowSize)}
    })
    const stage = {dim, heads: config.numHeads[i], hidden: Math.trunc(config.mlpRatio * dim), height, width, blocks}
    height = Math.floor((height + 1) / 2)
    width = Math.floor((width + 1) / 2)
    return stage
  })
}
