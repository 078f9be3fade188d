/**
 * Reads a Hugging Face `preprocessor_config.json` into the normalised `PreprocessorConfig` the image pipeline runs,
 * as transformers' image processor of that class would: ViTImageProcessor (resize to a fixed size), BeitImageProcessor
 * (resize, center crop; the legacy BeitFeatureExtractor form with an int `size`), BitImageProcessor (shortest edge,
 * center crop: DINOv2's). Missing fields take that class's defaults, as transformers does; a field of the wrong type or
 * an unsupported value is an InvalidInputError naming the file and the field.
 */
import {InvalidInputError, previewValue} from '../core/errors.js'
import type {PreprocessorConfig, ProcessorKind, ResizeTarget} from './preprocessor-config.js'
import {PIL_BICUBIC, PIL_BILINEAR, isSupportedResample} from './resize.js'

export type {PreprocessorConfig, ProcessorKind, ResizeTarget} from './preprocessor-config.js'
export {PIL_BICUBIC, PIL_BILINEAR} from './resize.js'

/** PIL's resample filter ids, for messages. */
const PIL_RESAMPLE_NAMES: Record<number, string> = {
  0: 'NEAREST',
  1: 'LANCZOS',
  2: 'BILINEAR',
  3: 'BICUBIC',
  4: 'BOX',
  5: 'HAMMING',
}

/**
 * Image processor classes whose preprocessing is implemented here, and which steps they run. The Fast variants
 * (what newer transformers may save) resize with torchvision instead of PIL, which can differ by a level here and
 * there; they are accepted and run with PIL's arithmetic, the slow processor's.
 */
const PROCESSOR_KINDS: Record<string, ProcessorKind> = {
  ViTImageProcessor: 'vit',
  ViTImageProcessorFast: 'vit',
  ViTFeatureExtractor: 'vit',
  BeitImageProcessor: 'beit',
  BeitImageProcessorFast: 'beit',
  BeitFeatureExtractor: 'beit',
  BitImageProcessor: 'bit',
  BitImageProcessorFast: 'bit',
}

/** transformers' IMAGENET_STANDARD_MEAN/STD and OPENAI_CLIP_MEAN/STD (image_utils.py). */
const STANDARD_MEAN: [number, number, number] = [0.5, 0.5, 0.5]
const STANDARD_STD: [number, number, number] = [0.5, 0.5, 0.5]
const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073]
const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711]

/** ViTImageProcessor's defaults (224x224, BILINEAR, 1/255, mean/std 0.5; no crop step). */
export const VIT_DEFAULTS: PreprocessorConfig = {
  kind: 'vit',
  doResize: true,
  resize: {height: 224, width: 224},
  resample: PIL_BILINEAR,
  doCenterCrop: false,
  cropHeight: 224,
  cropWidth: 224,
  height: 224,
  width: 224,
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: true,
  imageMean: STANDARD_MEAN,
  imageStd: STANDARD_STD,
}

/** Each processor class's __init__ defaults. */
export const PROCESSOR_DEFAULTS: Record<ProcessorKind, PreprocessorConfig> = {
  vit: VIT_DEFAULTS,
  // BeitImageProcessor: size 256x256, BICUBIC, center crop 224x224, mean/std 0.5.
  beit: {...VIT_DEFAULTS, kind: 'beit', resize: {height: 256, width: 256}, resample: PIL_BICUBIC, doCenterCrop: true},
  // BitImageProcessor: shortest edge 224, BICUBIC, center crop 224x224, OpenAI CLIP mean/std.
  bit: {...VIT_DEFAULTS, kind: 'bit', resize: {shortestEdge: 224}, resample: PIL_BICUBIC, doCenterCrop: true, imageMean: CLIP_MEAN, imageStd: CLIP_STD},
}

/** Largest side accepted for the resize and crop targets: far beyond any model, small enough to keep buffers sane. */
const MAX_TARGET_SIDE = 16_384

/**
 * Parses a preprocessor_config.json. `fallbackKind` is the processor used when the file names none (the model
 * family's own processor; ViT's by default, as vitrine has always read such files).
 */
