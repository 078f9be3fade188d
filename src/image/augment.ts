/**
 * Training-time augmentation as the Azure ML image-classification finetune component applies it
 * (`apply_augmentations`): torchvision's RandomResizedCrop (scale 0.08-1, aspect ratio 3/4-4/3, ten tries then the
 * centre crop of the clamped ratio) and RandomHorizontalFlip (p 0.5), on the decoded RGB image, before the model's
 * own preprocessing resizes it. Seeded: the same random source gives the same crops.
 */
import type {RgbImage} from './types.js'

export interface CropBox {
  x: number
  y: number
  width: number
  height: number
}

const SCALE: readonly [number, number] = [0.08, 1]
const RATIO: readonly [number, number] = [3 / 4, 4 / 3]

/** torchvision.transforms.RandomResizedCrop.get_params: the region to crop from a width x height image. */
export function randomResizedCropBox(width: number, height: number, rand: () => number): CropBox {
  const area = width * height
  const logLo = Math.log(RATIO[0])
  const logHi = Math.log(RATIO[1])
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (SCALE[0] + rand() * (SCALE[1] - SCALE[0]))
    const ratio = Math.exp(logLo + rand() * (logHi - logLo))
    const w = Math.round(Math.sqrt(target * ratio))
    const h = Math.round(Math.sqrt(target / ratio))
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const y = Math.floor(rand() * (height - h + 1))
      const x = Math.floor(rand() * (width - w + 1))
      return {x, y, width: w, height: h}
    }
  }
  // Fallback: the whole image cropped to the nearest allowed aspect ratio, centred.
  const inRatio = width / height
  let w = width
  let h = height
  if (inRatio < RATIO[0]) h = Math.round(w / RATIO[0])
  else if (inRatio > RATIO[1]) w = Math.round(h * RATIO[1])
  return {x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h}
}

/** The pixels of `box` (inside the image) as a new image, mirrored left-right when `flip`. */
export function cropAndFlip(img: RgbImage, box: CropBox, flip: boolean): RgbImage {
  const {x, y, width: w, height: h} = box
  if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > img.width || y + h > img.height) {
    throw new RangeError(`internal: crop ${w}x${h}+${x}+${y} is outside the ${img.width}x${img.height} image`)
  }
  const data = new Uint8Array(w * h * 3)
  for (let row = 0; row < h; row++) {
    const src = ((y + row) * img.width + x) * 3
    const dst = row * w * 3
    if (!flip) data.set(img.data.subarray(src, src + w * 3), dst)
    else {
      for (let col = 0; col < w; col++) {
        const s = src + (w - 1 - col) * 3
        const d = dst + col * 3
        data[d] = img.data[s]
        data[d + 1] = img.data[s + 1]
        data[d + 2] = img.data[s + 2]
      }
    }
  }
  return {width: w, height: h, data}
}

/** RandomResizedCrop's region then RandomHorizontalFlip, drawn from `rand`; the model's resize follows. */
export function augmentImage(img: RgbImage, rand: () => number): RgbImage {
  const box = randomResizedCropBox(img.width, img.height, rand)
  return cropAndFlip(img, box, rand() < 0.5)
}
