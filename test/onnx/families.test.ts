/**
 * `package --onnx` for every family beyond ViT: each shared fixture (test/fixtures/<family>-tiny, seeded random
 * models with PyTorch logits) exported by exportOnnx and run in onnxruntime-node, against the fixture's PyTorch
 * logits and against vitrine's engine on the same pixels, within the 1e-4; the batch dimension is dynamic
 * (1 image, the fixture's 2, and every readable fixture image in one batch).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import * as ort from 'onnxruntime-node'
import {afterAll, describe, expect, it} from 'vitest'

import {seededRandom} from '../../src/core/random.js'
import {type LoadedModel, loadModel} from '../../src/engine/classifier.js'
import {parseSwinv2Config, swinv2Geometry} from '../../src/models/swinv2/config.js'
import {exportOnnx} from '../../src/onnx/export.js'
import {FIXTURES, type FixtureExpected, LOGITS_TOL, readExpected, readF32} from '../engine/fixtures.js'
import {checkTensor} from '../helpers/check-tensor.js'
import {writeSpreadModelFolder} from '../helpers/spread-model.js'
import {tempDir} from '../helpers/tmp.js'

/** Runs pixel_values [B, ...inputShape] through an ONNX session; returns logits [B, labels]. */
export async function runOnnx(session: ort.InferenceSession, pixels: Float32Array, batch: number, inputShape: number[]): Promise<Float32Array> {
  const r = await session.run({pixel_values: new ort.Tensor('float32', pixels, [batch, ...inputShape])})
  expect(r.logits.dims[0]).toBe(batch)
  return r.logits.data as Float32Array
}

/** The largest |a - b| over two logit arrays, after checking both within LOGITS_TOL of each other. */
function check(actual: Float32Array, expected: ArrayLike<number>, label: string): number {
  return checkTensor(actual, expected, label, LOGITS_TOL).maxAbsDiff
}

const sessions: ort.InferenceSession[] = []
const models: LoadedModel[] = []
afterAll(async () => {
  for (const s of sessions) await s.release()
  for (const m of models) m.dispose()
})

describe.each(['beit-tiny', 'swinv2-tiny', 'dinov2-tiny'])('%s exported to ONNX (opset 17)', (name) => {
  const dir = join(FIXTURES, name)

  it('runs in onnxruntime with the PyTorch and the engine logits within 1e-4, for 1, 2 and all the images at once', async () => {
    const out = join(await tempDir(), 'model.onnx')
    const {inputShape, numLabels} = await exportOnnx(dir, out)
    const session = await ort.InferenceSession.create(out)
    sessions.push(session)
    expect(session.inputNames).toEqual(['pixel_values'])
    expect(session.outputNames).toEqual(['logits'])

    const expected = readExpected(dir)
    const images = expected.images.filter((img) => img.pixel_values)
    const engine = await loadModel(dir, {maxBatch: images.length})
    models.push(engine)
    expect(inputShape).toEqual([engine.config.numChannels, engine.inputHeight, engine.inputWidth])
    expect(numLabels).toBe(engine.config.numLabels)

    // inputs.f32: the fixture's batch of 2
    const B = expected.inputs.shape[0]
    expect(B).toBeGreaterThan(1)
    const inputs = readF32(join(dir, expected.inputs.file))
    const batched = await runOnnx(session, inputs, B, inputShape)
    let vsTorch = check(batched, expected.inputs.logits.flat(), `${name} inputs.f32 ONNX vs PyTorch`)
    let vsEngine = check(batched, engine.forward(inputs, B), `${name} inputs.f32 ONNX vs engine`)

    // each image alone, then all of them in one batch
    const pixels = images.map((img) => readF32(join(dir, img.pixel_values!)))
    for (const [i, img] of images.entries()) {
      const one = await runOnnx(session, pixels[i], 1, inputShape)
      vsTorch = Math.max(vsTorch, check(one, img.logits!, `${name} ${img.image} ONNX vs PyTorch`))
      vsEngine = Math.max(vsEngine, check(one, engine.forward(pixels[i], 1), `${name} ${img.image} ONNX vs engine`))
    }
    const all = new Float32Array(pixels.reduce((n, p) => n + p.length, 0))
    pixels.reduce((o, p) => (all.set(p, o), o + p.length), 0)
    const allLogits = await runOnnx(session, all, images.length, inputShape)
    vsTorch = Math.max(vsTorch, check(allLogits, images.flatMap((img) => img.logits!), `${name} ${images.length} images ONNX vs PyTorch`))
    vsEngine = Math.max(vsEngine, check(allLogits, engine.forward(all, images.length), `${name} ${images.length} images ONNX vs engine`))
    console.log(`${name} ONNX: max abs logit diff ${vsTorch.toExponential(2)} vs PyTorch, ${vsEngine.toExponential(2)} vs the engine (${engine.backend.name})`)
  }, 60_000)
})

/**
 * The ONNX model of a random-weight folder against the engine on the same seeded pixels, 1 and 3 images: for config
 * variants no PyTorch fixture has (the engine itself is checked against PyTorch on the fixtures).
 */
