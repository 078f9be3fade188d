/**
 * transformers' geometric steps worked by hand: the resize target of get_resize_output_image_size (shortest edge,
 * long side truncated), center_crop's floor offsets and its zero padding, and the channel-format inference of a
 * 1- or 3-pixel-tall image. The photos' bit-exact check against transformers is in ./fixtures.test.ts.
 */
import {describe, expect, it} from 'vitest'

import {InvalidInputError} from '../../src/core/errors.js'
import {PROCESSOR_DEFAULTS, asTransformersSees, centerCrop, resizeOutputSize} from '../../src/image/index.js'
import type {RgbImage} from '../../src/image/index.js'

/** An image whose pixel (x, y) holds [x, y, 7]. */
function coords(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3)
  return {width, height, data}
}

describe('resizeOutputSize', () => {
  const bit = {...PROCESSOR_DEFAULTS.bit, resize: {shortestEdge: 64}}
  it('sets the shortest edge and truncates int(S * long / short)', () => {
    expect(resizeOutputSize(451, 300, bit)).toEqual({width: 96, height: 64}) // 64 * 451 / 300 = 96.21
    expect(resizeOutputSize(427, 640, bit)).toEqual({width: 64, height: 95}) // 64 * 640 / 427 = 95.93
    expect(resizeOutputSize(7, 7, bit)).toEqual({width: 64, height: 64})
    expect(resizeOutputSize(3, 7, bit)).toEqual({width: 64, height: 149}) // 149.33
  })
  it('returns a fixed size as is', () => {
    expect(resizeOutputSize(451, 300, PROCESSOR_DEFAULTS.vit)).toEqual({width: 224, height: 224})
  })
})

describe('centerCrop', () => {
  it('takes (size - crop) // 2 as the offsets', () => {
    const out = centerCrop(coords(7, 6), 4, 3) // left (7-4)//2 = 1, top (6-3)//2 = 1
    expect(out.width).toBe(4)
    expect(out.height).toBe(3)
    expect([...out.data.subarray(0, 3)]).toEqual([1, 1, 7])
    expect([...out.data.subarray(out.data.length - 3)]).toEqual([4, 3, 7])
  })
  it('pads with zeros, ceil-centred, when the crop is larger than the image', () => {
    // width: new 5, left_pad ceil(3/2) = 2, left = floor(-3/2) + 2 = 0; height: 1 -> crop 1, no pad
    const out = centerCrop(coords(2, 1), 5, 1)
    expect([...out.data]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 7, 1, 0, 7, 0, 0, 0])
  })
})

describe('asTransformersSees', () => {
  it('transposes a 3-pixel-tall image as channels-first, with a warning', () => {
    const img = coords(5, 3)
    const warnings: string[] = []
    const out = asTransformersSees(img, 's.png', (w) => warnings.push(w))
    expect([out.width, out.height]).toEqual([3, 5])
    // out pixel (x = c, y = column) channel r = in pixel (column, r) channel c
    for (let col = 0; col < 5; col++) for (let c = 0; c < 3; c++) for (let r = 0; r < 3; r++) expect(out.data[(col * 3 + c) * 3 + r]).toBe(img.data[(r * 5 + col) * 3 + c])
    expect(warnings).toHaveLength(1)
  })
  it('refuses a 1-pixel-tall image, naming it', () => {
    expect(() => asTransformersSees(coords(9, 1), 'l.png', () => {})).toThrow(InvalidInputError)
    expect(() => asTransformersSees(coords(9, 1), 'l.png', () => {})).toThrow(/^l\.png: the image is 1 pixel tall/)
  })
  it('leaves other images alone', () => {
    const img = coords(3, 2)
    expect(asTransformersSees(img, 'x.png', () => expect.fail('no warning'))).toBe(img)
  })
})
