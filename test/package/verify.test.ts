import {createHash} from 'node:crypto'
import {cp, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {beforeAll, describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {packageModel} from '../../src/package/package.js'
import {verifyPackage} from '../../src/package/verify.js'
import {tempDir} from '../helpers/tmp.js'

const GEOM = join(import.meta.dirname, '..', 'fixtures', 'vit-geom')
const WEIGHTS = 'mlflow_model_folder/model/model.safetensors'
const CONFIG = 'mlflow_model_folder/model/config.json'

let pristine: string

beforeAll(async () => {
  // One package for all tests (tempDir's cleanup runs after each test, so this one lives outside it).
  const {mkdtemp} = await import('node:fs/promises')
  const {tmpdir} = await import('node:os')
  pristine = join(await mkdtemp(join(tmpdir(), 'vitrine-verify-')), 'pkg')
  await packageModel(GEOM, pristine, {name: 'vit-geom', version: '1', onnx: true})
  return async () => rm(join(pristine, '..'), {recursive: true, force: true})
})

async function copyOfPackage(): Promise<string> {
  const dir = join(await tempDir(), 'pkg')
  await cp(pristine, dir, {recursive: true})
  return dir
}

describe('verifyPackage', () => {
  it('passes a package as written, checking every file and tensor', async () => {
    const dir = await copyOfPackage()
    const r = await verifyPackage(dir)
    expect(r.issues).toEqual([])
    expect(r.ok).toBe(true)
    expect(r.filesChecked).toBe(13)
    expect(r.tensorsChecked).toBe(4 + 3 * 16 + 4)
    expect(validateWithSchema('verify-result.schema.json', r).state).toBe('ok')
  })

  it('catches one flipped byte in the middle of the weights, naming the file', async () => {
    const dir = await copyOfPackage()
    const bytes = await readFile(join(dir, WEIGHTS))
    bytes[bytes.length - 100] ^= 0x01 // tensor data, not the header: only the hash can see it
    await writeFile(join(dir, WEIGHTS), bytes)
    const r = await verifyPackage(dir)
    expect(r.ok).toBe(false)
    expect(r.issues).toHaveLength(1)
    expect(r.issues[0].file).toBe(WEIGHTS)
    expect(r.issues[0].message).toMatch(/^sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}$/)
  })

  it('catches a flipped byte in a small text file and in model.onnx', async () => {
    const dir = await copyOfPackage()
    for (const f of ['asset/spec.yaml', 'mlflow_model_folder/model.onnx']) {
      const bytes = await readFile(join(dir, f))
      bytes[10] ^= 0x20
      await writeFile(join(dir, f), bytes)
    }
    const r = await verifyPackage(dir)
    expect(r.issues.map((i) => i.file).sort()).toEqual(['asset/spec.yaml', 'mlflow_model_folder/model.onnx'])
  })

  it('catches a missing file, a truncated file and an unlisted file', async () => {
    const dir = await copyOfPackage()
    await rm(join(dir, 'mlflow_model_folder/conda.yaml'))
    const desc = await readFile(join(dir, 'asset/description.md'))
    await writeFile(join(dir, 'asset/description.md'), desc.subarray(0, desc.length - 1))
    await writeFile(join(dir, 'mlflow_model_folder/extra.txt'), 'not packaged')
    const r = await verifyPackage(dir)
    expect(r.issues).toEqual([
      {file: 'asset/description.md', message: `size is ${desc.length - 1} bytes, the manifest says ${desc.length}`},
      {file: 'mlflow_model_folder/conda.yaml', message: 'is missing'},
      {file: 'mlflow_model_folder/extra.txt', message: 'is not listed in the manifest'},
    ])
  })

  it('catches tensors whose shapes disagree with config.json even when the hashes agree', async () => {
    const dir = await copyOfPackage()
    // A config claiming 6 labels and 2 layers, with the manifest updated to match: only the shape check can tell.
    const config = JSON.parse(await readFile(join(dir, CONFIG), 'utf8')) as Record<string, unknown> & {id2label: Record<string, string>}
    config.id2label['5'] = 'extra'
    config.num_hidden_layers = 2
    const text = JSON.stringify(config, null, 2)
    await writeFile(join(dir, CONFIG), text)
    const manifestPath = join(dir, 'manifest.json')
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {files: Array<{path: string; size: number; sha256: string}>}
    const entry = manifest.files.find((f) => f.path === CONFIG)!
    entry.size = Buffer.byteLength(text)
    entry.sha256 = createHash('sha256').update(text).digest('hex')
    await writeFile(manifestPath, JSON.stringify(manifest))
    const r = await verifyPackage(dir)
    expect(r.ok).toBe(false)
    // The weights are named for each tensor; MLmodel because its model_size_bytes no longer counts config.json right.
    expect(new Set(r.issues.map((i) => i.file))).toEqual(new Set([WEIGHTS, 'mlflow_model_folder/MLmodel']))
    const messages = r.issues.filter((i) => i.file === WEIGHTS).map((i) => i.message)
    expect(messages).toContain("tensor 'classifier.weight' has shape [5, 32], expected [6, 32]")
    expect(messages).toContain("tensor 'classifier.bias' has shape [5], expected [6]")
    expect(messages).toContain("tensor 'vit.encoder.layer.2.attention.attention.query.weight' is unexpected for this config")
  })

  it('refuses a folder without a manifest (usage) and a manifest that is not one (invalid)', async () => {
    const dir = await copyOfPackage()
    await expect(verifyPackage(join(dir, 'asset'))).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/manifest\.json: no such file/)})
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({schemaVersion: 1, name: 'x', version: '1', files: [{path: 'a', size: -1, sha256: 'zz'}]}))
    await expect(verifyPackage(dir)).rejects.toMatchObject({exitCode: 1, message: expect.stringMatching(/not a vitrine manifest: files\.0\.size/)})
  })

  it('refuses manifest paths that leave the package', async () => {
    const dir = await copyOfPackage()
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {files: Array<{path: string; size: number; sha256: string}>}
    manifest.files.push({path: '../outside', size: 1, sha256: '0'.repeat(64)})
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest))
    const r = await verifyPackage(dir)
    expect(r.issues).toEqual([{file: 'manifest.json', message: 'lists "../outside", which is not a path inside the package'}])
  })
})

describe('verifyPackage and MLmodel', () => {
  it('catches a model_size_bytes that is no longer true to the files, even with a consistent manifest', async () => {
    const dir = await copyOfPackage()
    // Drop model.onnx and its manifest entry: hashes agree, but MLmodel still counts the ONNX bytes.
    await rm(join(dir, 'mlflow_model_folder/model.onnx'))
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {files: Array<{path: string}>}
    manifest.files = manifest.files.filter((f) => f.path !== 'mlflow_model_folder/model.onnx')
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest))
    const r = await verifyPackage(dir)
    expect(r.issues).toHaveLength(1)
    expect(r.issues[0].file).toBe('mlflow_model_folder/MLmodel')
    expect(r.issues[0].message).toMatch(/^model_size_bytes is \d+, but the model folder holds \d+ bytes besides MLmodel$/)
  })
})
