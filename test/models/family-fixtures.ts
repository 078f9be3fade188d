/**
 * Runs a family's forward pass on its test/fixtures folder (inputs.f32 and every fixture image's pixel values) on a
 * given backend, against the PyTorch logits of expected.json, within the 1e-4.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'vitest'

import {checkTensor} from '../helpers/check-tensor.js'
import {FIXTURES, LOGITS_TOL, type FixtureExpected, readF32} from '../engine/fixtures.js'

export {FIXTURES} from '../engine/fixtures.js'

export interface Forward {
  (pixels: Float32Array, batch: number): Float32Array
}

/** Max abs logit difference over inputs.f32 (batched) and each fixture image; throws over LOGITS_TOL. */
export function checkFamilyFixture(name: string, forward: Forward, expectedFile = 'expected.json'): number {
  const dir = join(FIXTURES, name)
  const expected = JSON.parse(readFileSync(join(dir, expectedFile), 'utf8')) as FixtureExpected
  const inputs = readF32(join(dir, expected.inputs.file))
  const B = expected.inputs.shape[0]
  let max = checkTensor(forward(inputs, B), expected.inputs.logits.flat(), `${name} inputs.f32 logits`, LOGITS_TOL).maxAbsDiff
  const readable = expected.images.filter((img) => img.pixel_values)
  expect(readable.length).toBeGreaterThan(5)
  for (const img of readable) {
    const d = checkTensor(forward(readF32(join(dir, img.pixel_values!)), 1), img.logits!, `${name} ${img.image} logits`, LOGITS_TOL).maxAbsDiff
    max = Math.max(max, d)
  }
  return max
}
