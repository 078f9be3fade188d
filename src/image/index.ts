/**
 * The image half of the engine: bytes -> pixel_values [3, H, W] float32, equal bit for bit to what transformers'
 * image processor (ViT, BEiT or BiT) computes on the image PIL loads (`load_image`: exif_transpose +
 * convert('RGB'); channel-format inference; resize BILINEAR or BICUBIC, fixed or by the shortest edge; center crop;
 * rescale; normalise; CHW).
 */

import {readUserFile} from '../core/user-file.js'
import {type DecodeLimits, decodeImage} from './decode.js'
import {toPixelValues} from './pixels.js'
import type {PreprocessorConfig} from './preprocessor-config.js'
import {asTransformersSees, resizeAndCrop} from './transforms.js'
import type {RgbImage} from './types.js'

export {DEFAULT_MAX_PIXELS, type DecodeLimits, decodeImage} from './decode.js'
export {type ImageFormat, readImageDimensions, readImageHeader} from './header.js'
export {applyOrientation} from './orientation.js'
export {channelLut, toPixelValues} from './pixels.js'
export {PIL_BICUBIC, PIL_BILINEAR, PROCESSOR_DEFAULTS, VIT_DEFAULTS, parsePreprocessorConfig} from './preprocessor.js'
export type {PreprocessorConfig, ProcessorKind, ResizeTarget} from './preprocessor-config.js'
export {resizeBilinear, resizePil} from './resize.js'
export {asTransformersSees, centerCrop, resizeAndCrop, resizeOutputSize} from './transforms.js'
export type {RgbImage} from './types.js'

/** The RGB image the processor's resize and crop produce (the image itself when it does neither). */
export function resizeForModel(img: RgbImage, pre: PreprocessorConfig): RgbImage {
  return resizeAndCrop(img, pre)
}

export interface PreprocessOptions extends DecodeLimits {
  /** Write into this buffer (e.g. a batch tensor) at `offset` instead of allocating. */
  out?: Float32Array
  offset?: number
  /**
   * Told when the endpoint would see the image otherwise than a user expects (a 3-pixel-tall image transposed).
   * Default: process.emitWarning.
   */
  onWarning?: (message: string) => void
}

const emitWarning = (message: string): void => {
  process.emitWarning(message, 'VitrineWarning')
}

/**
 * pixel_values [3, H, W] for one image file's bytes. H and W are the preprocessor's size (or the image's own when
 * do_resize is false). Bad bytes are an InvalidInputError naming `source`.
 */
export async function preprocessImage(
  bytes: Uint8Array,
  pre: PreprocessorConfig,
  source: string,
  options: PreprocessOptions = {},
): Promise<Float32Array> {
  const img = asTransformersSees(await decodeImage(bytes, source, options), source, options.onWarning ?? emitWarning)
  return toPixelValues(resizeAndCrop(img, pre), pre, options.out, options.offset)
}

/**
 * preprocessImage of a file on disk. A missing or unreadable path is a UsageError naming it; bad contents an
 * InvalidInputError naming it.
 */
export async function preprocessImageFile(path: string, pre: PreprocessorConfig, options: PreprocessOptions = {}): Promise<Float32Array> {
  return preprocessImage(await readImageFile(path), pre, path, options)
}

/** Image files larger than this are refused from their size (the largest real photos are a few tens of MB). */
export const MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024

/** An image file's bytes: a regular file (no FIFO or device), at most MAX_IMAGE_FILE_BYTES. */
export function readImageFile(path: string): Promise<Uint8Array> {
  return readUserFile(path, {maxBytes: MAX_IMAGE_FILE_BYTES})
}
