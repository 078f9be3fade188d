/** Shared by the batch tests of both tiers. */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {DIGITS_DIR, digitFiles} from '../runner/digits.js'

export interface JsonlRow {
  id: string
  predictions?: Array<{label: string; score: number}>
  error?: string
}

export const readJsonl = async (file: string): Promise<JsonlRow[]> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonlRow)

export function checkResult(stdout: string): Record<string, unknown> {
  const data = JSON.parse(stdout) as Record<string, unknown>
  const checked = validateWithSchema('batch-result.schema.json', data)
  if (checked.state !== 'ok') throw new Error(`batch --json does not match its schema: ${JSON.stringify(checked.issues)}`)
  return data
}

export async function digitsBase64(): Promise<Array<{file: string; b64: string}>> {
  return Promise.all(digitFiles().map(async (file) => ({file, b64: (await readFile(join(DIGITS_DIR, file))).toString('base64')})))
}

