/**
 * Hostile input, geometry against the weight file (issue 13, finding 5, remainder): a config.json within the geometry
 * limits that claims a far larger model than its weights file holds, or a weights file whose tensor table declares
 * more bytes than the file has, is refused with exit 1 before anything is sized from the claim: for every family, and
 * for safetensors, torch .bin and numpy .npz.
 */
import {copyFile, mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ZipWriter, npyBytes, torchStateDictPickle} from '../../bench/lib/formats.js'
import {createTsBackend} from '../../src/engine/backend-ts.js'
import type {Backend} from '../../src/engine/backend.js'
import {loadModel} from '../../src/engine/classifier.js'
import {createTsTrainKernels} from '../../src/engine/train/kernels.js'
import {silentProgress} from '../../src/core/progress.js'
import {runFinetune} from '../../src/finetune/finetune.js'
import {MAX_DEFLATE_RATIO} from '../../src/weights/zip.js'
import {openCheckpoint} from '../../src/weights/checkpoint.js'
import {convertCheckpoint} from '../../src/weights/convert.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES, expectNothingWritten, rawSafetensors} from '../helpers/weight-writers.js'
import {userError} from './user-error.js'

/** The TypeScript backend, except that any allocation fails the test: what is refused must be refused before it. */
function noAllocBackend(): {backend: Backend; allocs: number[]} {
  const allocs: number[] = []
  const backend = createTsBackend()
  return {
    allocs,
    backend: {
      ...backend,
      alloc(n: number): Float32Array {
        allocs.push(n)
        throw new Error(`allocated ${n} floats before checking the weights file`)
      },
    },
  }
}

/** A copy of a family's fixture folder with `edit` applied to config.json. */
async function withConfig(fixture: string, edit: (c: Record<string, unknown>) => void): Promise<string> {
  const model = join(await tempDir(), 'model')
  await mkdir(model)
  for (const f of ['config.json', 'preprocessor_config.json', 'model.safetensors']) await copyFile(join(FIXTURES, fixture, f), join(model, f))
  const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8')) as Record<string, unknown>
  edit(config)
  await writeFile(join(model, 'config.json'), JSON.stringify(config))
  return model
}

/** Within every geometry limit, about 30 GB of float32 parameters: the fixtures' weights are a few hundred kB. */
const LARGE: Record<string, (c: Record<string, unknown>) => void> = {
  'vit-tiny': (c) => Object.assign(c, {hidden_size: 4096, num_attention_heads: 32, intermediate_size: 16_384, num_hidden_layers: 48}),
  'beit-tiny': (c) => Object.assign(c, {hidden_size: 4096, num_attention_heads: 32, intermediate_size: 16_384, num_hidden_layers: 48}),
  'dinov2-tiny': (c) => Object.assign(c, {hidden_size: 4096, num_attention_heads: 32, num_hidden_layers: 48}),
  'swinv2-tiny': (c) => Object.assign(c, {embed_dim: 2048, depths: [2, 24], num_heads: [32, 64]}),
}

