import {InvalidInputError, previewValue} from '../../core/errors.js'
import {GEOMETRY_LIMITS, type GeometryField, checkGeometry} from '../geometry-limits.js'
import type {ModelConfig, ParseConfigOptions, ParsedConfig} from '../family.js'
import {parseLabels} from '../labels.js'

/**
 * The hyperparameters of a ViTForImageClassification, read from a Hugging Face config.json. Missing fields take
 * transformers' ViTConfig defaults (google/vit-base-patch16-224's geometry), so a folder loads here exactly when it
 * loads in transformers; a value vitrine cannot compute the way PyTorch does is refused, naming the field.
 *
 * This is the one set of rules for a ViT config: convert, package, verify, the ONNX export and the engine all parse
 * through it. In particular image_size and patch_size may be an int or [height, width], and an image size that is
 * not a multiple of the patch size is accepted (the strided convolution drops the pixels past the last whole patch),
 * exactly as transformers' ViTConfig and ViTEmbeddings accept them: a config a user can run in transformers runs
 * in every vitrine verb, and one vitrine refuses is refused by every verb.
 */
export interface VitConfig extends ModelConfig {
  /** C: width of the residual stream. */
  hiddenSize: number
  /** L: encoder blocks. */
  numLayers: number
  /** NH: attention heads (hiddenSize / numHeads is the head size). */
  numHeads: number
  /** Width of the MLP's hidden layer. */
  intermediateSize: number
  /** Patch height and width (the patch-embedding convolution's kernel and stride). */
  patchHeight: number
  patchWidth: number
  /** The input image size the position embeddings were trained for. */
  imageHeight: number
  imageWidth: number
  /** Input channels (3 for RGB). */
  numChannels: number
  /** Classifier outputs. */
  numLabels: number
  layerNormEps: number
  /** Whether query/key/value carry a bias. */
  qkvBias: boolean
  /** Patches along the height and width, and in all: floor(image / patch), as the strided convolution gives. */
  gridHeight: number
  gridWidth: number
  numPatches: number
  /** T: tokens per image (the CLS token plus one per patch). */
  numTokens: number
}

/** What config.json yields: the geometry and the label of each class id, in id order. */
export type ParsedVitConfig = ParsedConfig<VitConfig>

/** The model class ViT checkpoints are (DeiT's too). */
export const VIT_ARCHITECTURE = 'ViTForImageClassification'

/** transformers.ViTConfig's defaults, applied to fields config.json leaves out. */
export const VIT_CONFIG_DEFAULTS = {
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-12,
  image_size: 224,
  patch_size: 16,
  num_channels: 3,
  qkv_bias: true,
}

/** The only hidden_act vitrine implements: GELU in its exact erf form (PyTorch's nn.GELU(approximate='none')). */
const SUPPORTED_ACT = 'gelu'

