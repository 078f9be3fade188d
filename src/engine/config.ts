import {InvalidInputError} from '../core/errors.js'
import {parseJsonText} from '../core/user-file.js'

/**
 * The hyperparameters of a ViTForImageClassification, read from a Hugging Face config.json. Missing fields take
 * transformers' ViTConfig defaults (google/vit-base-patch16-224's geometry), so a folder loads here exactly when it
 * loads in transformers; a value vitrine cannot compute the way PyTorch does is refused, naming the field.
 */
export interface VitConfig {
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
export interface ParsedVitConfig {
  config: VitConfig
  labels: string[]
}

/** transformers.ViTConfig's defaults, applied to fields config.json leaves out. */
const VIT_DEFAULTS = {
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

/** Parses config.json's text. `file` is named in every error. */
export function parseVitConfigText(text: string, file: string): ParsedVitConfig {
  return parseVitConfig(parseJsonText(text, file, {file}), file)
}

/** Checks a parsed config.json and derives the geometry. */
export function parseVitConfig(json: unknown, file: string): ParsedVitConfig {
  const bad = (field: string, message: string): never => {
    throw new InvalidInputError(`${file}: ${field} ${message}`, {file})
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('(top level)', 'must be a JSON object')
  const cfg = json as Record<string, unknown>

  if (cfg.model_type !== undefined && cfg.model_type !== 'vit') {
    bad('model_type', `is ${JSON.stringify(cfg.model_type)}; vitrine runs "vit" (ViTForImageClassification) models`)
  }
  if (cfg.architectures !== undefined) {
    const archs = cfg.architectures
    if (!Array.isArray(archs) || !archs.includes('ViTForImageClassification')) {
      bad('architectures', `is ${JSON.stringify(archs)}; vitrine runs ["ViTForImageClassification"]`)
    }
  }

  const positiveInt = (field: keyof typeof VIT_DEFAULTS): number => {
    const v = cfg[field] ?? VIT_DEFAULTS[field]
    if (!Number.isSafeInteger(v) || (v as number) <= 0) bad(field, `must be a positive integer, got ${JSON.stringify(v)}`)
    return v as number
  }
  // image_size and patch_size are an int or [height, width] in transformers.
  const pair = (field: 'image_size' | 'patch_size'): [number, number] => {
    const v = cfg[field] ?? VIT_DEFAULTS[field]
    const ok = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) > 0
    if (ok(v)) return [v as number, v as number]
    if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0] as number, v[1] as number]
    return bad(field, `must be a positive integer or [height, width], got ${JSON.stringify(v)}`)
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

  const act = cfg.hidden_act ?? VIT_DEFAULTS.hidden_act
  if (act !== SUPPORTED_ACT) {
    bad('hidden_act', `is ${JSON.stringify(act)}; vitrine implements only "gelu" (the exact erf form)`)
  }
  const eps = cfg.layer_norm_eps ?? VIT_DEFAULTS.layer_norm_eps
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) bad('layer_norm_eps', `must be a non-negative number, got ${JSON.stringify(eps)}`)
  const qkvBias = cfg.qkv_bias ?? VIT_DEFAULTS.qkv_bias
  if (typeof qkvBias !== 'boolean') bad('qkv_bias', `must be true or false, got ${JSON.stringify(qkvBias)}`)

  const labels = parseLabels(cfg, bad)
  const gridHeight = Math.floor(imageHeight / patchHeight)
  const gridWidth = Math.floor(imageWidth / patchWidth)
  const numPatches = gridHeight * gridWidth
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

/**
 * The class names in id order. id2label's keys must be exactly "0".."n-1"; without id2label, transformers names the
 * `num_labels` classes LABEL_0.. (2 when num_labels is absent too).
 */
export function parseLabels(cfg: Record<string, unknown>, bad: (field: string, message: string) => never): string[] {
  const id2label = cfg.id2label
  const numLabels = cfg.num_labels
  if (numLabels !== undefined && (!Number.isSafeInteger(numLabels) || (numLabels as number) <= 0)) {
    bad('num_labels', `must be a positive integer, got ${JSON.stringify(numLabels)}`)
  }
  if (id2label === undefined) {
    return Array.from({length: (numLabels as number | undefined) ?? 2}, (_, i) => `LABEL_${i}`)
  }
  if (typeof id2label !== 'object' || id2label === null || Array.isArray(id2label)) bad('id2label', 'must be an object mapping class ids to labels')
  const entries = Object.entries(id2label as Record<string, unknown>)
  if (entries.length === 0) bad('id2label', 'is empty: the model must have at least one class')
  const labels: string[] = new Array(entries.length)
  for (const [key, label] of entries) {
    const id = Number(key)
    if (!/^(0|[1-9][0-9]*)$/.test(key) || id >= entries.length) {
      bad(`id2label["${key}"]`, `is not a class id in 0..${entries.length - 1}`)
    }
    if (typeof label !== 'string') bad(`id2label["${key}"]`, `must be a string, got ${JSON.stringify(label)}`)
    labels[id] = label as string
  }
  if (numLabels !== undefined && numLabels !== labels.length) {
    bad('num_labels', `(${numLabels}) disagrees with id2label, which has ${labels.length} classes`)
  }
  return labels
}
