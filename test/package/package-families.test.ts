/**
 * What `package` must get right for every family, beyond ViT: the transformers version it records (so a packaged
 * DINOv2 scores as its source folder does), and a default model name of the source's own; and `package --onnx` from
 * the CLI for a non-ViT family, whose package `verify` passes and whose model.onnx gives the fixture's logits.
 */
import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import * as ort from 'onnxruntime-node'
import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'

import {modelNameFrom} from '../../src/core/model-name.js'
import {defaultModelName} from '../../src/package/default-name.js'
import {LAYOUT, MLFLOW_ENV, packageModel} from '../../src/package/package.js'
import {runScore} from '../../src/runner/run-score.js'
import {FIXTURES, LOGITS_TOL, readExpected, readF32} from '../engine/fixtures.js'
import {checkTensor} from '../helpers/check-tensor.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const IMAGES = join(FIXTURES, 'images')
const PHOTOS = ['chelsea.png', 'coffee.png', 'rocket-exif6.jpg', 'camera.png'].map((f) => join(IMAGES, f))

describe('package records the transformers version the source is scored with', () => {
  it('a DINOv2 folder whose config.json names none: MLmodel and requirements name a release of the current code, and the package scores exactly as the folder', async () => {
    const work = await tempDir()
    const src = join(work, 'dinov2-unversioned')
    cpSync(join(FIXTURES, 'dinov2-tiny'), src, {recursive: true})
    const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>
    delete config.transformers_version
    writeFileSync(join(src, 'config.json'), JSON.stringify(config, null, 2))

    const out = join(work, 'pkg')
    await packageModel(src, out, {name: 'dinov2-unversioned'})
    const mlmodel = parse(await readFile(join(out, LAYOUT.mlmodel), 'utf8')) as {flavors: {transformers: {transformers_version: string}}}
    const version = mlmodel.flavors.transformers.transformers_version
    expect(version).not.toBe(MLFLOW_ENV.transformersVersion)
    expect(Number(version.split('.')[1])).toBeGreaterThanOrEqual(45) // the position interpolation of the current code
    expect(await readFile(join(out, LAYOUT.mlflowDir, 'requirements.txt'), 'utf8')).toContain(`transformers==${version}\n`)

    const score = async (model: string): Promise<unknown> => (await runScore({model, paths: PHOTOS, topK: 10})).response
    const fromFolder = await score(src)
    expect(await score(out)).toEqual(fromFolder)

    // what the package said before: the catalog default (4.40.1) scores otherwise
    writeFileSync(join(out, LAYOUT.mlmodel), readFileSync(join(out, LAYOUT.mlmodel), 'utf8').replace(`transformers_version: ${version}`, `transformers_version: ${MLFLOW_ENV.transformersVersion}`))
    expect(await score(out)).not.toEqual(fromFolder)
  }, 120_000)

  it('keeps the source config.json version, and ViT (whose arithmetic does not depend on it) the catalog default', async () => {
    const work = await tempDir()
    await packageModel(join(FIXTURES, 'dinov2-tiny'), join(work, 'dinov2'), {name: 'd'})
    expect(await readFile(join(work, 'dinov2', LAYOUT.mlmodel), 'utf8')).toContain('transformers_version: 4.46.0')
    await packageModel(join(FIXTURES, 'vit-tiny'), join(work, 'vit'), {name: 'v'})
    expect(await readFile(join(work, 'vit', LAYOUT.mlmodel), 'utf8')).toContain(`transformers_version: ${MLFLOW_ENV.transformersVersion}`)
  }, 60_000)
})

describe('the default model name', () => {
  it('modelNameFrom makes free text a name both Azure and azureml-assets accept', () => {
    expect(modelNameFrom('microsoft/beit-base-patch16-224-pt22k-ft22k', 'beit')).toBe('microsoft-beit-base-patch16-224-pt22k-ft22k')
    expect(modelNameFrom('my.model v2 (final)', 'vit')).toBe('my-model-v2-final')
    expect(modelNameFrom('2024_run', 'swinv2')).toBe('swinv2-2024_run')
    expect(modelNameFrom('_x', 'vit')).toBe('vit-_x')
    expect(modelNameFrom('...', 'vit')).toBeUndefined()
    expect(modelNameFrom('ü', 'vit')).toBeUndefined()
    expect(modelNameFrom('a'.repeat(300), 'vit')).toBe('a'.repeat(255))
  })

  it('is the source folder name, else a Hub id in _name_or_path, else <model_type>-model', async () => {
    const work = await tempDir()
    const folder = (name: string, config: Record<string, unknown>): string => {
      const dir = join(work, name)
      cpSync(join(FIXTURES, 'beit-tiny'), dir, {recursive: true})
      const base = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
      writeFileSync(join(dir, 'config.json'), JSON.stringify({...base, ...config}))
      return dir
    }
    expect(await defaultModelName(join(FIXTURES, 'beit-tiny'))).toBe('beit-tiny')
    expect(await defaultModelName(folder('My BEiT.v2', {_name_or_path: 'microsoft/beit-base-patch16-224'}))).toBe('My-BEiT-v2')
    expect(await defaultModelName(folder('model', {_name_or_path: 'microsoft/beit-base-patch16-224'}))).toBe('microsoft-beit-base-patch16-224')
    expect(await defaultModelName(folder('0123456789abcdef0123456789abcdef01234567', {_name_or_path: '/home/me/ckpt'}))).toBe('beit-model')
    expect(await defaultModelName(join(FIXTURES, 'vit-tiny', 'timm.pth'))).toBe('timm')
    expect(await defaultModelName(join(FIXTURES, 'vit-tiny', 'pytorch_model.bin'))).toBe('vit-tiny')
  })

  it('package without --name names the model after its source, not the template\'s google ViT, and starts at version 1', async () => {
    const out = join(await tempDir(), 'pkg')
    const r = await packageModel(join(FIXTURES, 'swinv2-tiny'), out)
    expect([r.name, r.version]).toEqual(['swinv2-tiny', '1'])
    const spec = parse(await readFile(join(out, 'asset', 'spec.yaml'), 'utf8')) as {name: string; system_metadata: Record<string, unknown>}
    expect(spec.name).toBe('swinv2-tiny')
    expect(spec.system_metadata.huggingFaceModelId).toBeUndefined()
  }, 60_000)
})

describe('vitrine package --onnx for SwinV2', () => {
  it('writes a package that vitrine verify passes, whose model.onnx gives the fixture logits', async () => {
    const dir = join(FIXTURES, 'swinv2-tiny')
    const out = join(await tempDir(), 'pkg')
    const r = await runCli(['package', dir, '--out', out, '--onnx', '--json'])
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({name: 'swinv2-tiny', onnx: true})
    const v = await runCli(['verify', out])
    expect(v.exitCode).toBe(0)

    const expected = readExpected(dir)
    const session = await ort.InferenceSession.create(join(out, LAYOUT.onnx))
    try {
      const result = await session.run({pixel_values: new ort.Tensor('float32', readF32(join(dir, expected.inputs.file)), expected.inputs.shape)})
      checkTensor(result.logits.data as Float32Array, expected.inputs.logits.flat(), 'swinv2-tiny package model.onnx', LOGITS_TOL)
    } finally {
      await session.release()
    }
    const description = await readFile(join(out, 'asset', 'description.md'), 'utf8')
    expect(description).toContain('input `pixel_values` [batch, 3, 64, 64] float32, output `logits` [batch, 10]')
  }, 120_000)
})
