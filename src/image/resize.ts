/**
 * PIL's `Image.resize(size, Image.BILINEAR | Image.BICUBIC)` for 8-bit RGB, reproduced operation for operation so
 * the result is the same uint8 image (Pillow's libImaging/Resample.c, since Pillow 7):
 *
 * - separable: a horizontal pass into a temporary image holding only the source rows the vertical pass reads, then
 *   the vertical pass; a pass whose size does not change is skipped;
 * - per output pixel, the filter (triangle, support 1; or Keys' cubic with a = -0.5, support 2) is stretched by the
 *   scale when downscaling (antialiasing: support x scale), its weights computed in double, normalised to sum 1,
 *   then converted to 22-bit fixed point (PRECISION_BITS = 32 - 8 - 2) by rounding half away from zero;
 * - each sum starts at 1 << 21 (so the final shift rounds) and is clipped to 0..255 after `>> 22` (the cubic's
 *   negative lobes can take a sum below 0 or above 255).
 */
import type {RgbImage} from './types.js'

const PRECISION_BITS = 32 - 8 - 2
const ONE = 1 << PRECISION_BITS
const HALF = 1 << (PRECISION_BITS - 1)

/** A PIL resampling filter: its kernel and its support (half-width, in source pixels at scale 1). */
interface Filter {
  kernel: (x: number) => number
  support: number
}

/** PIL's filter ids (Image.Resampling) that are implemented here. */
export const PIL_BILINEAR = 2
export const PIL_BICUBIC = 3

const FILTERS: Record<number, Filter> = {
  [PIL_BILINEAR]: {kernel: bilinearFilter, support: 1},
  [PIL_BICUBIC]: {kernel: bicubicFilter, support: 2},
}

/** Whether `resample` (a PIL filter id) is one resizePil implements. */
export function isSupportedResample(resample: number): boolean {
  return FILTERS[resample] !== undefined
}

/** Per output pixel: the first source index, the tap count, and `ksize` fixed-point weights. */
interface Coefficients {
  ksize: number
  bounds: Int32Array // [outSize * 2]: xmin, count
  weights: Int32Array // [outSize * ksize]
}

function bilinearFilter(x: number): number {
  if (x < 0) x = -x
  return x < 1 ? 1 - x : 0
}

/** Pillow's bicubic_filter: Keys' cubic convolution with a = -0.5, in the same operation order. */
function bicubicFilter(x: number): number {
  const a = -0.5
  if (x < 0) x = -x
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a
  return 0
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the box [0, inSize). */
export function filterCoefficients(inSize: number, outSize: number, filter: Filter = FILTERS[PIL_BILINEAR]): Coefficients {
  const scale = inSize / outSize
  const filterScale = scale < 1 ? 1 : scale
  const support = filter.support * filterScale
  const ksize = Math.ceil(support) * 2 + 1
  const bounds = new Int32Array(outSize * 2)
  const weights = new Int32Array(outSize * ksize)
  const k = new Float64Array(ksize)
  const ss = 1 / filterScale
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale
    // C's (int) cast truncates toward zero.
    let xmin = Math.trunc(center - support + 0.5)
    if (xmin < 0) xmin = 0
    let xmax = Math.trunc(center + support + 0.5)
    if (xmax > inSize) xmax = inSize
    xmax -= xmin
    let ww = 0
    for (let x = 0; x < xmax; x++) {
      const w = filter.kernel((x + xmin - center + 0.5) * ss)
      k[x] = w
      ww += w
    }

    for (let x = 0; x < ksize; x++) {
      let w = 0
      if (x < xmax) w = ww === 0 ? k[x] : k[x] / ww
      // normalize_coeffs_8bpc: (int)(±0.5 + w * (1 << PRECISION_BITS))
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE)
    }

    bounds[xx * 2] = xmin
    bounds[xx * 2 + 1] = xmax
  }

  return {ksize, bounds, weights}
}

/** clip8(ss): `ss >> 22` clipped to 0..255 (Pillow's lookup table does the same). */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS
  return v < 0 ? 0 : v > 255 ? 255 : v
}

