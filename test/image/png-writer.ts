/**
 * A deliberately simple PNG writer for tests: any colour type and bit depth, optional Adam7 interlacing, PLTE, tRNS,
 * eXIf and text chunks, every scanline with filter 0 (None) or 2 (Up). It shares no code with the decoders under
 * test, so a decoder that reads these files back is checked against the samples the test put in.
 */
import {deflateSync} from 'node:zlib'

import {crc32} from '../../src/image/crc32.js'

export interface PngSpec {
  width: number
  height: number
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: 0 | 2 | 3 | 4 | 6
  bitDepth: 1 | 2 | 4 | 8 | 16
  /** Samples, row-major, `channels` per pixel, each < 2^bitDepth (palette indices for colour type 3). */
  samples: ArrayLike<number>
  interlace?: boolean
  /** PLTE entries [r, g, b]. */
  palette?: Array<[number, number, number]>
  /** Raw tRNS chunk body. */
  trns?: Uint8Array
  /** Raw eXIf chunk body (a TIFF stream, "II*\0..."). */
  exif?: Uint8Array
  /** tEXt / iTXt chunks to include verbatim as [type, body]. */
  extraChunks?: Array<[string, Uint8Array]>
  /** Filter type used on every scanline. */
  filter?: 0 | 2
}

const CHANNELS: Record<number, number> = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}

export function pngChunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, body.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(body, 8)
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)))
  return out
}

/** Packs one row of samples at the given bit depth (MSB first, big-endian 16-bit). */
function packRow(samples: number[], bitDepth: number): Uint8Array {
  const bytes = new Uint8Array(Math.ceil((samples.length * bitDepth) / 8))
  if (bitDepth === 16) {
    samples.forEach((s, i) => {
      bytes[i * 2] = s >> 8
      bytes[i * 2 + 1] = s & 0xff
    })
  } else if (bitDepth === 8) {
    bytes.set(samples)
  } else {
    samples.forEach((s, i) => {
      const bit = i * bitDepth
      bytes[bit >> 3] |= s << (8 - bitDepth - (bit & 7))
    })
  }

  return bytes
}

/** The scanlines (filter byte + packed row) of one sub-image made of the given pixel coordinates. */
function scanlines(spec: PngSpec, xs: number[], ys: number[], channels: number): Uint8Array[] {
  if (xs.length === 0 || ys.length === 0) return []
  const rows: Uint8Array[] = []
  let previous: Uint8Array | undefined
  for (const y of ys) {
    const samples: number[] = []
    for (const x of xs) {
      for (let c = 0; c < channels; c++) samples.push(spec.samples[(y * spec.width + x) * channels + c])
    }

    const packed = packRow(samples, spec.bitDepth)
    const filter = spec.filter ?? 0
    const line = new Uint8Array(1 + packed.length)
    line[0] = filter
    for (let i = 0; i < packed.length; i++) line[1 + i] = filter === 2 ? (packed[i] - (previous?.[i] ?? 0)) & 0xff : packed[i]
    rows.push(line)
    previous = packed
  }

  return rows
}

const ADAM7: Array<[number, number, number, number]> = [
  // [x0, y0, dx, dy]
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
]

const range = (start: number, end: number, step: number): number[] => {
  const out: number[] = []
  for (let i = start; i < end; i += step) out.push(i)
  return out
}

export function writePng(spec: PngSpec): Uint8Array {
  const channels = CHANNELS[spec.colorType]
  const ihdr = new Uint8Array(13)
  const view = new DataView(ihdr.buffer)
  view.setUint32(0, spec.width)
  view.setUint32(4, spec.height)
  ihdr[8] = spec.bitDepth
  ihdr[9] = spec.colorType
  ihdr[12] = spec.interlace ? 1 : 0

  const lines: Uint8Array[] = []
  if (spec.interlace) {
    for (const [x0, y0, dx, dy] of ADAM7) {
      lines.push(...scanlines(spec, range(x0, spec.width, dx), range(y0, spec.height, dy), channels))
    }
  } else {
    lines.push(...scanlines(spec, range(0, spec.width, 1), range(0, spec.height, 1), channels))
  }

  const raw = new Uint8Array(lines.reduce((n, l) => n + l.length, 0))
  let at = 0
  for (const l of lines) {
    raw.set(l, at)
    at += l.length
  }

  const parts: Uint8Array[] = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
  ]
  if (spec.exif) parts.push(pngChunk('eXIf', spec.exif))
  if (spec.palette) parts.push(pngChunk('PLTE', new Uint8Array(spec.palette.flat())))
  if (spec.trns) parts.push(pngChunk('tRNS', spec.trns))
  for (const [type, body] of spec.extraChunks ?? []) parts.push(pngChunk(type, body))
  parts.push(pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0)))
  return Buffer.concat(parts)
}

/** A minimal little-endian TIFF stream with IFD0 holding one Orientation (0x0112) SHORT entry. */
export function exifOrientation(orientation: number): Uint8Array {
  const b = new Uint8Array(8 + 2 + 12 + 4)
  const v = new DataView(b.buffer)
  b.set([0x49, 0x49, 0x2a, 0x00])
  v.setUint32(4, 8, true)
  v.setUint16(8, 1, true)
  v.setUint16(10, 0x01_12, true)
  v.setUint16(12, 3, true)
  v.setUint32(14, 1, true)
  v.setUint16(18, orientation, true)
  v.setUint32(22, 0, true)
  return b
}
