/**
 * The orientation `ImageOps.exif_transpose` acts on, found where Pillow's `Image.getexif()` looks for it:
 * - the EXIF blob: a JPEG's first APP1 "Exif\0\0" segment; a PNG's eXIf chunk, or failing that its
 *   "Raw profile type exif" text chunk (ImageMagick's hex dump);
 * - only when that holds no Orientation tag: the first `tiff:Orientation(="|>)([0-9])` of the XMP packet (a JPEG's
 *   APP1 "http://ns.adobe.com/xap/1.0/" segment, a PNG's "XML:com.adobe.xmp" text chunk).
 * Only 2..8 transpose anything; 1, absent, unreadable or other values leave the image as it is.
 */
import {inflateSync} from 'node:zlib'

/** Text chunks larger than this (inflated) are ignored, as Pillow ignores text past its MAX_TEXT_CHUNK (1 MB). */
const MAX_TEXT_BYTES = 1 << 20

/** Orientation (tag 0x0112) from IFD0 of a TIFF stream, with or without the "Exif\0\0" prefix. */
export function tiffOrientation(blob: Uint8Array): number | undefined {
  let tiff = blob
  while (tiff.length >= 6 && latin1(tiff.subarray(0, 6)) === 'Exif\0\0') tiff = tiff.subarray(6)
  if (tiff.length < 8) return undefined
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength)
  let little: boolean
  if (tiff[0] === 0x49 && tiff[1] === 0x49) little = true
  else if (tiff[0] === 0x4d && tiff[1] === 0x4d) little = false
  else return undefined
  const ifd = view.getUint32(4, little)
  if (ifd + 2 > tiff.length) return undefined
  const count = view.getUint16(ifd, little)
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12
    if (entry + 12 > tiff.length) return undefined
    if (view.getUint16(entry, little) !== 0x01_12) continue
    // A single SHORT is what the standard says; PIL reads the other integer types the same way.
    if (view.getUint32(entry + 4, little) !== 1) return undefined
    const type = view.getUint16(entry + 2, little)
    if (type === 3 || type === 8) return view.getUint16(entry + 8, little)
    if (type === 4 || type === 9) return view.getUint32(entry + 8, little)
    if (type === 1 || type === 6) return tiff[entry + 8]
    return undefined
  }

  return undefined
}

/** Pillow's XMP fallback: the digit after the first `tiff:Orientation="` or `tiff:Orientation>`. */
export function xmpOrientation(xmp: Uint8Array): number | undefined {
  const match = /tiff:Orientation(="|>)([0-9])/.exec(latin1(xmp))
  return match ? Number(match[2]) : undefined
}

export function resolveOrientation(exif: Uint8Array | undefined, xmp: Uint8Array | undefined): number {
  return (exif && tiffOrientation(exif)) ?? (xmp && xmpOrientation(xmp)) ?? 1
}

function latin1(bytes: Uint8Array): string {
  return new TextDecoder('latin1').decode(bytes)
}

/** A PNG text chunk (tEXt, zTXt, iTXt) as [keyword, text bytes]; undefined when malformed or too large. */
function pngText(type: string, body: Uint8Array): [string, Uint8Array] | undefined {
  const nul = body.indexOf(0)
  if (nul < 1 || nul > 79) return undefined
  const keyword = latin1(body.subarray(0, nul))
  const inflate = (data: Uint8Array): Uint8Array | undefined => {
    try {
      return inflateSync(data, {maxOutputLength: MAX_TEXT_BYTES})
    } catch {
      return undefined
    }
  }

  if (type === 'tEXt') return [keyword, body.subarray(nul + 1)]
  if (type === 'zTXt') {
    const text = body[nul + 1] === 0 ? inflate(body.subarray(nul + 2)) : undefined
    return text && [keyword, text]
  }

  // iTXt: keyword NUL flag method language NUL translated-keyword NUL text
  const compressed = body[nul + 1] === 1
  const languageEnd = body.indexOf(0, nul + 3)
  if (languageEnd < 0) return undefined
  const translatedEnd = body.indexOf(0, languageEnd + 1)
  if (translatedEnd < 0) return undefined
  const raw = body.subarray(translatedEnd + 1)
  const text = compressed ? inflate(raw) : raw
  return text && [keyword, text]
}

/** ImageMagick's "Raw profile type exif": "\nexif\n  <length>\n<hex lines>"; Pillow joins lines 3.. as hex. */
function rawProfileBytes(text: Uint8Array): Uint8Array | undefined {
  const hex = latin1(text).split('\n').slice(3).join('').replace(/\s+/g, '')
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** Walks a PNG's chunks (all of them: Pillow reads eXIf after IDAT too) for its orientation. */
export function pngOrientation(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let exif: Uint8Array | undefined
  let rawProfile: Uint8Array | undefined
  let xmp: Uint8Array | undefined
  let at = 8
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at)
    const type = latin1(bytes.subarray(at + 4, at + 8))
    const body = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length))
    if (type === 'eXIf') {
      exif ??= body
    } else if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') {
      const text = pngText(type, body)
      if (text?.[0] === 'Raw profile type exif') rawProfile ??= rawProfileBytes(text[1])
      else if (text?.[0] === 'XML:com.adobe.xmp') xmp ??= text[1]
    } else if (type === 'IEND') {
      break
    }

    at += 12 + length
  }

  return resolveOrientation(exif ?? rawProfile, xmp)
}
