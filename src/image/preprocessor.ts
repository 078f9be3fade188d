/**
 * Reads a Hugging Face `preprocessor_config.json` (ViTImageProcessor, or the older ViTFeatureExtractor) into the
 * normalised `PreprocessorConfig` the image pipeline runs. Missing fields take ViTImageProcessor's defaults, as
 * transformers does; a field of the wrong type or an unsupported value is an InvalidInputError naming the file and
 * the field.
 */
import {InvalidInputError} from '../core/errors.js'
import type {PreprocessorConfig} from './preprocessor-config.js'

export type {PreprocessorConfig} from './preprocessor-config.js'

/** PIL's resample filter ids, for messages. Only BILINEAR is implemented (the one ViT checkpoints use). */
const PIL_RESAMPLE_NAMES: Record<number, string> = {
  0: 'NEAREST',
  1: 'LANCZOS',
  2: 'BILINEAR',
  3: 'BICUBIC',
  4: 'BOX',
  5: 'HAMMING',
}
export const PIL_BILINEAR = 2

/**
 * Image processor classes whose preprocessing is the pipeline implemented here. ViTImageProcessorFast (what newer
 * transformers may save) resizes with torchvision instead of PIL, which can differ by a level here and there; it is
 * accepted and run with PIL's arithmetic, the slow processor's.
 */
const SUPPORTED_PROCESSOR_TYPES = new Set(['ViTImageProcessor', 'ViTImageProcessorFast', 'ViTFeatureExtractor'])

/** Steps other processors have that this pipeline does not do: refused when switched on rather than skipped. */
const UNSUPPORTED_STEPS = ['do_center_crop', 'do_pad', 'do_reduce_labels']

/** ViTImageProcessor's defaults (transformers' IMAGENET_STANDARD_MEAN/STD, 224x224, BILINEAR, 1/255). */
export const VIT_DEFAULTS: PreprocessorConfig = {
  doResize: true,
  height: 224,
  width: 224,
  resample: PIL_BILINEAR,
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: true,
  imageMean: [0.5, 0.5, 0.5],
  imageStd: [0.5, 0.5, 0.5],
}

/** Largest side accepted for the resize target: far beyond any ViT, small enough to keep buffers sane. */
const MAX_TARGET_SIDE = 16_384

export function parsePreprocessorConfig(json: unknown, file: string): PreprocessorConfig {
  const fail = (field: string, message: string): never => {
    throw new InvalidInputError(`${file}: ${field} ${message}`, {file})
  }

  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidInputError(`${file}: a preprocessor config must be a JSON object`, {file})
  }

  const obj = json as Record<string, unknown>

  const processorType = obj.image_processor_type ?? obj.feature_extractor_type
  if (processorType !== undefined) {
    const field = obj.image_processor_type === undefined ? 'feature_extractor_type' : 'image_processor_type'
    if (typeof processorType !== 'string') fail(field, 'must be a string')
    if (!SUPPORTED_PROCESSOR_TYPES.has(processorType as string)) {
      fail(
        field,
        `is ${JSON.stringify(processorType)}: only ${[...SUPPORTED_PROCESSOR_TYPES].join(' and ')} preprocessing is implemented (PIL resize, rescale, normalise)`,
      )
    }
  }

  for (const step of UNSUPPORTED_STEPS) {
    if (obj[step] === true) fail(step, 'is true: ViT preprocessing has no such step and vitrine does not implement it')
  }

  const bool = (field: string, fallback: boolean): boolean => {
    const v = obj[field]
    if (v === undefined || v === null) return fallback
    if (typeof v !== 'boolean') fail(field, `must be true or false, got ${JSON.stringify(v)}`)
    return v as boolean
  }

  const finiteNumber = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `must be a finite number, got ${JSON.stringify(v)}`)
    return v as number
  }

  const triple = (field: string, fallback: [number, number, number], positive: boolean): [number, number, number] => {
    const v = obj[field]
    if (v === undefined || v === null) return fallback
    // transformers accepts a single number for all channels.
    const values = typeof v === 'number' ? [v, v, v] : v
    if (!Array.isArray(values) || values.length !== 3) {
      fail(field, `must be a number or a list of 3 numbers (one per RGB channel), got ${JSON.stringify(v)}`)
    }

    const out = (values as unknown[]).map((x, i) => {
      const n = finiteNumber(`${field}[${i}]`, x)
      if (positive && !(n > 0)) fail(`${field}[${i}]`, `must be greater than 0, got ${n}`)
      return n
    })
    return [out[0], out[1], out[2]]
  }

  const doResize = bool('do_resize', VIT_DEFAULTS.doResize)
  const doRescale = bool('do_rescale', VIT_DEFAULTS.doRescale)
  const doNormalize = bool('do_normalize', VIT_DEFAULTS.doNormalize)

  let {height, width} = VIT_DEFAULTS
  const size = obj.size
  if (size !== undefined && size !== null) {
    const side = (field: string, v: unknown): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_TARGET_SIDE) {
        fail(field, `must be an integer from 1 to ${MAX_TARGET_SIDE}, got ${JSON.stringify(v)}`)
      }

      return v as number
    }

    if (typeof size === 'number') {
      // Old feature-extractor configs: "size": 224 means 224x224 (transformers' get_size_dict).
      height = side('size', size)
      width = height
    } else if (typeof size === 'object' && !Array.isArray(size)) {
      const s = size as Record<string, unknown>
      if (s.height !== undefined || s.width !== undefined) {
        height = side('size.height', s.height)
        width = side('size.width', s.width)
      } else if (s.shortest_edge !== undefined) {
        fail('size', 'is {"shortest_edge": ...}: ViTImageProcessor resizes to a fixed {"height", "width"}')
      } else {
        fail('size', `must be {"height": H, "width": W}, got ${JSON.stringify(size)}`)
      }
    } else {
      fail('size', `must be {"height": H, "width": W}, got ${JSON.stringify(size)}`)
    }
  }

  let resample = VIT_DEFAULTS.resample
  if (obj.resample !== undefined && obj.resample !== null) {
    const r = obj.resample
    if (typeof r !== 'number' || !Number.isInteger(r)) fail('resample', `must be a PIL filter id, got ${JSON.stringify(r)}`)
    if (r !== PIL_BILINEAR) {
      const name = PIL_RESAMPLE_NAMES[r as number]
      fail('resample', `is ${r}${name ? ` (${name})` : ''}: only 2 (BILINEAR) is supported`)
    }

    resample = r as number
  }

  let rescaleFactor = VIT_DEFAULTS.rescaleFactor
  if (obj.rescale_factor !== undefined && obj.rescale_factor !== null) {
    rescaleFactor = finiteNumber('rescale_factor', obj.rescale_factor)
  }

  const imageMean = triple('image_mean', VIT_DEFAULTS.imageMean, false)
  const imageStd = triple('image_std', VIT_DEFAULTS.imageStd, true)

  return {doResize, height, width, resample, doRescale, rescaleFactor, doNormalize, imageMean, imageStd}
}
