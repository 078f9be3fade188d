/**
 * Reads what an image file says about itself before anything is decoded: its format, its dimensions (so a
 * decompression bomb is refused before a byte of it is inflated), the PNG colour type and bit depth (PIL's
 * conversions depend on them) and the EXIF Orientation tag (applied as PIL's `ImageOps.exif_transpose` does).
 * Every malformed header is an InvalidInputError naming the source and the byte offset.
 */
import {InvalidInputError} from '../core/errors.js'
import {crc32} from './crc32.js'
import {pngOrientation, resolveOrientation} from './exif.js'

export type ImageFormat = 'png' | 'jpeg'

export interface ImageHeader {
  format: ImageFormat
  width: number
  height: number
  /** PNG IHDR colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA); JPEG: undefined. */
  pngColorType?: number
  /** PNG bits per sample; JPEG sample precision. */
  bitDepth: number
  /** JPEG component count (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK). */
  components?: number
  /** EXIF Orientation 1..8 (1 when absent or unreadable). */
  orientation: number
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

const PNG_DEPTHS: Record<number, number[]> = {0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]}

function invalid(source: string, message: string): InvalidInputError {
  return new InvalidInputError(`${source}: ${message}`, {file: source})
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b)
}

/** A short description of what the bytes are instead of an image, for the error message. */
function describeUnknown(bytes: Uint8Array): string {
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return 'a GIF image'
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && bytes[8] === 0x57 && bytes[9] === 0x45) return 'a WebP image'
  if (startsWith(bytes, [0x42, 0x4d])) return 'a BMP image'
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'a TIFF image'
  const head = bytes.subarray(0, 512)
  const printable = head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b !== 0x7f))
  if (printable) return 'text'
  const hex = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ')
  return `unrecognised data (starts with ${hex})`
}

export function readImageHeader(bytes: Uint8Array, source: string): ImageHeader {
  if (bytes.length === 0) throw invalid(source, 'the file is empty, not an image')
  if (startsWith(bytes, PNG_SIGNATURE)) return readPngHeader(bytes, source)
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return readJpegHeader(bytes, source)
  throw invalid(source, `not a PNG or JPEG image: the file is ${describeUnknown(bytes)}`)
}

/** Width and height from the header alone (no decoding). */
export function readImageDimensions(bytes: Uint8Array, source = 'image'): {format: ImageFormat; width: number; height: number} {
  const {format, width, height} = readImageHeader(bytes, source)
  return {format, width, height}
}

function readPngHeader(bytes: Uint8Array, source: string): ImageHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < 33) throw invalid(source, `truncated PNG: ${bytes.length} bytes, too short for its IHDR chunk`)
  const ihdrLength = view.getUint32(8)
  const type = String.fromCharCode(...bytes.subarray(12, 16))
  if (type !== 'IHDR' || ihdrLength !== 13) throw invalid(source, 'broken PNG: the first chunk (byte 8) is not a 13-byte IHDR')
  const width = view.getUint32(16)
  const height = view.getUint32(20)
  const bitDepth = bytes[24]
  const colorType = bytes[25]
  if (width === 0 || height === 0 || width > 0x7f_ff_ff_ff || height > 0x7f_ff_ff_ff) {
    throw invalid(source, `broken PNG: IHDR (byte 16) gives an impossible size ${width}x${height}`)
  }

  const depths = PNG_DEPTHS[colorType]
  if (!depths) throw invalid(source, `broken PNG: IHDR colour type ${colorType} (byte 25) does not exist`)
  if (!depths.includes(bitDepth)) {
    throw invalid(source, `broken PNG: bit depth ${bitDepth} (byte 24) is not allowed with colour type ${colorType}`)
  }

  checkPngChunkCrcs(bytes, view, source)
  return {format: 'png', width, height, pngColorType: colorType, bitDepth, orientation: pngOrientation(bytes)}
}

/**
 * PIL checks the CRC of every chunk before the first IDAT and refuses the file on a mismatch ("broken PNG file");
 * libspng under sharp is set to tolerate it, so the check is made here.
 */
function checkPngChunkCrcs(bytes: Uint8Array, view: DataView, source: string): void {
  let at = 8
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at)
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8))
    if (type === 'IDAT' || at + 12 + length > bytes.length) return
    const stored = view.getUint32(at + 8 + length)
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== stored) {
      throw invalid(source, `broken PNG: bad checksum (CRC) of the ${JSON.stringify(type)} chunk at byte ${at}`)
    }

    if (type === 'IEND') return
    at += 12 + length
  }
}

const XMP_NAMESPACE = 'http://ns.adobe.com/xap/1.0/\0'

function startsWithText(bytes: Uint8Array, text: string): boolean {
  if (bytes.length < text.length) return false
  for (let i = 0; i < text.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false
  return true
}

/** Where a PNG's chunks run past the end of the file, said for an error message; undefined if they do not. */
export function describePngTruncation(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 8
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at)
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8))
    if (at + 12 + length > bytes.length) {
      return `the file is truncated: it ends at byte ${bytes.length}, inside the ${JSON.stringify(type)} chunk that starts at byte ${at}`
    }

    if (type === 'IEND') return undefined
    at += 12 + length
  }

  return at < bytes.length ? `the file is truncated: it ends at byte ${bytes.length}, inside a chunk header` : `the file is truncated: it ends at byte ${bytes.length}, before its IEND chunk`
}

function readJpegHeader(bytes: Uint8Array, source: string): ImageHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 2
  let exif: Uint8Array | undefined
  let xmp: Uint8Array | undefined
  for (;;) {
    // Markers may be preceded by fill bytes 0xFF.
    while (at < bytes.length && bytes[at] === 0xff && bytes[at + 1] === 0xff) at++
    if (at + 4 > bytes.length) throw invalid(source, `truncated JPEG: the file ends at byte ${bytes.length} before its frame header`)
    // PIL (and libjpeg, with a warning) skip junk bytes between segments.
    if (bytes[at] !== 0xff || bytes[at + 1] === 0x00) {
      at++
      continue
    }

    const marker = bytes[at + 1]
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2
      continue
    }

    if (marker === 0xd9 || marker === 0xda) {
      throw invalid(source, `broken JPEG: no frame header (SOF) before the ${marker === 0xda ? 'scan' : 'end'} at byte ${at}`)
    }

    const length = view.getUint16(at + 2)
    if (length < 2) throw invalid(source, `broken JPEG: segment at byte ${at} has length ${length}`)
    const body = bytes.subarray(at + 4, Math.min(bytes.length, at + 2 + length))
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isSof) {
      if (body.length < 6) throw invalid(source, `truncated JPEG: the frame header at byte ${at} is cut short`)
      const bitDepth = body[0]
      const height = (body[1] << 8) | body[2]
      const width = (body[3] << 8) | body[4]
      const components = body[5]
      if (width === 0 || height === 0) {
        throw invalid(source, `unsupported JPEG: the frame header at byte ${at} gives a size of ${width}x${height}`)
      }

      return {format: 'jpeg', width, height, bitDepth, components, orientation: resolveOrientation(exif, xmp)}
    }

    if (marker === 0xe1) {
      if (exif === undefined && startsWithText(body, 'Exif\0\0')) exif = body
      else if (xmp === undefined && startsWithText(body, XMP_NAMESPACE)) xmp = body.subarray(XMP_NAMESPACE.length)
    }

    at += 2 + length
  }
}
