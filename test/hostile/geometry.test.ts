/**
 * Hostile input, geometry (issue 13, finding 5): configs and tensor names that declare an enormous model are refused
 * from their numbers (exit 1), before any allocation, instead of a heap abort or a WebAssembly out-of-memory (exit 4).
 */
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {createTsBackend} from '../../src/engine/backend-ts.js'
import {loadModel} from '../../src/engine/classifier.js'
import {convertCheckpoint} from '../../src/weights/convert.js'
import {tempDir} from '../helpers/tmp.js'
import {userError} from './user-error.js'
import {tinyWithConfig} from './tiny-model.js'
import {FIXTURES, rawSafetensors, readSafetensorsPlain} from '../helpers/weight-writers.js'

const TINY = join(FIXTURES, 'vit-tiny')


describe('finding 5: unbounded geometry', () => {
  it('convert refuses num_hidden_layers: 1000000 at once (was a 4.4 GB heap abort after 190 s)', async () => {
    const {root, model} = await tinyWithConfig((c) => (c.num_hidden_layers = 1_000_000))
    const t0 = Date.now()
    const e = await userError(convertCheckpoint(model, join(root, 'out')))
    expect(e.exitCode).toBe(1)
    expect(e.message).toMatch(/num_hidden_layers 1000000 is over vitrine's limit of 256/)
    expect(Date.now() - t0).toBeLessThan(5000)
  })

  it('convert refuses one tensor named ...layer.99999999... with no config', async () => {
    const root = await tempDir()
    const tensors = await readSafetensorsPlain(join(TINY, 'model.safetensors'))
    const header: Record<string, unknown> = {}
    const parts: Buffer[] = []
    let at = 0
    const add = (name: string, dtype: string, shape: number[], bytes: Buffer): void => {
      header[name] = {dtype, shape, data_offsets: [at, at + bytes.length]}
      parts.push(bytes)
      at += bytes.length
    }
    for (const [name, t] of tensors) add(name, t.dtype, t.shape, t.bytes)
    add('vit.encoder.layer.99999999.output.dense.bias', 'F32', [1], Buffer.alloc(4))
    await writeFile(join(root, 'model.safetensors'), rawSafetensors(header, Buffer.concat(parts)))
    const e = await userError(convertCheckpoint(join(root, 'model.safetensors'), join(root, 'out')))
    expect(e.exitCode).toBe(1)
    expect(e.message).toMatch(/num_hidden_layers 100000000 is over vitrine's limit/)
  })

  for (const [what, edit, field] of [
    ['num_labels: 1e9 without id2label', (c: Record<string, unknown>) => {
      c.num_labels = 1_000_000_000
      delete c.id2label
      delete c.label2id
    }, 'num_labels'],
    ['hidden_size 65536', (c: Record<string, unknown>) => (c.hidden_size = 65_536), 'hidden_size'],
    ['intermediate_size 1e9', (c: Record<string, unknown>) => (c.intermediate_size = 1_000_000_000), 'intermediate_size'],
    ['num_channels 1e6', (c: Record<string, unknown>) => (c.num_channels = 1_000_000), 'num_channels'],
  ] as const) {
    it(`score refuses ${what} with exit 1 before allocating (was exit 4, out of memory)`, async () => {
      const {model} = await tinyWithConfig(edit)
      const e = await userError(loadModel(model, {backend: createTsBackend()}))
      expect(e.exitCode).toBe(1)
      expect(e.message).toContain(`${field} `)
      expect(e.message).toMatch(/over vitrine's limit/)
    })
  }
})
