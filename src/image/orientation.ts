/**
 * `ImageOps.exif_transpose`: the EXIF Orientation tag (1..8) names the transpose that makes the image upright.
 * PIL's mapping: 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE,
 * 8 ROTATE_90 (PIL's rotations are counter-clockwise). Any other value leaves the image as it is.
 */
import type {RgbImage} from './types.js'

/** For output pixel (x, y) of an output `ow` wide and `oh` high, the source pixel it copies, as [sx, sy]. */
type SourceOf = (x: number, y: number, w: number, h: number) => [number, number]

const TRANSPOSES: Record<number, {swap: boolean; source: SourceOf}> = {
  // FLIP_LEFT_RIGHT
  2: {swap: false, source: (x, y, w) => [w - 1 - x, y]},
  // ROTATE_180
  3: {swap: false, source: (x, y, w, h) => [w - 1 - x, h - 1 - y]},
  // FLIP_TOP_BOTTOM
  4: {swap: false, source: (x, y, _w, h) => [x, h - 1 - y]},
  // TRANSPOSE (mirror on the main diagonal)
  5: {swap: true, source: (x, y) => [y, x]},
  // ROTATE_270 (90 degrees clockwise)
  6: {swap: true, source: (x, y, _w, h) => [y, h - 1 - x]},
  // TRANSVERSE (mirror on the anti-diagonal)
  7: {swap: true, source: (x, y, w, h) => [w - 1 - y, h - 1 - x]},
  // ROTATE_90 (90 degrees counter-clockwise)
  8: {swap: true, source: (x, y, w) => [w - 1 - y, x]},
}

/** The image as `exif_transpose` leaves it; the same object when the orientation needs no change. */
export function applyOrientation(img: RgbImage, orientation: number): RgbImage {
  const t = TRANSPOSES[orientation]
  if (!t) return img
  const {width: w, height: h, data} = img
  const ow = t.swap ? h : w
  const oh = t.swap ? w : h
  const out = new Uint8Array(data.length)
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const [sx, sy] = t.source(x, y, w, h)
      const s = (sy * w + sx) * 3
      const o = (y * ow + x) * 3
      out[o] = data[s]
      out[o + 1] = data[s + 1]
      out[o + 2] = data[s + 2]
    }
  }

  return {width: ow, height: oh, data: out}
}
