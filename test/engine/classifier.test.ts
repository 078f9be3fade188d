import {cp, mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {InvalidInputError, UsageError} from '../../src/core/errors.js'
import {packageModel} from '../../src/package/package.js'
import {readSafetensorsHeader} from '../../src/weights/safetensors.js'
import {createTsBackend} from '../../src/engine/backend-ts.js'
import {type LoadModelOptions, loadModel as loadModelWith, softmax, topK} from '../../src/engine/classifier.js'
import {bestWasmVariant} from '../../src/engine/wasm/index.js'
import {checkTensor} from '../helpers/check-tensor.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES, LOGITS_TOL, checkFixtureImages, readExpected, readF32} from './fixtures.js'

// These tests run the plain TypeScript kernels (test/engine/wasm/ runs the same fixtures on the wasm backend).
const loadModel = (dir: string, options: LoadModelOptions = {}) => loadModelWith(dir, {backend: createTsBackend(), ...options})


describe.each(['vit-tiny', 'vit-geom'])('%s against PyTorch', (name) => {
  const dir = join(FIXTURES, name)
  const expected = readExpected(dir)

  it('gives the float32 logits of inputs.f32 within 1e-4, batched and one image at a time', async () => {
    const B = expected.inputs.shape[0]
    const pixels = readF32(join(dir, expected.inputs.file))
    const want = expected.inputs.logits.flat()
    const batched = await loadModel(dir, {maxBatch: B})
    checkTensor(batched.forward(pixels, B), want, `${name} inputs.f32 batch ${B}`, LOGITS_TOL)
    batched.dispose()
    // maxBatch 1 runs the batch in chunks: same numbers
    const chunked = await loadModel(dir)
    checkTensor(chunked.forward(pixels, B), want, `${name} inputs.f32 in chunks of 1`, LOGITS_TOL)
    chunked.dispose()
  })

  it('gives each fixture image its logits and the same top-5 labels in the same order', async () => {
    const model = await loadModel(dir)
    checkFixtureImages(model, dir, name, {scores: true})
    model.dispose()
  })
})

describe('loadModel layouts', () => {
  const tiny = join(FIXTURES, 'vit-tiny')
  const pixels = readF32(join(tiny, 'images', 'horse.f32'))
  const want = readExpected(tiny).images.find((i) => i.image === 'horse.png')!.logits!

  async function mlflowFolder(root: string): Promise<string> {
    await mkdir(join(root, 'model'), {recursive: true})
    await mkdir(join(root, 'components', 'image_processor'), {recursive: true})
    await cp(join(tiny, 'config.json'), join(root, 'model', 'config.json'))
    await cp(join(tiny, 'model.safetensors'), join(root, 'model', 'model.safetensors'))
    await cp(join(tiny, 'preprocessor_config.json'), join(root, 'components', 'image_processor', 'preprocessor_config.json'))
    return root
  }

  it('reads a Hugging Face folder: config, labels in id order, preprocessor', async () => {
    const model = await loadModel(tiny)
    expect(model.dir).toBe(tiny)
    expect(model.config).toMatchObject({hiddenSize: 48, numLayers: 2, numHeads: 3, intermediateSize: 96, numTokens: 197, numLabels: 10})
    expect(model.labels).toEqual(['can', 'carton', 'milk_bottle', 'water_bottle', 'apple', 'banana', 'kettle', 'mug', 'plate', 'spoon'])
    expect(model.preprocessor).toMatchObject({height: 224, width: 224, doResize: true, imageMean: [0.5, 0.5, 0.5]})
    expect(model.backend.name).toBe('ts')
    model.dispose()
  })

  it('reads an MLflow model folder (model/ + components/image_processor/)', async () => {
    const root = await mlflowFolder(await tempDir())
    const model = await loadModel(root)
    expect(model.dir).toBe(join(root, 'model'))
    expect(model.files.preprocessor).toBe(join(root, 'components', 'image_processor', 'preprocessor_config.json'))
    checkTensor(model.forward(pixels, 1), want, 'mlflow horse', LOGITS_TOL)
    model.dispose()
  })

  it('reads a `vitrine package` output root (DIR/mlflow_model_folder/...)', async () => {
    const out = await tempDir()
    await mlflowFolder(join(out, 'mlflow_model_folder'))
    const model = await loadModel(out)
    expect(model.dir).toBe(join(out, 'mlflow_model_folder', 'model'))
    checkTensor(model.forward(pixels, 1), want, 'package horse', LOGITS_TOL)
    model.dispose()
  })

  it('by default runs on the backend selectBackend picks (WebAssembly SIMD when available) and owns it', async () => {
    const model = await loadModelWith(tiny)
    expect(model.backend.name).toMatch(bestWasmVariant() === null ? /^ts$/ : /^wasm/)
    checkTensor(model.forward(pixels, 1), want, 'default backend horse', LOGITS_TOL)
    model.dispose()
  })

  it('reads what `vitrine package` really writes (from the timm checkpoint, converted to F16 on the way)', async () => {
    const out = join(await tempDir(), 'pkg')
    await packageModel(join(tiny, 'timm.pth'), out, {convert: {dtype: 'float16', labelsFile: join(tiny, 'config.json')}})
    const model = await loadModel(out)
    expect(model.dir).toBe(join(out, 'mlflow_model_folder', 'model'))
    expect(new Set((await readSafetensorsHeader(model.files.weights)).tensors.map((t) => t.dtype))).toEqual(new Set(['F16']))
    expect(model.labels).toEqual(['can', 'carton', 'milk_bottle', 'water_bottle', 'apple', 'banana', 'kettle', 'mug', 'plate', 'spoon'])
    // F16 weights: the bound of test/engine/weights.test.ts (4 * 2^-11 * max|logit|)
    checkTensor(model.forward(pixels, 1), want, 'packaged f16 horse', 4 * 2 ** -11 * Math.max(...want.map(Math.abs)))
    model.dispose()
  })

  it('refuses a missing path (usage) and a folder that is not a model (invalid input)', async () => {
    await expect(loadModel(join(tiny, 'nope'))).rejects.toThrow(UsageError)
    await expect(loadModel(join(tiny, 'config.json'))).rejects.toThrow(/is not a directory/)
    const empty = await tempDir()
    await expect(loadModel(empty)).rejects.toThrow(InvalidInputError)
    await expect(loadModel(empty)).rejects.toThrow(/not a model folder/)
  })

  it('names model.safetensors when only pytorch_model.bin is there, with a hint to convert', async () => {
    const dir = await tempDir()
    for (const f of ['config.json', 'preprocessor_config.json', 'pytorch_model.bin']) await cp(join(tiny, f), join(dir, f))
    const err = await loadModel(dir).catch((error: unknown) => error)
    expect(err).toBeInstanceOf(InvalidInputError)
    expect((err as InvalidInputError).message).toContain('model.safetensors: no such file (found pytorch_model.bin')
    expect((err as InvalidInputError).hint).toMatch(/vitrine convert/)
  })

  it('refuses a preprocessor size that disagrees with config image_size', async () => {
    const dir = await tempDir()
    for (const f of ['config.json', 'model.safetensors']) await cp(join(tiny, f), join(dir, f))
    const {writeFile} = await import('node:fs/promises')
    await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify({size: {height: 384, width: 384}}))
    await expect(loadModel(dir)).rejects.toThrow(/size is 384x384 but .*config.json has image_size 224x224/)
  })

  it('refuses pixel values of the wrong length, naming the expected shape', async () => {
    const model = await loadModel(tiny)
    expect(() => model.forward(pixels.subarray(1), 1)).toThrow(/1 x 3 x 224 x 224 = 150528/)
    expect(() => model.forward(pixels, 2)).toThrow(InvalidInputError)
    model.dispose()
  })

  it('dispose is idempotent and forward after it is refused', async () => {
    const model = await loadModel(tiny)
    model.dispose()
    model.dispose()
    expect(() => model.forward(pixels, 1)).toThrow(/disposed/)
  })

  it('returns a copy of the logits (the next call does not overwrite them)', async () => {
    const model = await loadModel(tiny)
    const first = model.forward(pixels, 1)
    const kept = Float32Array.from(first)
    model.forward(readF32(join(tiny, 'images', 'camera.f32')), 1)
    expect(first).toEqual(kept)
    model.dispose()
  })
})

describe('softmax and topK', () => {
  it('softmax is max-subtracted (no overflow) and rows sum to 1', () => {
    const p = softmax(new Float32Array([1000, 1000, 0, 1, 2, 3]), 3)
    expect(Array.from(p.subarray(0, 2))).toEqual([0.5, 0.5])
    expect(p[2]).toBe(0)
    const e = [Math.exp(-2), Math.exp(-1), 1]
    const s = e[0] + e[1] + e[2]
    checkTensor(p.subarray(3), e.map((x) => x / s), 'softmax row 2', 1e-7)
  })

  it('topK sorts by score, keeps class-id order on ties, caps k', () => {
    const probs = new Float32Array([0.1, 0.3, 0.3, 0.05, 0.25])
    expect(topK(probs, 3, ['a', 'b', 'c', 'd', 'e'])).toEqual([
      {label: 'b', score: probs[1]},
      {label: 'c', score: probs[2]},
      {label: 'e', score: probs[4]},
    ])
    expect(topK(probs, 10, ['a', 'b', 'c', 'd', 'e']).map((p) => p.label)).toEqual(['b', 'c', 'e', 'a', 'd'])
  })
})
