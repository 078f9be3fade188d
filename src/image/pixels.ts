/**
 * The last steps of transformers' image processors: rescale, normalise, HWC -> CHW, as `image_transforms` computes
 * them:
 *
 * - rescale (`image_transforms.rescale`): `image.astype(float64) * rescale_factor`, then cast to float32, i.e.
 *   `float32(v * factor)` with the factor in double;
 * - normalise (`image_transforms.normalize`): `(x - float32(mean)) / float32(std)`, each operation rounded to
 *   float32 (the mean and std are cast to the image's float32 dtype).
 *
 * This is the arithmetic of the reference pixel_values (images/NAME.f32 of every test/fixtures model), checked bit for
 * bit. JavaScript computes in float64; `Math.fround` after each operation gives exactly float32's result, since a
 * float64 difference or quotient of two float32 values, rounded to float32, is the correctly rounded float32 result.
 */
import type {PreprocessorConfig} from './preprocessor-config.js'
import type {RgbImage} from './types.js'

/** pixel_values [3, H, W] of an already resized image, written into `out` at `offset` (allocated when absent). */
export function toPixelValues(img: RgbImage, pre: PreprocessorConfig, out?: Float32Array, offset = 0): Float32Array {
  const {width, height, data} = img
  const plane = width * height
  const target = out ?? new Float32Array(3 * plane)
  if (offset < 0 || offset + 3 * plane > target.length) {
    throw new RangeError(`toPixelValues: ${3 * plane} values do not fit at offset ${offset} of ${target.length}`)
  }

  for (let c = 0; c < 3; c++) {
    // One lookup table per channel: a uint8 input has only 256 possible outputs.
    const lut = channelLut(pre, c)
    const base = offset + c * plane
    for (let i = 0; i < plane; i++) target[base + i] = lut[data[i * 3 + c]]
  }

  return target
}

/** The float32 value each uint8 level becomes in channel `c`. */
export function channelLut(pre: PreprocessorConfig, c: number): Float32Array {
  const lut = new Float32Array(256)
  const mean = Math.fround(pre.imageMean[c])
  const std = Math.fround(pre.imageStd[c])
  for (let v = 0; v < 256; v++) {
    let x = v
    if (pre.doRescale) x = Math.fround(v * pre.rescaleFactor)
    if (pre.doNormalize) x = Math.fround(Math.fround(x - mean) / std)
    lut[v] = x
  }

  return lut
}