export function parsePreprocessorConfig(json: unknown, file: string, fallbackKind: ProcessorKind = 'vit'): PreprocessorConfig {
  const fail = (field: string, message: string): never => {
    throw new InvalidInputError(`${file}: ${field} ${message}`, {file})
  }

  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidInputError(`${file}: a preprocessor config must be a JSON object`, {file})
  }

  const obj = json as Record<string, unknown>

  let kind = fallbackKind
  const processorType = obj.image_processor_type ?? obj.feature_extractor_type
  if (processorType !== undefined) {
    const field = obj.image_processor_type === undefined ? 'feature_extractor_type' : 'image_processor_type'
    if (typeof processorType !== 'string') fail(field, 'must be a string')
    const known = PROCESSOR_KINDS[processorType as string]
    if (known === undefined) {
      fail(field, `is ${previewValue(processorType)}: only ${Object.keys(PROCESSOR_KINDS).join(', ')} preprocessing is implemented`)
    }
    kind = known
  }
  const defaults = PROCESSOR_DEFAULTS[kind]

  if (obj.do_pad === true) fail('do_pad', 'is true: vitrine does not implement padding')
  // ViTImageProcessor has no crop step (transformers ignores the key); refused rather than silently not cropped.
  if (kind === 'vit' && obj.do_center_crop === true) fail('do_center_crop', 'is true: ViTImageProcessor has no center crop step (transformers ignores it); remove it or use BitImageProcessor')
  // do_reduce_labels / reduce_labels (BEiT) act on segmentation maps only: nothing to do for classification.

  const bool = (field: string, fallback: boolean): boolean => {
    const v = obj[field]
    if (v === undefined || v === null) return fallback
    if (typeof v !== 'boolean') fail(field, `must be true or false, got ${previewValue(v)}`)
    return v as boolean
  }

  const finiteNumber = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `must be a finite number, got ${previewValue(v)}`)
    return v as number
  }

  const triple = (field: string, fallback: [number, number, number], positive: boolean): [number, number, number] => {
    const v = obj[field]
    if (v === undefined || v === null) return fallback
    // transformers accepts a single number for all channels.
    const values = typeof v === 'number' ? [v, v, v] : v
    if (!Array.isArray(values) || values.length !== 3) {
      fail(field, `must be a number or a list of 3 numbers (one per RGB channel), got ${previewValue(v)}`)
    }

    const out = (values as unknown[]).map((x, i) => {
      const n = finiteNumber(`${field}[${i}]`, x)
      if (positive && !(n > 0)) fail(`${field}[${i}]`, `must be greater than 0, got ${n}`)
      return n
    })
    return [out[0], out[1], out[2]]
  }

  const side = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_TARGET_SIDE) {
      fail(field, `must be an integer from 1 to ${MAX_TARGET_SIDE}, got ${previewValue(v)}`)
    }
    return v as number
  }

  /**
   * transformers' get_size_dict: an int is a square (default_to_square) or the shortest edge (BiT's `size`);
   * [h, w] is a fixed size; a dict holds height and width, or shortest_edge.
   */
  const sizeDict = (field: string, intIsShortestEdge: boolean, allowShortestEdge: boolean): ResizeTarget | undefined => {
    const v = obj[field]
    if (v === undefined || v === null) return undefined
    const shape = allowShortestEdge ? '{"height": H, "width": W} or {"shortest_edge": S}' : '{"height": H, "width": W}'
    if (typeof v === 'number') {
      const s = side(field, v)
      return intIsShortestEdge ? {shortestEdge: s} : {height: s, width: s}
    }
    if (Array.isArray(v)) {
      if (v.length !== 2) fail(field, `must be ${shape}, an integer or [height, width], got ${previewValue(v)}`)
      return {height: side(`${field}[0]`, v[0]), width: side(`${field}[1]`, v[1])}
    }
    if (typeof v !== 'object') fail(field, `must be ${shape}, got ${previewValue(v)}`)
    const s = v as Record<string, unknown>
    if (s.height !== undefined || s.width !== undefined) return {height: side(`${field}.height`, s.height), width: side(`${field}.width`, s.width)}
    if (s.shortest_edge !== undefined) {
      if (!allowShortestEdge) fail(field, `is {"shortest_edge": ...}: ${kind === 'vit' ? 'ViTImageProcessor' : 'BeitImageProcessor'} resizes to a fixed {"height", "width"}`)
      return {shortestEdge: side(`${field}.shortest_edge`, s.shortest_edge)}
    }
    return fail(field, `must be ${shape}, got ${previewValue(v)}`)
  }

  const doResize = bool('do_resize', defaults.doResize)
  const doRescale = bool('do_rescale', defaults.doRescale)
  const doNormalize = bool('do_normalize', defaults.doNormalize)
  const doCenterCrop = kind === 'vit' ? false : bool('do_center_crop', defaults.doCenterCrop)

  const resize = sizeDict('size', kind === 'bit', kind === 'bit') ?? defaults.resize
  const crop = (sizeDict('crop_size', false, false) as {height: number; width: number} | undefined) ?? {height: defaults.cropHeight, width: defaults.cropWidth}

  let resample = defaults.resample
  if (obj.resample !== undefined && obj.resample !== null) {
    const r = obj.resample
    if (typeof r !== 'number' || !Number.isInteger(r)) fail('resample', `must be a PIL filter id, got ${previewValue(r)}`)
    if (!isSupportedResample(r as number)) {
      const name = PIL_RESAMPLE_NAMES[r as number]
      fail('resample', `is ${r}${name ? ` (${name})` : ''}: only 2 (BILINEAR) and 3 (BICUBIC) are supported`)
    }

    resample = r as number
  }

  let rescaleFactor = defaults.rescaleFactor
  if (obj.rescale_factor !== undefined && obj.rescale_factor !== null) {
    rescaleFactor = finiteNumber('rescale_factor', obj.rescale_factor)
  }

  const imageMean = triple('image_mean', defaults.imageMean, false)
  const imageStd = triple('image_std', defaults.imageStd, true)

  let height = defaults.height
  let width = defaults.width
  if (doCenterCrop) ({height, width} = crop)
  else if ('height' in resize) ({height, width} = resize)
  else if (doResize) {
    fail('size', `is {"shortest_edge": ${resize.shortestEdge}} without do_center_crop: each image would keep its own aspect ratio, and vitrine batches images of one size`)
  }

  return {
    kind,
    doResize,
    resize,
    resample,
    doCenterCrop,
    cropHeight: crop.height,
    cropWidth: crop.width,
    height,
    width,
    doRescale,
    rescaleFactor,
    doNormalize,
    imageMean,
    imageStd,
  }
}
