/**
 * Hostile input, deep and oversized input (issue 13, finding 8): crafted files that are deep (a pickle with 300,000
 * APPENDS or a key nested 100,000 levels, JSON nested 200,000 levels), oversized (a 600 MB batch CSV, sparse) or not
 * files at all (`/dev/zero`) get a clear exit 1 naming the file, never a stack overflow (exit 4). Every file is made
 * here from a few kB.
 */
import {readFile, rm, symlink, truncate, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {ZipWriter} from '../../bench/lib/formats.js'
import {previewValue} from '../../src/core/errors.js'
import {MAX_LIST_FILE_BYTES} from '../../src/core/user-file.js'
import {silentProgress} from '../../src/core/progress.js'
import {loadModel} from '../../src/engine/classifier.js'
import {createTsBackend} from '../../src/engine/backend-ts.js'
import {type BadRow, readEvalData} from '../../src/evaluate/data.js'
import {loadExamples} from '../../src/finetune/data.js'
import {VIT_DEFAULTS} from '../../src/image/preprocessor.js'
import {readYamlDocuments} from '../../src/azureml/yaml-documents.js'
import {runBatch} from '../../src/runner/run-batch.js'
import {runScore} from '../../src/runner/run-score.js'
import {Scorer} from '../../src/runner/scorer.js'
import {type RunningServer, startRunnerServer} from '../../src/runner/server.js'
import {convertCheckpoint} from '../../src/weights/convert.js'
import {post} from '../runner/http.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES, expectNothingWritten, rawSafetensors} from '../helpers/weight-writers.js'
import {tinyFolder} from './tiny-folder.js'
import {userError} from './user-error.js'

const TINY = join(FIXTURES, 'vit-tiny')
const IMAGE = join(FIXTURES, 'images', 'chelsea.png')

/** `[[[...]]]` nested `n` deep, as JSON text: built by repetition, never by a recursive serialiser. */
function deepJson(n: number): string {
  return '['.repeat(n) + ']'.repeat(n)
}

/** A torch.save zip holding only `archive/data.pkl` = `pickle` (deflated: 600 kB of opcodes is a few kB on disk). */
async function torchZipWithPickle(path: string, pickle: Buffer): Promise<void> {
  const zip = await ZipWriter.create(path)
  await zip.add('archive/data.pkl', pickle, 8)
  await zip.close()
}

describe('finding 8: deep input in a pickle', () => {
  it('a data.pkl whose list takes 300,000 items in one APPENDS: exit 1 naming the file (was a stack overflow, exit 4)', async () => {
    const dir = await tempDir()
    const n = 300_000
    const items = Buffer.alloc(2 * n)
    for (let i = 0; i < n; i++) items[2 * i] = 0x4b // BININT1 0
    // PROTO 2, EMPTY_DICT, BINUNICODE 'a', EMPTY_LIST, MARK, 300k x BININT1, APPENDS, SETITEM, STOP
    const pickle = Buffer.concat([Buffer.from([0x80, 2, 0x7d, 0x58, 1, 0, 0, 0, 0x61, 0x5d, 0x28]), items, Buffer.from([0x65, 0x73, 0x2e])])
    const file = join(dir, 'pytorch_model.bin')
    await torchZipWithPickle(file, pickle)
    const e = await userError(convertCheckpoint(file, join(dir, 'out')))
    expect(e.exitCode).toBe(1)
    expect(e.message).toBe(`${file}: not a state dict of tensors: entry "a" is a list, not a tensor, and there is no 'state_dict' or 'model' entry holding one`)
    await expectNothingWritten(join(dir, 'out'))
  })

  it('a dict key that is a list nested 100,000 deep: exit 1, the key described, never printed (was a stack overflow in String())', async () => {
    const dir = await tempDir()
    const n = 100_000
    // PROTO 2, EMPTY_DICT, (n + 1) x EMPTY_LIST, n x APPEND (each list into the one below), BININT1 0, SETITEM, STOP
    const pickle = Buffer.concat([Buffer.from([0x80, 2, 0x7d]), Buffer.alloc(n + 1, 0x5d), Buffer.alloc(n, 0x61), Buffer.from([0x4b, 0, 0x73, 0x2e])])
    const file = join(dir, 'pytorch_model.bin')
    await torchZipWithPickle(file, pickle)
    const e = await userError(convertCheckpoint(file, join(dir, 'out')))
    expect(e.exitCode).toBe(1)
    expect(e.message).toContain(`${file}: not a state dict of tensors: an entry's key is a list, not a tensor name`)
    expect(e.message.length).toBeLessThan(300)
  })

  it('a 100,000-deep tuple key is described the same way', async () => {
    const dir = await tempDir()
    const n = 100_000
    // PROTO 2, EMPTY_DICT, EMPTY_TUPLE, n x TUPLE1, BININT1 0, SETITEM, STOP
    const pickle = Buffer.concat([Buffer.from([0x80, 2, 0x7d, 0x29]), Buffer.alloc(n, 0x85), Buffer.from([0x4b, 0, 0x73, 0x2e])])
    const file = join(dir, 'pytorch_model.bin')
    await torchZipWithPickle(file, pickle)
    const e = await userError(convertCheckpoint(file, join(dir, 'out')))
    expect(e.message).toContain("an entry's key is a tuple, not a tensor name")
  })
})

describe('finding 8: 200,000-deep JSON values', () => {
  it('in a safetensors header: exit 1 naming the file and the header offset, for convert and score', async () => {
    const {root, model} = await tinyFolder()
    const json = Buffer.from(`{"__metadata__": {"a": ${deepJson(200_000)}}}`)
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(BigInt(json.length))
    const file = join(model, 'model.safetensors')
    await writeFile(file, Buffer.concat([len, json]))
    const converted = await userError(convertCheckpoint(file, join(root, 'out')))
    expect(converted).toEqual({exitCode: 1, message: `${file}: header at byte offset 8: JSON nested more than 64 levels deep; refusing it`})
    const scored = await userError(loadModel(model, {backend: createTsBackend()}))
    expect(scored.message).toBe(converted.message)
  })

  for (const name of ['config.json', 'preprocessor_config.json']) {
    it(`in ${name}: exit 1 naming the file, for convert and score`, async () => {
      const {root, model} = await tinyFolder()
      await writeFile(join(model, name), `{"image_size": ${deepJson(200_000)}}`)
      for (const run of [() => convertCheckpoint(model, join(root, 'out')), () => loadModel(model, {backend: createTsBackend()})]) {
        const e = await userError(run())
        expect(e.exitCode).toBe(1)
        expect(e.message).toBe(`${join(model, name)}: JSON nested more than 64 levels deep; refusing it`)
      }
    })
  }
})

describe('finding 8: messages never quote an unbounded tensor name', () => {
  it('a safetensors header naming a tensor with a million characters: exit 1, a short message', async () => {
    const dir = await tempDir()
    const file = join(dir, 'model.safetensors')
    await writeFile(file, rawSafetensors({['vit.' + 'x'.repeat(1_000_000)]: {dtype: 'F32', shape: [1], data_offsets: [0, 4]}}, new Uint8Array(4)))
    const e = await userError(convertCheckpoint(file, join(dir, 'out')))
    expect(e.exitCode).toBe(1)
    expect(e.message).toMatch(/names a tensor of 1000004 characters \("vit\.x+\.\.\."\), over the limit of 1024$/)
    expect(e.message.length).toBeLessThan(300)
  })
})

describe('finding 8: serve answers 500 for a deep `columns`', () => {
  let scorer: Scorer | undefined
  let server: RunningServer | undefined
  afterAll(async () => {
    await server?.close()
    scorer?.dispose()
  })

  it('a 200,000-deep value inside input_data.columns: 400 with a clear message, and the server still serves', async () => {
    scorer = await Scorer.load(TINY, {threads: 1})
    server = await startRunnerServer(Promise.resolve(scorer), {port: 0, log: () => undefined})
    await server.ready
    const body = `{"input_data": {"columns": ${deepJson(200_000)}, "index": [0], "data": [["x"]]}}`
    const a = await post(`${server.url}/score`, body)
    expect(a.status, a.body).toBe(400)
    expect(JSON.parse(a.body)).toEqual({error: {code: 'BadRequest', message: 'request body: JSON nested more than 64 levels deep; refusing it'}})
    const good = await post(`${server.url}/score`, {input_data: [(await readFile(IMAGE)).toString('base64')]})
    expect(good.status, good.body).toBe(200)
  })
})

describe('finding 8: a batch CSV over 512 MB (read whole)', () => {
  it('a 600 MB CSV (sparse) is refused from its size before a byte is read', async () => {
    const dir = await tempDir()
    const input = join(dir, 'big.csv')
    await writeFile(input, '')
    await truncate(input, 600 * 1024 * 1024)
    const e = await userError(runBatch({model: TINY, input, out: join(dir, 'out.csv')}, silentProgress))
    expect(e).toEqual({exitCode: 1, message: `${input}: 629145600 bytes, over the limit of ${MAX_LIST_FILE_BYTES} bytes for this file`})
  })

  it('--resume onto a 600 MB partial output (sparse) is refused from its size, not read whole (was exit 4: string too long)', async () => {
    const dir = await tempDir()
    const input = join(dir, 'in.csv')
    await writeFile(input, `image\n${IMAGE}\n`)
    const out = join(dir, 'out.csv')
    const partial = `${out}.partial` // what a killed run leaves
    await writeFile(partial, '')
    await truncate(partial, 600 * 1024 * 1024)
    const e = await userError(runBatch({model: TINY, input, out, resume: true}, silentProgress))
    expect(e).toEqual({exitCode: 1, message: `${partial}: 629145600 bytes, over the limit of ${MAX_LIST_FILE_BYTES} bytes for this file`})
  })
})

describe('finding 8: a /dev/zero symlink, refused by the one user-file opener everywhere', () => {
  async function zeroLink(name: string): Promise<string> {
    const path = join(await tempDir(), name)
    await symlink('/dev/zero', path)
    return path
  }
  const refused = (path: string) => `${path}: not a regular file (a device); refusing to read it`

  it('score: an image, a --request file and the model weights', async () => {
    const {model} = await tinyFolder()
    const image = await zeroLink('x.png')
    expect(await userError(runScore({model: TINY, paths: [image], threads: 1}))).toEqual({exitCode: 1, message: refused(image)})
    const request = await zeroLink('request.json')
    expect(await userError(runScore({model: TINY, paths: [], request, threads: 1}))).toEqual({exitCode: 1, message: refused(request)})
    const weights = join(model, 'model.safetensors')
    await rm(weights)
    await symlink('/dev/zero', weights)
    expect(await userError(loadModel(model, {backend: createTsBackend()}))).toEqual({exitCode: 1, message: refused(weights)})
  })

  it('batch: the input list', async () => {
    const input = await zeroLink('in.csv')
    expect(await userError(runBatch({model: TINY, input, out: join(await tempDir(), 'o.csv')}, silentProgress))).toEqual({exitCode: 1, message: refused(input)})
  })

  it('evaluate: the data given as DATA (was exit 4: scandir of a device)', async () => {
    const data = await zeroLink('annotations.jsonl')
    const e = await userError(readEvalData(data, {task: 'image-classification'}))
    expect(e.exitCode).toBe(1)
    expect(e.message).toBe(`${data}: not a regular file or a folder (a device, FIFO or socket); refusing to read it`)
  })

  it('finetune: an image of the training data (was read until memory ran out)', async () => {
    const image = await zeroLink('x.png')
    const bad: BadRow[] = []
    const rows = [{source: 'train.jsonl:1', line: 1, image, path: image, labels: ['a']}]
    const out = await loadExamples(rows, {labelIds: new Map([['a', 0]]), pre: VIT_DEFAULTS, keepImages: false, stopAtFirstBad: false}, bad)
    expect(out).toEqual([])
    expect(bad.map((b) => b.reason)).toEqual([refused(image)])
  })

  it('apply: a YAML file (was read until memory ran out)', async () => {
    const yaml = await zeroLink('model.yaml')
    expect(await userError(readYamlDocuments(yaml))).toEqual({exitCode: 1, message: refused(yaml)})
  })
})

describe('finding 8: messages never serialise unbounded user values', () => {
  it('previewValue shows a small value as JSON and only describes a deep, long or wide one, without recursing through it', () => {
    let deep: unknown[] = []
    for (let i = 0; i < 200_000; i++) deep = [deep]
    expect(previewValue(deep)).toBe('a list of 1')
    expect(previewValue(new Array(1_000_000).fill(0))).toBe('a list of 1000000')
    expect(previewValue({a: 'x'.repeat(10_000_000)})).toBe('an object')
    expect(previewValue('x'.repeat(100))).toBe(`"${'x'.repeat(60)}..."`)
    expect(previewValue([224, 224])).toBe('[224,224]')
    expect(previewValue({shortest_edge: 224})).toBe('{"shortest_edge":224}')
    expect(previewValue('line\n\u001b[31mfake')).toBe('"line\\n\\u001b[31mfake"')
  })
})