async function checkAgainstEngine(dir: string, label: string): Promise<number> {
  const out = join(dir, 'model.onnx')
  const {inputShape} = await exportOnnx(dir, out)
  const session = await ort.InferenceSession.create(out)
  sessions.push(session)
  const engine = await loadModel(dir, {maxBatch: 3})
  models.push(engine)
  const rand = seededRandom(99)
  const pixels = Float32Array.from({length: 3 * inputShape.reduce((a, b) => a * b, 1)}, () => rand() * 4 - 2)
  let max = check(await runOnnx(session, pixels, 3, inputShape), engine.forward(pixels, 3), `${label} 3 images ONNX vs engine`)
  const second = pixels.subarray(pixels.length / 3, (2 * pixels.length) / 3)
  max = Math.max(max, check(await runOnnx(session, second, 1, inputShape), engine.forward(second, 1), `${label} 1 image ONNX vs engine`))
  console.log(`${label} ONNX: max abs logit diff ${max.toExponential(2)} vs the engine (${engine.backend.name})`)
  return max
}

describe('BEiT variants exported to ONNX', () => {
  const base = {model_type: 'beit', hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, image_size: 32, patch_size: 8, num_labels: 5}
  it.each([
    ['per-layer and shared relative position bias, absolute positions, [CLS] head, no layer scale, mask token', {use_relative_position_bias: true, use_shared_relative_position_bias: true, use_absolute_position_embeddings: true, use_mean_pooling: false, layer_scale_init_value: 0, use_mask_token: true}],
    ['the shared relative position bias alone, mean pooling, layer scale', {use_shared_relative_position_bias: true}],
  ])('%s: the engine logits within 1e-4', async (label, variant) => {
    const dir = await writeSpreadModelFolder(join(await tempDir(), 'beit'), {...base, ...variant}, 3)
    expect(await checkAgainstEngine(dir, `BEiT (${label})`)).toBeLessThan(LOGITS_TOL)
  }, 60_000)
})

describe('DINOv2 exported to ONNX', () => {
  const dir = join(FIXTURES, 'dinov2-tiny')

  it('resamples the positions as the serving transformers version does: 4.44 gives expected.transformers-4.44.json', async () => {
    const work = await tempDir()
    const expected = JSON.parse(readFileSync(join(dir, 'expected.transformers-4.44.json'), 'utf8')) as FixtureExpected
    const inputs = readF32(join(dir, expected.inputs.file))
    const B = expected.inputs.shape[0]
    const logitsOf = async (file: string, transformersVersion?: string): Promise<Float32Array> => {
      const {inputShape} = await exportOnnx(dir, join(work, file), undefined, {transformersVersion})
      const session = await ort.InferenceSession.create(join(work, file))
      sessions.push(session)
      return runOnnx(session, inputs, B, inputShape)
    }
    const old = await logitsOf('444.onnx', '4.44.2')
    const d = check(old, expected.inputs.logits.flat(), 'dinov2-tiny ONNX (transformers 4.44.2) vs PyTorch 4.44')
    console.log(`dinov2-tiny ONNX for transformers 4.44.2: max abs logit diff ${d.toExponential(2)} vs PyTorch 4.44`)
    // the other interpolation is measurably different: the version is not ignored
    const current = await logitsOf('current.onnx')
    expect(Math.max(...expected.inputs.logits.flat().map((v, i) => Math.abs(v - current[i])))).toBeGreaterThan(1e-3)
  }, 60_000)

  it('at the config geometry (processor crop = image_size) takes the checkpoint positions unchanged: the engine logits within 1e-4', async () => {
    const config = {model_type: 'dinov2', hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, mlp_ratio: 2, image_size: 28, patch_size: 7, num_labels: 4, qkv_bias: false}
    const preprocessor = {image_processor_type: 'BitImageProcessor', do_resize: true, size: {shortest_edge: 32}, do_center_crop: true, crop_size: {height: 28, width: 28}, resample: 3, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5]}
    const folder = await writeSpreadModelFolder(join(await tempDir(), 'dinov2'), config, 5, preprocessor)
    expect(await checkAgainstEngine(folder, 'DINOv2 (config geometry, no qkv bias)')).toBeLessThan(LOGITS_TOL)
  }, 60_000)
})

describe('SwinV2 exported to ONNX where padding and shifted windows matter', () => {
  it.each([
    // 38 / 4 -> a 10x10 map (the image padded to whole patches), padded to 12x12 windows of 4 and shifted by 2 in the
    // same block; 5x5 and 3x3 after the (odd) patch mergings; the last stage's window shrinks to its 2x2 resolution
    ['image 38, window 4, depths [2, 2, 2]', {image_size: 38, patch_size: 4, embed_dim: 16, depths: [2, 2, 2], num_heads: [2, 2, 4], window_size: 4, pretrained_window_sizes: [0, 3, 0]}],
    // a non-square image: 11x15 map padded to 12x15 windows of 3, shifted by 1; no qkv bias
    ['image 44x60, window 3, no qkv bias', {image_size: [44, 60], patch_size: 4, embed_dim: 12, depths: [2, 2], num_heads: [3, 3], window_size: 3, qkv_bias: false}],
  ])('%s: the engine logits within 1e-4', async (label, geometry) => {
    const config = {model_type: 'swinv2', num_labels: 5, ...geometry}
    const {config: parsed} = parseSwinv2Config(config, 'config.json')
    const blocks = swinv2Geometry(parsed, parsed.imageHeight, parsed.imageWidth).flatMap((s) => s.blocks)
    expect(blocks.some((b) => b.shift > 0 && (b.padHeight > b.height || b.padWidth > b.width))).toBe(true)
    const dir = await writeSpreadModelFolder(join(await tempDir(), 'swinv2'), config, 7)
    expect(await checkAgainstEngine(dir, `SwinV2 (${label})`)).toBeLessThan(LOGITS_TOL)
  }, 60_000)
})
