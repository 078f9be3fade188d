/** Reading the committed PyTorch fixtures (test/fixtures/vit-*): raw float32 files and expected.json. */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'vitest'

import {type LoadedModel, softmax, topK} from '../../src/engine/classifier.js'
import {checkTensor} from '../helpers/check-tensor.js'

export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url))
export const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url))

export interface FixtureImage {
  image: string
  pixel_values?: string
  logits?: number[]
  top?: Array<{label: string; score: number}>
  error?: string
}

export interface FixtureExpected {
  inputs: {file: string; shape: number[]; logits: number[][]; logits_float64: number[][]}
  images: FixtureImage[]
}

export function readF32(file: string): Float32Array {
  const buf = readFileSync(file)
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))
}

export function readExpected(dir: string): FixtureExpected {
  return JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as FixtureExpected
}

/** The bar: PyTorch float32 logits within 1e-4 max abs. */
export const LOGITS_TOL = 1e-4
/** Softmax scores are in [0, 1]; a 1e-4 logit error moves them by at most ~1e-4 of themselves. */
export const SCORE_TOL = 1e-5

/**
 * Runs every readable fixture image's committed pixel values through `model` and checks its logits within
 * LOGITS_TOL and its top-5 labels in PyTorch's order (and, with `scores`, the top-5 scores within SCORE_TOL).
 */
export function checkFixtureImages(model: LoadedModel, dir: string, name: string, options: {scores?: boolean} = {}): void {
  const expected = readExpected(dir)
  const readable = expected.images.filter((img) => img.pixel_values)
  expect(readable.length).toBeGreaterThan(5)
  for (const img of readable) {
    const logits = model.forward(readF32(join(dir, img.pixel_values!)), 1)
    checkTensor(logits, img.logits!, `${name} ${img.image} logits`, LOGITS_TOL)
    const top = topK(softmax(logits, model.config.numLabels), 5, model.labels)
    expect(top.map((p) => p.label), img.image).toEqual(img.top!.map((p) => p.label))
    if (options.scores) checkTensor(top.map((p) => p.score), img.top!.map((p) => p.score), `${name} ${img.image} top-5 scores`, SCORE_TOL)
  }
}
