/**
 * transformers' geometric steps on a decoded 8-bit RGB image, in its own arithmetic: the channel-format inference
 * (`image_utils.infer_channel_dimension_format`), the resize target (`image_transforms.get_resize_output_image_size`)
 * and the center crop (`image_transforms.center_crop`, floor offsets, zero padding when the crop is larger).
 */
import {InvalidInputError} from '../core/errors.js'
import type {PreprocessorConfig} from './preprocessor-config.js'
import {resizePil} from './resize.js'
import type {RgbImage} from './types.js'

/**
 * The image as transformers' processors see it. They infer the channel axis from the numpy array's shape, taking a
 * first dimension of 1 or 3 as the channels (checked before the last one). So an RGB image 3 pixels tall is read as
 * channels-first: its 3 rows become the channels and each column a row, i.e. the endpoint classifies the image
 * transposed — reproduced here, with `warn` told so. An image 1 pixel tall is read as 1-channel and the endpoint
 * fails normalising it; it is refused the same way.
 */
export function asTransformersSees(img: RgbImage, source: string, warn: (message: string) => void): RgbImage {
  if (img.height === 1) {
    throw new InvalidInputError(
      `${source}: the image is 1 pixel tall: transformers reads such an array as channels-first with 1 channel and the endpoint refuses it ("ValueError: mean must have 1 elements if it is an iterable, got 3")`,
      {file: source},
    )
  }
  if (img.height !== 3) return img
  warn(
    `${source}: the image is 3 pixels tall: transformers reads it as channels-first (its rows as the RGB channels), so the endpoint classifies it transposed to ${img.width}x3; vitrine does the same`,
  )
  // (3 rows r, W columns x, channels c) read as (C=r, H=x, W=c), moved to channels-last: out[x][c][r] = in[r][x][c].
  const W = img.width
  const data = new Uint8Array(W * 9)
  for (let r = 0; r < 3; r++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) data[(x * 3 + c) * 3 + r] = img.data[(r * W + x) * 3 + c]
  return {width: 3, height: W, data}
}

/** get_resize_output_image_size: a fixed target, or the shortest edge to `S` and the long one to int(S * long / short). */
export function resizeOutputSize(width: number, height: number, pre: PreprocessorConfig): {width: number; height: number} {
  const target = pre.resize
  if ('height' in target) return {width: target.width, height: target.height}
  const S = target.shortestEdge
  if (width <= height) return {width: S, height: Math.trunc((S * height) / width)}
  return {width: Math.trunc((S * width) / height), height: S}
}

/**
 * image_transforms.center_crop to `cropWidth` x `cropHeight`: offsets (size - crop) // 2 (Python's floor division);
 * a crop larger than the image pads it with zeros, ceil-centred, as transformers does.
 */
export function centerCrop(img: RgbImage, cropWidth: number, cropHeight: number): RgbImage {
  const {width: W, height: H} = img
  let top = Math.floor((H - cropHeight) / 2)
  let left = Math.floor((W - cropWidth) / 2)
  if (top >= 0 && left >= 0 && top + cropHeight <= H && left + cropWidth <= W) return copyRegion(img, left, top, cropWidth, cropHeight)
  // Pad to at least the crop size, the image placed at ceil((new - old) / 2), then take the (clipped) crop.
  const newH = Math.max(cropHeight, H)
  const newW = Math.max(cropWidth, W)
  const topPad = Math.ceil((newH - H) / 2)
  const leftPad = Math.ceil((newW - W) / 2)
  const padded = new Uint8Array(newW * newH * 3)
  for (let y = 0; y < H; y++) padded.set(img.data.subarray(y * W * 3, (y + 1) * W * 3), ((y + topPad) * newW + leftPad) * 3)
  top += topPad
  left += leftPad
  const y0 = Math.max(0, top)
  const x0 = Math.max(0, left)
  const y1 = Math.min(newH, top + cropHeight)
  const x1 = Math.min(newW, left + cropWidth)
  return copyRegion({width: newW, height: newH, data: padded}, x0, y0, x1 - x0, y1 - y0)
}

function copyRegion(img: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    const src = ((top + y) * img.width + left) * 3
    data.set(img.data.subarray(src, src + width * 3), y * width * 3)
  }
  return {width, height, data}
}

/** The processor's geometric steps on an image as transformers sees it: resize (PIL), then center crop. */
export function resizeAndCrop(img: RgbImage, pre: PreprocessorConfig): RgbImage {
  let out = img
  if (pre.doResize) {
    const {width, height} = resizeOutputSize(img.width, img.height, pre)
    out = resizePil(img, width, height, pre.resample)
  }
  if (pre.doCenterCrop) out = centerCrop(out, pre.cropWidth, pre.cropHeight)
  return out
}
