import {describe, expect, it} from 'vitest'

import {seededRandom} from '../../src/core/random.js'
import {augmentImage, cropAndFlip, randomResizedCropBox} from '../../src/image/augment.js'
import type {RgbImage} from '../../src/image/types.js'

function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3)
  return {width, height, data}
}

describe('augmentation (RandomResizedCrop + RandomHorizontalFlip)', () => {
  it('crop boxes lie inside the image, with scale and aspect ratio in torchvision ranges', () => {
    const rand = seededRandom(1)
    for (let i = 0; i < 500; i++) {
      const b = randomResizedCropBox(40, 30, rand)
      expect(b.x).toBeGreaterThanOrEqual(0)
      expect(b.y).toBeGreaterThanOrEqual(0)
      expect(b.x + b.width).toBeLessThanOrEqual(40)
      expect(b.y + b.height).toBeLessThanOrEqual(30)
      const area = (b.width * b.height) / 1200
      // rounding of w and h lets the area stray a little outside [0.08, 1]
      expect(area).toBeGreaterThan(0.05)
      expect(area).toBeLessThanOrEqual(1)
    }
  })

  it('a very wide image falls back to the centre crop of aspect 4/3 when ten tries miss', () => {
    const b = randomResizedCropBox(100, 1, () => 0.999)
    expect(b).toEqual({x: Math.floor((100 - 1) / 2), y: 0, width: 1, height: 1})
  })

  it('crops the named pixels and mirrors them when flipped', () => {
    const img = gradient(5, 4)
    const c = cropAndFlip(img, {x: 1, y: 2, width: 3, height: 2}, false)
    expect([...c.data.subarray(0, 3)]).toEqual([1, 2, 7])
    const f = cropAndFlip(img, {x: 1, y: 2, width: 3, height: 2}, true)
    expect([...f.data.subarray(0, 3)]).toEqual([3, 2, 7])
    expect([...f.data.subarray(15, 18)]).toEqual([1, 3, 7])
  })

  it('is repeatable for a seed and differs between seeds', () => {
    const img = gradient(32, 32)
    const a = augmentImage(img, seededRandom(5))
    const b = augmentImage(img, seededRandom(5))
    const c = augmentImage(img, seededRandom(6))
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
  })
})
