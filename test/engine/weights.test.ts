import {cp, readFile, truncate, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {InvalidInputError} from '../../src/core/errors.js'
import {createTsBackend} from '../../src/engine/backend-ts.js'
import {type LoadModelOptions, loadModel as loadModelWith} from '../../src/engine/classifier.js'
import {readParameters} from '../../src/engine/read-parameters.js'
import type {VitFamilyModel} from '../../src/models/vit/family.js'
import {vitFamily} from '../../src/models/vit/family.js'
import {parseVitConfig} from '../../src/models/vit/config.js'
import {bf16ToF32, f16ToF32, f32ToBf16, f32ToF16} from '../../src/weights/dtype.js'
import {loadSafetensors, serializeSafetensorsHeader, tensorBytes, tensorToFloat32} from '../../src/weights/safetensors.js'
import {checkTensor, compareTensors} from '../helpers/check-tensor.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES, readExpected, readF32} from './fixtures.js'

// The loader's tests run on the plain TypeScript kernels, whose Linear keeps the weight views as loaded (the wasm
// backend packs them in place).
const loadModel = (dir: string, options: LoadModelOptions = {}) => loadModelWith(dir, {backend: createTsBackend(), ...options})

/** The ViT's named parameter views of a loaded model (the family's own model object). */
const vitParams = (m: {model: unknown}) => (m.model as VitFamilyModel).params

interface OutTensor {
  name: string
  dtype: string
  shape: number[]
  bytes: Uint8Array
}

/** The fixture's F32 tensors, each passed through `edit` (which may change, rename or drop it). */
async function fixtureTensors(fixture: string): Promise<OutTensor[]> {
  const file = join(FIXTURES, fixture, 'model.safetensors')
  const st = await loadSafetensors(file)
  return st.header.tensors.map((t) => ({name: t.name, dtype: t.dtype, shape: t.shape, bytes: tensorBytes(st, t).slice()}))
}

/** A Hugging Face folder with the fixture's config and preprocessor and the given tensors. */
async function writeFolder(fixture: string, tensors: OutTensor[], configPatch: Record<string, unknown> = {}): Promise<string> {
  const dir = await tempDir()
  await cp(join(FIXTURES, fixture, 'preprocessor_config.json'), join(dir, 'preprocessor_config.json'))
  const config = JSON.parse(await readFile(join(FIXTURES, fixture, 'config.json'), 'utf8')) as Record<string, unknown>
  await writeFile(join(dir, 'config.json'), JSON.stringify({...config, ...configPatch}))
  const {head} = serializeSafetensorsHeader(tensors)
  const body = Buffer.concat([head, ...tensors.map((t) => t.bytes)])
  await writeFile(join(dir, 'model.safetensors'), body)
  return dir
}

function asF32(t: OutTensor): Float32Array {
  return tensorToFloat32(t.bytes, t.dtype, t.name, 'test')
}

/** Converts one F32 tensor to a 16-bit dtype with the project's round-to-nearest-even conversions. */
function toHalf(t: OutTensor, dtype: 'F16' | 'BF16'): OutTensor {
  const src = asF32(t)
  const conv = dtype === 'F16' ? f32ToF16 : f32ToBf16
  const halves = Uint16Array.from(src, (x) => conv(x))
  return {...t, dtype, bytes: new Uint8Array(halves.buffer)}
}

/** The same tensor in F32 after the round trip through the 16-bit dtype: what an F16/BF16 load must produce. */
function roundTripF32(t: OutTensor, dtype: 'F16' | 'BF16'): OutTensor {
  const src = asF32(t)
  const rt = dtype === 'F16' ? (x: number) => f16ToF32(f32ToF16(x)) : (x: number) => bf16ToF32(f32ToBf16(x))
  return {...t, bytes: new Uint8Array(Float32Array.from(src, rt).buffer)}
}

describe.each([
  // Rounding a weight to f16 changes it by at most u = 2^-11 of itself (11 significant bits), to bf16 by at most
  // u = 2^-8 (8 bits). A network's output moves by about that relative error times the logits' scale, compounded
  // over its layers, so the bound is 4 * u * max|logit|. Measured on both fixtures (max|logit| ~2.6): f16 1.1e-3 and
  // 1.7e-3, bf16 1.5e-2 twice, i.e. ~1.5 * u * max|logit| for both dtypes (the same constant, as the model
  // predicts); the bound leaves a 2.5x margin. A wrong widening (byte order, exponent bias) misses it by orders of
  // magnitude, and the exact comparison with the round-tripped float32 weights above it catches any bit.
  ['F16', 2 ** -11],
  ['BF16', 2 ** -8],
] as const)('%s weights', (dtype, u) => {
  it.each(['vit-tiny', 'vit-geom'])(`%s: widened exactly, and logits near PyTorch's float32 ones`, async (fixture) => {
    const tensors = await fixtureTensors(fixture)
    const halfDir = await writeFolder(fixture, tensors.map((t) => toHalf(t, dtype)))
    const roundTripDir = await writeFolder(fixture, tensors.map((t) => roundTripF32(t, dtype)))
    const expected = readExpected(join(FIXTURES, fixture))
    const pixels = readF32(join(FIXTURES, fixture, expected.inputs.file))
    const B = expected.inputs.shape[0]

    const half = await loadModel(halfDir, {maxBatch: B})
    const roundTrip = await loadModel(roundTripDir, {maxBatch: B})
    // Loading: every widened weight equals the float32 value of its 16-bit pattern, bit for bit.
    const hw = vitParams(half)
    const rw = vitParams(roundTrip)
    expect(hw.posEmbed).toEqual(rw.posEmbed)
    expect(hw.patchWeight).toEqual(rw.patchWeight)
    expect(hw.layers[0].qkvWeight).toEqual(rw.layers[0].qkvWeight)
    expect(hw.layers.at(-1)!.fc2Weight).toEqual(rw.layers.at(-1)!.fc2Weight)
    expect(hw.classifierWeight).toEqual(rw.classifierWeight)

    // Same weights, same kernels: the same logits exactly.
    const logits = half.forward(pixels, B)
    expect(logits).toEqual(roundTrip.forward(pixels, B))
    // And against PyTorch's float32 model: within the rounding of the weights.
    const want = expected.inputs.logits.flat()
    const tol = 4 * u * Math.max(...want.map(Math.abs))
    const {maxAbsDiff} = checkTensor(logits, want, `${fixture} ${dtype} vs float32`, tol)
    // Not trivially equal: the rounding must show (otherwise this test would not be testing the 16-bit path).
    expect(maxAbsDiff).toBeGreaterThan(0)
    half.dispose()
    roundTrip.dispose()
  })
})

describe('mixed dtypes in one file', () => {
  it('reads each tensor in its own dtype', async () => {
    const tensors = await fixtureTensors('vit-geom')
    const mixed = tensors.map((t, i) => (i % 3 === 0 ? toHalf(t, 'F16') : i % 3 === 1 ? toHalf(t, 'BF16') : t))
    const want = tensors.map((t, i) => (i % 3 === 0 ? roundTripF32(t, 'F16') : i % 3 === 1 ? roundTripF32(t, 'BF16') : t))
    const a = await loadModel(await writeFolder('vit-geom', mixed))
    const b = await loadModel(await writeFolder('vit-geom', want))
    const px = readF32(join(FIXTURES, 'vit-geom', 'images', 'horse.f32'))
    expect(a.forward(px, 1)).toEqual(b.forward(px, 1))
  })
})

describe('weights errors name the tensor and both shapes', () => {
  const fixture = 'vit-geom'

  it('fuses query, key and value in that order', async () => {
    const tensors = await fixtureTensors(fixture)
    const configFile = join(FIXTURES, fixture, 'config.json')
    const {config} = parseVitConfig(JSON.parse(await readFile(configFile, 'utf8')), configFile)
    const file = join(FIXTURES, fixture, 'model.safetensors')
    const model = await vitFamily.createModel(config, createTsBackend(), 1, (wanted) => readParameters(file, wanted))
    const weights = model.params
    const C = config.hiddenSize
    const get = (name: string) => asF32(tensors.find((t) => t.name === name)!)
    const p = 'vit.encoder.layer.1.attention.attention'
    expect(weights.layers[1].qkvWeight.subarray(0, C * C)).toEqual(get(`${p}.query.weight`))
    expect(weights.layers[1].qkvWeight.subarray(C * C, 2 * C * C)).toEqual(get(`${p}.key.weight`))
    expect(weights.layers[1].qkvWeight.subarray(2 * C * C)).toEqual(get(`${p}.value.weight`))
    expect(weights.layers[1].qkvBias!.subarray(2 * C)).toEqual(get(`${p}.value.bias`))
    expect(model.numParameters).toBe(tensors.reduce((a, t) => a + t.bytes.length / 4, 0))
  })

  it('a missing tensor', async () => {
    const tensors = (await fixtureTensors(fixture)).filter((t) => t.name !== 'vit.encoder.layer.2.output.dense.weight')
    const dir = await writeFolder(fixture, tensors)
    await expect(loadModel(dir)).rejects.toThrow(InvalidInputError)
    await expect(loadModel(dir)).rejects.toThrow(/1 tensor is missing: 'vit\.encoder\.layer\.2\.output\.dense\.weight' \[32, 80\]/)
  })

  it('a tensor of the wrong shape', async () => {
    const tensors = (await fixtureTensors(fixture)).map((t) =>
      t.name === 'classifier.weight' ? {...t, shape: [t.shape[1], t.shape[0]]} : t,
    )
    await expect(loadModel(await writeFolder(fixture, tensors))).rejects.toThrow(/tensor 'classifier\.weight' has shape \[32, 5\], expected \[5, 32\]/)
  })

  it('an unreadable dtype', async () => {
    const tensors = (await fixtureTensors(fixture)).map((t) => (t.name === 'vit.layernorm.bias' ? {...t, dtype: 'I32'} : t))
    await expect(loadModel(await writeFolder(fixture, tensors))).rejects.toThrow(/tensor 'vit\.layernorm\.bias' has dtype I32; vitrine reads F32, F16 or BF16/)
  })

  it('names that are not Hugging Face ViT names: a hint to convert', async () => {
    const tensors = (await fixtureTensors(fixture)).map((t) => ({...t, name: `model.${t.name}`}))
    const err = await loadModel(await writeFolder(fixture, tensors)).catch((error: unknown) => error)
    expect((err as Error).message).toMatch(/tensors are missing: .* and \d+ more/)
    expect((err as InvalidInputError).hint).toMatch(/vitrine convert/)
  })

  it('qkv_bias false: no query/key/value biases, computed as zero biases', async () => {
    const tensors = await fixtureTensors(fixture)
    const isQkvBias = (name: string) => /attention\.attention\.(query|key|value)\.bias$/.test(name)
    const zeroBiases = tensors.map((t) => (isQkvBias(t.name) ? {...t, bytes: new Uint8Array(t.bytes.length)} : t))
    const noBiases = tensors.filter((t) => !isQkvBias(t.name))
    expect(noBiases.length).toBe(tensors.length - 9)
    const withZeros = await loadModel(await writeFolder(fixture, zeroBiases))
    const without = await loadModel(await writeFolder(fixture, noBiases, {qkv_bias: false}))
    expect((without.model as VitFamilyModel).params.layers[0].qkvBias).toBeNull()
    expect(without.model.parameters.some((t) => /query\.bias$/.test(t.name))).toBe(false)
    const px = readF32(join(FIXTURES, fixture, 'images', 'coffee.f32'))
    expect(without.forward(px, 1)).toEqual(withZeros.forward(px, 1))
    // and qkv_bias true with the biases missing is an error naming them
    await expect(loadModel(await writeFolder(fixture, noBiases))).rejects.toThrow(/9 tensors are missing: 'vit\.encoder\.layer\.0\.attention\.attention\.query\.bias' \[32\]/)
  })

  it('a truncated model.safetensors names the file and the offset', async () => {
    const dir = await writeFolder(fixture, await fixtureTensors(fixture))
    const file = join(dir, 'model.safetensors')
    await truncate(file, 100_000)
    const err = await loadModel(dir).catch((error: unknown) => error)
    expect(err).toBeInstanceOf(InvalidInputError)
    expect((err as Error).message.startsWith(`${file}: `)).toBe(true)
    expect((err as Error).message).toMatch(/tensor '.*': data_offsets \[\d+, \d+\] run past the end of the file/)
  })

  it('ignores extra tensors (a pooler, say)', async () => {
    const tensors = await fixtureTensors(fixture)
    const extra = {name: 'vit.pooler.dense.weight', dtype: 'F32', shape: [2, 2], bytes: new Uint8Array(16)}
    const model = await loadModel(await writeFolder(fixture, [...tensors, extra]))
    const exp = readExpected(join(FIXTURES, fixture)).images[0]
    const {maxAbsDiff} = compareTensors(model.forward(readF32(join(FIXTURES, fixture, exp.pixel_values!)), 1), exp.logits!, 1e-4)
    expect(maxAbsDiff).toBeLessThan(1e-4)
  })
})