/** Checks a parsed config.json and derives the geometry. */
export function parseVitConfig(json: unknown, file: string, options: ParseConfigOptions = {}): ParsedVitConfig {
  const bad = (field: string, message: string): never => {
    throw new InvalidInputError(`${file}: ${field} ${message}`, {file})
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('(top level)', 'must be a JSON object')
  const cfg = json as Record<string, unknown>

  if (cfg.model_type !== undefined && cfg.model_type !== 'vit') {
    bad('model_type', `is ${previewValue(cfg.model_type)}; vitrine runs "vit" (ViTForImageClassification) models`)
  }
  if (cfg.architectures !== undefined) {
    const archs = cfg.architectures
    if (!Array.isArray(archs) || !archs.includes(VIT_ARCHITECTURE)) {
      bad('architectures', `is ${previewValue(archs)}; vitrine runs ["ViTForImageClassification"]`)
    }
  }

  const positiveInt = (field: keyof typeof VIT_CONFIG_DEFAULTS): number => {
    const v = cfg[field] ?? VIT_CONFIG_DEFAULTS[field]
    if (!Number.isSafeInteger(v) || (v as number) <= 0) bad(field, `must be a positive integer, got ${previewValue(v)}`)
    return field in GEOMETRY_LIMITS ? checkGeometry(field as GeometryField, v as number, file, file) : (v as number)
  }
  // image_size and patch_size are an int or [height, width] in transformers.
  const pair = (field: 'image_size' | 'patch_size'): [number, number] => {
    const v = cfg[field] ?? VIT_CONFIG_DEFAULTS[field]
    const ok = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) > 0
    const side = (x: number): number => (field === 'image_size' ? checkGeometry('image_size', x, file, file) : x)
    if (ok(v)) return [side(v as number), side(v as number)]
    if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [side(v[0] as number), side(v[1] as number)]
    return bad(field, `must be a positive integer or [height, width], got ${previewValue(v)}`)
  }

  const hiddenSize = positiveInt('hidden_size')
  const numLayers = positiveInt('num_hidden_layers')
  const numHeads = positiveInt('num_attention_heads')
  const intermediateSize = positiveInt('intermediate_size')
  const numChannels = positiveInt('num_channels')
  const [imageHeight, imageWidth] = pair('image_size')
  const [patchHeight, patchWidth] = pair('patch_size')
  if (hiddenSize % numHeads !== 0) {
    bad('num_attention_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`)
  }
  if (patchHeight > imageHeight || patchWidth > imageWidth) {
    bad('patch_size', `(${patchHeight}x${patchWidth}) is larger than image_size (${imageHeight}x${imageWidth})`)
  }

  const act = cfg.hidden_act ?? VIT_CONFIG_DEFAULTS.hidden_act
  if (act !== SUPPORTED_ACT) {
    bad('hidden_act', `is ${previewValue(act)}; vitrine implements only "gelu" (the exact erf form)`)
  }
  const eps = cfg.layer_norm_eps ?? VIT_CONFIG_DEFAULTS.layer_norm_eps
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) bad('layer_norm_eps', `must be a non-negative number, got ${previewValue(eps)}`)
  const qkvBias = cfg.qkv_bias ?? VIT_CONFIG_DEFAULTS.qkv_bias
  if (typeof qkvBias !== 'boolean') bad('qkv_bias', `must be true or false, got ${previewValue(qkvBias)}`)

  const labels = parseLabels(cfg, bad, options.numLabelsFallback)
  const gridHeight = Math.floor(imageHeight / patchHeight)
  const gridWidth = Math.floor(imageWidth / patchWidth)
  const numPatches = checkGeometry('num_patches', gridHeight * gridWidth, file, file)
  return {
    config: {
      hiddenSize,
      numLayers,
      numHeads,
      intermediateSize,
      patchHeight,
      patchWidth,
      imageHeight,
      imageWidth,
      numChannels,
      numLabels: labels.length,
      layerNormEps: eps as number,
      qkvBias: qkvBias as boolean,
      gridHeight,
      gridWidth,
      numPatches,
      numTokens: numPatches + 1,
    },
    labels,
  }
}


/** The numbers of a ViT, for writing its config.json (sizes as an int when square, else [height, width]). */
export interface VitGeometry {
  hidden: number
  layers: number
  heads: number
  intermediate: number
  image: number | [number, number]
  patch: number | [number, number]
  channels: number
  qkvBias: boolean
  layerNormEps: number
}

/** A full ViTConfig config.json for a geometry (without labels: the family's outputConfig adds them). */
export function vitConfigJson(g: VitGeometry): Record<string, unknown> {
  return {
    architectures: [VIT_ARCHITECTURE],
    model_type: 'vit',
    hidden_size: g.hidden,
    num_hidden_layers: g.layers,
    num_attention_heads: g.heads,
    intermediate_size: g.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    initializer_range: 0.02,
    layer_norm_eps: g.layerNormEps,
    image_size: g.image,
    patch_size: g.patch,
    num_channels: g.channels,
    qkv_bias: g.qkvBias,
    encoder_stride: Array.isArray(g.patch) ? g.patch[0] : g.patch,
  }
}
