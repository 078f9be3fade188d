/**
 * Image bytes -> the 8-bit RGB image transformers' `load_image` hands to the processor: PIL opens the file,
 * `ImageOps.exif_transpose` applies the EXIF orientation, `convert('RGB')` makes it RGB.
 *
 * Decoding is libvips through sharp (libjpeg-turbo for JPEG, libspng for PNG), with embedded ICC profiles ignored
 * as PIL ignores them. Measured against PIL (test/image and bench/image.bench.ts): 8-bit samples, palettes, 1/2/4-bit
 * grey, interlacing and JPEG (baseline and progressive) come out identical. Where PIL's conversion is its own, the
 * samples are taken at full depth and converted here as PIL does:
 * - 16-bit grey (PIL mode I;16 / I): `convert('RGB')` clips each value to 255 (it does not scale);
 * - other 16-bit PNGs (RGB, RGBA, grey+alpha): PIL unpacks the high byte of each sample;
 * - CMYK JPEG (PIL assumes Adobe's inverted inks): PIL's own naive formula, no colour management (cmykToRgb);
 * - alpha (an alpha channel or tRNS) is dropped, never composited;
 * - a palette index past the end of PLTE is black, in libspng as in Pillow since 10.1 (Pillow <= 10.0 gave the
 *   grey (i, i, i) of its default palette).
 */
import sharp from 'sharp'

import {InvalidInputError} from '../core/errors.js'
import {describePngTruncation, type ImageHeader, readImageHeader} from './header.js'
import {applyOrientation} from './orientation.js'
import type {RgbImage} from './types.js'

export type {RgbImage} from './types.js'

/** PIL's Image.MAX_IMAGE_PIXELS: PIL warns above it (and refuses above twice it); vitrine refuses above it. */
export const DEFAULT_MAX_PIXELS = 89_478_485

export interface DecodeLimits {
  /** Refuse images with more pixels than this, before decoding (default 89,478,485, PIL's MAX_IMAGE_PIXELS). */
  maxPixels?: number
}

export async function decodeImage(bytes: Uint8Array, source: string, limits: DecodeLimits = {}): Promise<RgbImage> {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS
  if (!(maxPixels >= 1)) throw new RangeError(`decodeImage: maxPixels must be at least 1, got ${maxPixels}`)
  const header = readImageHeader(bytes, source)
  const pixels = header.width * header.height
  if (pixels > maxPixels) {
    throw new InvalidInputError(
      `${source}: ${header.width}x${header.height} = ${pixels.toLocaleString('en-US')} pixels is over the limit of ${maxPixels.toLocaleString('en-US')} (a decompression bomb?); refused before decoding`,
      {file: source},
    )
  }

  if (header.format === 'jpeg' && header.bitDepth !== 8) {
    throw new InvalidInputError(`${source}: ${header.bitDepth}-bit JPEG is not supported (PIL reads only 8-bit JPEG)`, {file: source})
  }

  const decoded = await decodeToRgb(bytes, source, header, maxPixels)
  return applyOrientation(decoded, header.orientation)
}

/** What sharp returned, on one line. */
function libvipsMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim()
}

/** Why decoding failed, for the message: a truncated file said as such first, libvips' words after. */
function decodeFailure(bytes: Uint8Array, header: ImageHeader, error: unknown): string {
  const detail = libvipsMessage(error)
  const truncation = header.format === 'png' ? describePngTruncation(bytes) : undefined
  if (truncation) return `${truncation} (${detail})`
  return /premature end|truncated|not enough data|unexpected end|end of stream/i.test(detail) ? `the file is truncated (${detail})` : detail
}

async function decodeToRgb(bytes: Uint8Array, source: string, header: ImageHeader, maxPixels: number): Promise<RgbImage> {
  const sixteenBit = header.format === 'png' && header.bitDepth === 16
  const grey16 = sixteenBit && header.pngColorType === 0
  const cmyk = header.format === 'jpeg' && header.components === 4
  let data: Buffer
  let info: sharp.OutputInfo
  try {
    // failOn 'truncated': refuse a file that ends early, as PIL does, but accept the recoverable warnings PIL accepts.
    let pipeline = sharp(bytes, {ignoreIcc: true, failOn: 'truncated', limitInputPixels: Number.isFinite(maxPixels) ? Math.floor(maxPixels) : false, autoOrient: false})
    if (cmyk) {
      // The inks as libjpeg hands them over (Adobe-inverted, as PIL's "CMYK;I"), with no ICC transform.
      pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk').raw()
    } else if (sixteenBit) {
      pipeline = pipeline.toColourspace(header.pngColorType === 0 || header.pngColorType === 4 ? 'grey16' : 'rgb16').raw({depth: 'ushort'})
    } else {
      pipeline = pipeline.raw()
    }

    ;({data, info} = await pipeline.toBuffer({resolveWithObject: true}))
  } catch (error) {
    throw new InvalidInputError(`${source}: cannot decode this ${header.format === 'png' ? 'PNG' : 'JPEG'}: ${decodeFailure(bytes, header, error)}`, {
      file: source,
      cause: error,
    })
  }

  const {width, height, channels} = info
  if (width !== header.width || height !== header.height) {
    throw new InvalidInputError(`${source}: decoded ${width}x${height}, but the header says ${header.width}x${header.height}`, {file: source})
  }

  const n = width * height
  if (!cmyk && !sixteenBit && channels === 3) {
    // Already what convert('RGB') gives: hand sharp's buffer over without a copy.
    return {width, height, data: new Uint8Array(data.buffer, data.byteOffset, n * 3)}
  }

  const out = new Uint8Array(n * 3)
  if (cmyk && channels === 4) {
    cmykToRgb(out, data, n)
  } else if (sixteenBit) {
    const aligned = data.byteOffset % 2 === 0 ? data : new Uint8Array(data)
    const samples = new Uint16Array(aligned.buffer, aligned.byteOffset, n * channels)
    const reduce = grey16 ? (v: number): number => (v > 255 ? 255 : v) : (v: number): number => v >> 8
    copyToRgb(out, samples, n, channels, reduce)
  } else {
    copyToRgb(out, data, n, channels, (v) => v)
  }

  return {width, height, data: out}
}

/**
 * out <- RGB from `channels` samples per pixel: grey (1) and grey+alpha (2) replicate the grey, RGB (3) and RGBA (4)
 * keep the first three; `reduce` maps a sample to 8 bits. One loop per layout keeps each loop simple for the JIT.
 */
function copyToRgb(out: Uint8Array, src: Uint8Array | Uint16Array, n: number, channels: number, reduce: (v: number) => number): void {
  if (channels <= 2) {
    for (let i = 0, s = 0, o = 0; i < n; i++, s += channels, o += 3) {
      const v = reduce(src[s])
      out[o] = v
      out[o + 1] = v
      out[o + 2] = v
    }
  } else {
    for (let i = 0, s = 0, o = 0; i < n; i++, s += channels, o += 3) {
      out[o] = reduce(src[s])
      out[o + 1] = reduce(src[s + 1])
      out[o + 2] = reduce(src[s + 2])
    }
  }
}

/** PIL's `cmyk2rgb`: each of R, G, B is clip(nk - c * nk / 255) with nk = 255 - k, in its MULDIV255 rounding. */
function cmykToRgb(out: Uint8Array, cmyk: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const nk = 255 - cmyk[i * 4 + 3]
    for (let c = 0; c < 3; c++) {
      const t = cmyk[i * 4 + c] * nk + 128
      const v = nk - (((t >> 8) + t) >> 8)
      out[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v
    }
  }
}
