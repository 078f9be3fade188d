/**
 * Flags shared by several commands, so that one flag name has one meaning (and one type) across verbs.
 */
import {Flags} from '@oclif/core'

import {SOURCE_FORMAT_CHOICES} from '../src/weights/convert.js'
import {OUTPUT_DTYPE_NAMES} from '../src/weights/dtype.js'

/**
 * A decimal number flag (oclif has integers only), refused at parse time (exit 2) when not a number in [min, max].
 * Returns the flag builder: `numberFlag({min: 0})({description, default: 5})`.
 */
export function numberFlag(range: {min?: number; max?: number} = {}) {
  const {min = -Infinity, max = Infinity} = range
  return Flags.custom<number>({
    async parse(input: string): Promise<number> {
      const n = input.trim() === '' ? Number.NaN : Number(input)
      if (!Number.isFinite(n)) throw new Error(`'${input}' is not a number`)
      if (n < min || n > max) throw new Error(`${input} is out of range: expected ${Number.isFinite(max) ? `${min} to ${max}` : `at least ${min}`}`)
      return n
    },
  })
}

/** How convert and package read a checkpoint: the same four flags with the same meaning. */
export const checkpointFlags = {
  from: Flags.option({description: 'Source format (default: detected from the content)', options: SOURCE_FORMAT_CHOICES, default: 'auto'})(),
  dtype: Flags.option({description: 'Element type of the written weights', options: OUTPUT_DTYPE_NAMES, default: 'float32'})(),
  'num-heads': Flags.integer({description: 'Attention heads, for a checkpoint without config whose hidden size is not a standard ViT size', min: 1}),
  labels: Flags.string({description: 'Class labels: a JSON id2label object or list, a config.json, or a text file with one label a line'}),
}
