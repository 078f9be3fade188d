/** Reading the committed PyTorch fixtures (test/fixtures/vit-*): raw float32 files and expected.json. */
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

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
