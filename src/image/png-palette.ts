/**
 * PIL looks a palette index past the end of a PNG's PLTE up in its default palette, the grey ramp (i, i, i); libspng
 * (under sharp) gives black. So before decoding, a short PLTE is padded with those grey entries (up to the 2^depth
 * entries the bit depth can index), and the decoder then agrees with PIL on every index.
 */
import {crc32} from './crc32.js'

/** The PNG with its PLTE padded to 2^bitDepth entries by (i, i, i); the same bytes when nothing needs padding. */
export function padPngPalette(bytes: Uint8Array, bitDepth: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const full = 1 << bitDepth
  let at = 8
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at)
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7])
    if (type === 'IDAT' || type === 'IEND') return bytes
    if (type === 'PLTE') {
      // A malformed PLTE is left for the decoder to report.
      if (length % 3 !== 0 || length / 3 >= full || at + 12 + length > bytes.length) return bytes
      const entries = length / 3
      const body = new Uint8Array(full * 3)
      body.set(bytes.subarray(at + 8, at + 8 + length))
      for (let i = entries; i < full; i++) body.fill(i, i * 3, i * 3 + 3)
      const chunk = new Uint8Array(12 + body.length)
      const chunkView = new DataView(chunk.buffer)
      chunkView.setUint32(0, body.length)
      chunk.set(bytes.subarray(at + 4, at + 8), 4)
      chunk.set(body, 8)
      chunkView.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)))
      const out = new Uint8Array(bytes.length - length + body.length)
      out.set(bytes.subarray(0, at))
      out.set(chunk, at)
      out.set(bytes.subarray(at + 12 + length), at + chunk.length)
      return out
    }

    at += 12 + length
  }

  return bytes
}
