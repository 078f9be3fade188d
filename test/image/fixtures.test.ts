/**
 * pixel_values of every sample image against transformers' (images/NAME.f32 of every test/fixtures model, written by
 * the fixture generator with PIL + transformers' image processors), bit for bit: ViTImageProcessor BILINEAR at 224
 * and 64, BEiT's legacy feature-extractor form, ViTImageProcessor BICUBIC (SwinV2), BitImageProcessor (shortest edge
 * BICUBIC + center crop, DINOv2). A 3-pixel-tall image is transposed as transformers does; 1-pixel-tall and truncated
 * files are refused.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {InvalidInputError} from '../../src/core/errors.js'
import {parsePreprocessorConfig, preprocessImage} from '../../src/image/index.js'

const FIXTURES = join(import.meta.dirname, '..', 'fixtures')

interface ExpectedImage {
  image: string
  pixel_values?: string
  error?: string
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path)
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
}

/** Count of elements whose float32 bit patterns differ, and the first few of them. */
function bitMismatches(got: Float32Array, want: Float32Array): {count: number; first: string[]} {
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length)
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length)
  const first: string[] = []
  let count = 0
  for (let i = 0; i < w.length; i++) {
    if (g[i] !== w[i]) {
      count++
      if (first.length < 5) first.push(`[${i}] got ${got[i]} want ${want[i]}`)
    }
  }

  return {count, first}
}

for (const geometry of ['vit-tiny', 'vit-geom', 'beit-tiny', 'swinv2-tiny', 'dinov2-tiny']) {
  describe(`pixel_values equal PIL's, bit for bit (${geometry})`, () => {
    const dir = join(FIXTURES, geometry)
    const pre = parsePreprocessorConfig(JSON.parse(readFileSync(join(dir, 'preprocessor_config.json'), 'utf8')), 'preprocessor_config.json')
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {images: ExpectedImage[]}
    const readable = expected.images.filter((e) => e.pixel_values)

    it('covers every sample image of the fixture', () => {
      expect(readable.map((e) => e.image).sort()).toEqual(
        ['block.png', 'camera.png', 'checker_bilevel.png', 'chelsea.png', 'coffee.png', 'green_palette.png', 'horse.png', 'rocket-exif6.jpg', 'rocket.jpg', 'strip-3px.png'],
      )
    })

    for (const e of readable) {
      it(e.image, async () => {
        const bytes = readFileSync(join(FIXTURES, 'images', e.image))
        const warnings: string[] = []
        const got = await preprocessImage(bytes, pre, e.image, {onWarning: (w) => warnings.push(w)})
        const want = readF32(join(dir, e.pixel_values as string))
        expect(got.length).toBe(3 * pre.height * pre.width)
        expect(got.length).toBe(want.length)
        expect(bitMismatches(got, want)).toEqual({count: 0, first: []})
        if (e.image === 'strip-3px.png') expect(warnings).toEqual([expect.stringMatching(/^strip-3px\.png: the image is 3 pixels tall: .*transposed to 7x3/)])
        else expect(warnings).toEqual([])
      })
    }

    const errors = expected.images.filter((x) => x.error)
    it('records exactly the truncated JPEG and the 1-pixel-tall PNG as failures', () => {
      expect(errors.map((e) => e.image).sort()).toEqual(['line-1px.png', 'truncated.jpg'])
    })

    for (const e of errors) {
      it(`${e.image} is refused, as transformers refuses it (${e.error})`, async () => {
        const bytes = readFileSync(join(FIXTURES, 'images', e.image))
        const error = await preprocessImage(bytes, pre, e.image).catch((error_: unknown) => error_)
        expect(error).toBeInstanceOf(InvalidInputError)
        const message = (error as Error).message
        expect(message.startsWith(`${e.image}: `)).toBe(true)
        if (e.image === 'truncated.jpg') expect(message).toMatch(/premature end|truncated/i)
        else expect(message).toMatch(/1 pixel tall.*mean must have 1 elements/)
      })
    }
  })
}
