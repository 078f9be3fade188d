/** The shipped example model and its 20 sample digits, with PyTorch's scores (test/fixtures/vit-digits/expected.json). */
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT} from '../helpers/cli.js'

export const DIGITS_MODEL = join(ROOT, 'examples', 'models', 'vit-digits')
export const DIGITS_DIR = join(ROOT, 'examples', 'images', 'digits')
export const ODD_IMAGES = join(ROOT, 'test', 'fixtures', 'images')

export interface DigitExpected {
  image: string
  true_label: string
  logits: number[]
  top: Array<{label: string; score: number}>
}

/** PyTorch's logits and top-3 for each sample digit, keyed by file name. */
export function expectedDigits(): Map<string, DigitExpected> {
  const data = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'vit-digits', 'expected.json'), 'utf8')) as {images: DigitExpected[]}
  return new Map(data.images.map((d) => [d.image, d]))
}

/** The 20 digit files, sorted by name. */
export function digitFiles(): string[] {
  return readdirSync(DIGITS_DIR)
    .filter((f) => f.endsWith('.png'))
    .sort()
}

/** The true label a digit file's name carries: digit-<label>-<n>.png. */
export function trueLabel(file: string): string {
  const m = /digit-(\d)-/.exec(file)
  if (!m) throw new Error(`not a digit file name: ${file}`)
  return m[1]
}

/** stderr with oclif's line wrapping (" ›   " continuation lines) undone. */
export const unwrap = (text: string): string => text.replace(/\s*\n\s*›\s*/g, ' ')