/** out[outWidth x rows] <- horizontal pass over rows [rowOffset, rowOffset + rows) of src[inWidth x *], RGB. */
function resampleHorizontal(
  out: Uint8Array,
  src: Uint8Array,
  inWidth: number,
  outWidth: number,
  rowOffset: number,
  rows: number,
  c: Coefficients,
): void {
  const {ksize, bounds, weights} = c
  for (let yy = 0; yy < rows; yy++) {
    const rowBase = (yy + rowOffset) * inWidth * 3
    const outBase = yy * outWidth * 3
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = bounds[xx * 2]
      const count = bounds[xx * 2 + 1]
      const kBase = xx * ksize
      let s0 = HALF
      let s1 = HALF
      let s2 = HALF
      let p = rowBase + xmin * 3
      for (let x = 0; x < count; x++, p += 3) {
        const w = weights[kBase + x]
        // Int32 arithmetic (every partial sum stays below 2^31) keeps the JIT on integer instructions.
        s0 = (s0 + Math.imul(src[p], w)) | 0
        s1 = (s1 + Math.imul(src[p + 1], w)) | 0
        s2 = (s2 + Math.imul(src[p + 2], w)) | 0
      }

      const o = outBase + xx * 3
      out[o] = clip8(s0)
      out[o + 1] = clip8(s1)
      out[o + 2] = clip8(s2)
    }
  }
}

/** out[width x outHeight] <- vertical pass over src[width x *] (bounds already shifted to src's first row), RGB. */
function resampleVertical(out: Uint8Array, src: Uint8Array, width: number, outHeight: number, c: Coefficients): void {
  const {ksize, bounds, weights} = c
  const stride = width * 3
  // Row-at-a-time accumulation (the same sums as Pillow's per-pixel loop, added in the same order) reads memory
  // sequentially. The sums stay below 255 * 1.25 * 2^22 + 2^21 < 2^31 (the cubic's positive weights sum to under
  // 1.25), so Int32 holds them exactly, as Pillow's INT32 accumulators do.
  const acc = new Int32Array(stride)
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2]
    const count = bounds[yy * 2 + 1]
    const kBase = yy * ksize
    acc.fill(HALF)
    for (let y = 0; y < count; y++) {
      const w = weights[kBase + y]
      const rowBase = (ymin + y) * stride
      for (let i = 0; i < stride; i++) acc[i] += Math.imul(src[rowBase + i], w)
    }

    const outBase = yy * stride
    for (let i = 0; i < stride; i++) out[outBase + i] = clip8(acc[i])
  }
}

/** PIL `img.resize((width, height), Image.BILINEAR)` of an 8-bit RGB image; the same uint8 result, byte for byte. */
export function resizeBilinear(img: RgbImage, width: number, height: number): RgbImage {
  return resizePil(img, width, height, PIL_BILINEAR)
}

/**
 * PIL `img.resize((width, height), resample)` of an 8-bit RGB image for resample 2 (BILINEAR) or 3 (BICUBIC); the
 * same uint8 result, byte for byte.
 */
export function resizePil(img: RgbImage, width: number, height: number, resample: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resizePil: bad target size ${width}x${height}`)
  }
  const filter = FILTERS[resample]
  if (!filter) throw new RangeError(`resizePil: PIL filter ${resample} is not implemented (2 BILINEAR and 3 BICUBIC are)`)

  // Image.resize returns a copy when nothing changes.
  if (img.width === width && img.height === height) {
    return {width, height, data: img.data.slice()}
  }

  const needHorizontal = img.width !== width
  const needVertical = img.height !== height
  const horiz = filterCoefficients(img.width, width, filter)
  const vert = filterCoefficients(img.height, height, filter)

  let current = img
  if (needHorizontal) {
    // Only the source rows the vertical pass will read are resampled horizontally.
    const first = vert.bounds[0]
    const last = vert.bounds[height * 2 - 2] + vert.bounds[height * 2 - 1]
    for (let i = 0; i < height; i++) vert.bounds[i * 2] -= first
    const rows = last - first
    const temp = new Uint8Array(width * rows * 3)
    resampleHorizontal(temp, img.data, img.width, width, first, rows, horiz)
    current = {width, height: rows, data: temp}
  }

  if (needVertical) {
    const out = new Uint8Array(width * height * 3)
    resampleVertical(out, current.data, width, height, vert)
    current = {width, height, data: out}
  }

  return current
}
