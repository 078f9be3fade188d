/**
 * pixel_values of every sample image against PIL's (images/NAME.f32 of test/fixtures/vit-tiny and vit-geom, written by the fixture
 * generator with PIL + transformers' recipe), bit for bit, at both fixture geometries (224 and 64).
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

for (const geometry of ['vit-tiny', 'vit-geom']) {
  describe(`pixel_values equal PIL's, bit for bit (${geometry})`, () => {
    const dir = join(FIXTURES, geometry)
    const pre = parsePreprocessorConfig(JSON.parse(readFileSync(join(dir, 'preprocessor_config.json'), 'utf8')), 'preprocessor_config.json')
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {images: ExpectedImage[]}
    const readable = expected.images.filter((e) => e.pixel_values)

    it('covers every sample image of the fixture', () => {
      expect(readable.map((e) => e.image).sort()).toEqual(
        ['block.png', 'camera.png', 'checker_bilevel.png', 'chelsea.png', 'coffee.png', 'green_palette.png', 'horse.png', 'rocket-exif6.jpg', 'rocket.jpg'],
      )
    })

    for (const e of readable) {
      it(e.image, async () => {
        const bytes = readFileSync(join(FIXTURES, 'images', e.image))
        const got = await preprocessImage(bytes, pre, e.image)
        const want = readF32(join(dir, e.pixel_values as string))
        expect(got.length).toBe(3 * pre.height * pre.width)
        expect(got.length).toBe(want.length)
        expect(bitMismatches(got, want)).toEqual({count: 0, first: []})
      })
    }

    for (const e of expected.images.filter((x) => x.error)) {
      it(`${e.image} is refused, as PIL refuses it (${e.error})`, async () => {
        const bytes = readFileSync(join(FIXTURES, 'images', e.image))
        const error = await preprocessImage(bytes, pre, e.image).catch((error_: unknown) => error_)
        expect(error).toBeInstanceOf(InvalidInputError)
        expect((error as Error).message).toMatch(/^truncated\.jpg: /)
        expect((error as Error).message).toMatch(/premature end|truncated/i)
      })
    }
  })
}
