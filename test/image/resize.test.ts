/**
 * resizeBilinear against PIL (Pillow's own output for a random image at many sizes, written by
 * fixtures/make-pil-cases.py), against values worked out by hand, and against a naive floating-point reference.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {resizeBilinear} from '../../src/image/resize.js'
import type {RgbImage} from '../../src/image/types.js'

const HERE = join(import.meta.dirname, 'fixtures')

/**
 * Naive reference: for each output pixel, the 2-D triangle-filter average over the source (support scaled by the
 * downscale factor), in float64, rounded at the end. Pillow rounds after each of its two 22-bit fixed-point passes,
 * so the two may differ by one level, never more.
 */
function naiveBilinear(img: RgbImage, width: number, height: number): RgbImage {
  const axis = (inSize: number, outSize: number, o: number): Array<[number, number]> => {
    const scale = inSize / outSize
    const fs = Math.max(1, scale)
    const center = (o + 0.5) * scale
    const taps: Array<[number, number]> = []
    let sum = 0
    for (let i = 0; i < inSize; i++) {
      const w = Math.max(0, 1 - Math.abs((i + 0.5 - center) / fs))
      if (w > 0) {
        taps.push([i, w])
        sum += w
      }
    }

    return taps.map(([i, w]) => [i, w / sum])
  }

  const data = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    const ty = axis(img.height, height, y)
    for (let x = 0; x < width; x++) {
      const tx = axis(img.width, width, x)
      for (let c = 0; c < 3; c++) {
        let s = 0
        for (const [sy, wy] of ty) for (const [sx, wx] of tx) s += img.data[(sy * img.width + sx) * 3 + c] * wy * wx
        data[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(s)))
      }
    }
  }

  return {width, height, data}
}

describe('resizeBilinear equals PIL Image.resize(BILINEAR)', () => {
  const meta = JSON.parse(readFileSync(join(HERE, 'resize-cases.json'), 'utf8')) as {source: [number, number]; sizes: Array<[number, number]>}
  const bin = new Uint8Array(readFileSync(join(HERE, 'resize-cases.bin')))
  const [sw, sh] = meta.source
  const source: RgbImage = {width: sw, height: sh, data: bin.subarray(0, sw * sh * 3)}
  let at = sw * sh * 3
  for (const [w, h] of meta.sizes) {
    const want = bin.subarray(at, at + w * h * 3)
    at += w * h * 3
    it(`${sw}x${sh} -> ${w}x${h}, byte for byte`, () => {
      const got = resizeBilinear(source, w, h)
      expect([got.width, got.height]).toEqual([w, h])
      let mismatches = 0
      for (let i = 0; i < want.length; i++) if (got.data[i] !== want[i]) mismatches++
      expect(mismatches).toBe(0)
    })
  }

  it('reads the whole reference file', () => {
    expect(at).toBe(bin.length)
  })
})

describe('resizeBilinear by hand', () => {
  it('halving two pixels gives their mean, halves rounded up (weights 1/2 each, 2^21 + 2^21, then the 2^21 rounding term)', () => {
    const img: RgbImage = {width: 2, height: 1, data: new Uint8Array([0, 10, 255, 1, 11, 254])}
    expect([...resizeBilinear(img, 1, 1).data]).toEqual([1, 11, 255])
  })

  it('upscaling a 1x1 image repeats its colour', () => {
    const img: RgbImage = {width: 1, height: 1, data: new Uint8Array([7, 128, 250])}
    const out = resizeBilinear(img, 5, 3)
    expect(out.data.length).toBe(45)
    for (let i = 0; i < 15; i++) expect([...out.data.subarray(i * 3, i * 3 + 3)]).toEqual([7, 128, 250])
  })

  it('a same-size resize is an unchanged copy', () => {
    const img: RgbImage = {width: 2, height: 2, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])}
    const out = resizeBilinear(img, 2, 2)
    expect(out.data).toEqual(img.data)
    expect(out.data).not.toBe(img.data)
  })

  it('a flat image stays flat at any size', () => {
    const img: RgbImage = {width: 9, height: 4, data: new Uint8Array(9 * 4 * 3).fill(200)}
    for (const [w, h] of [[3, 2], [20, 11], [1, 7]]) expect(resizeBilinear(img, w, h).data.every((v) => v === 200)).toBe(true)
  })

  it('refuses a size that is not a positive integer', () => {
    const img: RgbImage = {width: 1, height: 1, data: new Uint8Array(3)}
    expect(() => resizeBilinear(img, 0, 4)).toThrow(RangeError)
    expect(() => resizeBilinear(img, 2.5, 4)).toThrow(RangeError)
  })
})

describe('resizeBilinear against the naive float reference', () => {
  let seed = 7
  const rand = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed
  }

  for (const [iw, ih, ow, oh] of [[31, 17, 8, 5], [10, 10, 33, 21], [50, 3, 7, 9], [6, 40, 6, 13]]) {
    it(`${iw}x${ih} -> ${ow}x${oh}: within one level`, () => {
      const img: RgbImage = {width: iw, height: ih, data: Uint8Array.from({length: iw * ih * 3}, () => rand() % 256)}
      const fast = resizeBilinear(img, ow, oh)
      const ref = naiveBilinear(img, ow, oh)
      let max = 0
      for (let i = 0; i < ref.data.length; i++) max = Math.max(max, Math.abs(fast.data[i] - ref.data[i]))
      expect(max).toBeLessThanOrEqual(1)
    })
  }
})
