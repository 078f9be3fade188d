/**
 * The image half of the engine: bytes -> pixel_values [3, H, W] float32, equal bit for bit to what transformers'
 * ViTImageProcessor computes on the image PIL loads (`load_image`: exif_transpose + convert('RGB'); resize BILINEAR;
 * rescale; normalise; CHW).
 */

import {readUserFile} from '../core/user-file.js'
import {type DecodeLimits, decodeImage} from './decode.js'
import {toPixelValues} from './pixels.js'
import type {PreprocessorConfig} from './preprocessor-config.js'
import {resizeBilinear} from './resize.js'
import type {RgbImage} from './types.js'

export {DEFAULT_MAX_PIXELS, type DecodeLimits, decodeImage} from './decode.js'
export {type ImageFormat, readImageDimensions, readImageHeader} from './header.js'
export {applyOrientation} from './orientation.js'
export {channelLut, toPixelValues} from './pixels.js'
export {PIL_BILINEAR, VIT_DEFAULTS, parsePreprocessorConfig} from './preprocessor.js'
export type {PreprocessorConfig} from './preprocessor-config.js'
export {resizeBilinear} from './resize.js'
export type {RgbImage} from './types.js'

/** The RGB image the processor resizes to: the decoded image itself when `do_resize` is false. */
export function resizeForModel(img: RgbImage, pre: PreprocessorConfig): RgbImage {
  return pre.doResize ? resizeBilinear(img, pre.width, pre.height) : img
}

export interface PreprocessOptions extends DecodeLimits {
  /** Write into this buffer (e.g. a batch tensor) at `offset` instead of allocating. */
  out?: Float32Array
  offset?: number
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
  const img = await decodeImage(bytes, source, options)
  return toPixelValues(resizeForModel(img, pre), pre, options.out, options.offset)
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