describe('finding 5: the weight file\'s real size against what the config implies', () => {
  for (const [fixture, edit] of Object.entries(LARGE)) {
    it(`${fixture}: a config claiming a ~30 GB model beside its small model.safetensors is refused before any allocation (was exit 4, out of memory)`, async () => {
      const model = await withConfig(fixture, edit)
      const {backend, allocs} = noAllocBackend()
      const e = await userError(loadModel(model, {backend}))
      expect(allocs).toEqual([])
      expect(e.exitCode).toBe(1)
      expect(e.message).toMatch(new RegExp(`^${join(model, 'model.safetensors')}: \\d+ tensors are missing: .* and \\d+ more \\(expected shapes from config.json\\)`))
      expect(e.message.length).toBeLessThan(2000)
    })
  }

  for (const fixture of ['vit-tiny', 'beit-tiny', 'dinov2-tiny']) {
    it(`finetune, ${fixture}: the same config is refused before the training state is sized from it`, async () => {
      const model = await withConfig(fixture, LARGE[fixture])
      const labels = (JSON.parse(await readFile(join(model, 'config.json'), 'utf8')) as {id2label: Record<string, string>}).id2label
      const train = join(await tempDir(), 'train.jsonl')
      await writeFile(train, `${JSON.stringify({image_url: join(FIXTURES, 'images', 'chelsea.png'), label: labels['0']})}\n`)
      const out = join(await tempDir(), 'out')
      const e = await userError(runFinetune({model, trainData: train, out, batchSize: 1, maxSteps: 1, kernels: createTsTrainKernels(), progress: silentProgress}))
      expect(e.exitCode).toBe(1)
      expect(e.message).toMatch(new RegExp(`^${join(model, 'model.safetensors')}: \\d+ tensors are missing: `))
    })
  }

  it('a model.safetensors whose tensor table declares 1 GiB in a 4 kB file: refused by convert and score, before allocating', async () => {
    const dir = await tempDir()
    const file = join(dir, 'model.safetensors')
    await writeFile(file, rawSafetensors({'vit.embeddings.cls_token': {dtype: 'F32', shape: [16_384, 16_384], data_offsets: [0, 16_384 * 16_384 * 4]}}, new Uint8Array(4000)))
    const converted = await userError(convertCheckpoint(file, join(dir, 'out')))
    expect(converted.exitCode).toBe(1)
    expect(converted.message).toMatch(/data_offsets \[0, 1073741824\] run past the end of the file \(data section is 4000 bytes/)
    await expectNothingWritten(join(dir, 'out'))

    const model = await withConfig('vit-tiny', () => undefined)
    await copyFile(file, join(model, 'model.safetensors'))
    const {backend, allocs} = noAllocBackend()
    const scored = await userError(loadModel(model, {backend}))
    expect(allocs).toEqual([])
    expect(scored.message).toMatch(/run past the end of the file/)
  })

  /** Rewrites the uncompressed size `entry` declares, in its local header and its central directory record. */
  function declareSize(zip: Buffer, entry: string, size: number): Buffer {
    const name = Buffer.from(entry)
    let patched = 0
    for (let at = zip.indexOf(name); at >= 0; at = zip.indexOf(name, at + 1)) {
      if (zip.readUInt32LE(at - 30) === 0x04034b50) zip.writeUInt32LE(size, at - 30 + 22)
      else if (zip.readUInt32LE(at - 46) === 0x02014b50) zip.writeUInt32LE(size, at - 46 + 24)
      else continue
      patched++
    }
    if (patched !== 2) throw new Error(`patched ${patched} headers of ${entry}`)
    return zip
  }

  it('a .bin whose deflated storage declares 1 GiB from a few hundred bytes is refused when the archive is opened', async () => {
    const dir = await tempDir()
    const file = join(dir, 'pytorch_model.bin')
    const numel = 256 * 1024 * 1024 // 1 GiB of float32 declared
    const zip = await ZipWriter.create(file)
    await zip.add('archive/data.pkl', torchStateDictPickle([{name: 'w', shape: [numel], storage: '0'}], [{key: '0', dtype: 'F32', numel, data: () => new Uint8Array(0)}]))
    await zip.add('archive/data/0', new Uint8Array(4096), 8)
    await zip.close()
    await writeFile(file, declareSize(await readFile(file), 'archive/data/0', numel * 4))
    const e = await userError(openCheckpoint(file))
    expect(e.exitCode).toBe(1)
    expect(e.message).toMatch(new RegExp(`^${file}: zip entry 'archive/data/0' \\(central directory byte offset \\d+\\) declares 1073741824 bytes, but its \\d+ deflated bytes can inflate to at most \\d+; the file does not hold the data it declares$`))
    expect(MAX_DEFLATE_RATIO).toBe(1032)
  })

  it('an .npz whose deflated array declares 1 GiB from a few hundred bytes is refused the same way', async () => {
    const dir = await tempDir()
    const file = join(dir, 'vit_jax.npz')
    const npy = npyBytes('F32', [256 * 1024 * 1024], new Uint8Array(0))
    const zip = await ZipWriter.create(file)
    await zip.add('cls.npy', Buffer.concat([npy, Buffer.alloc(4096)]), 8)
    await zip.close()
    await writeFile(file, declareSize(await readFile(file), 'cls.npy', npy.length + 1024 * 1024 * 1024))
    const e = await userError(convertCheckpoint(file, join(dir, 'out')))
    expect(e.exitCode).toBe(1)
    expect(e.message).toMatch(/zip entry 'cls.npy' .*declares \d+ bytes, but its \d+ deflated bytes can inflate to at most \d+/)
    expect(await readdir(dir)).toEqual(['vit_jax.npz'])
  })
})
