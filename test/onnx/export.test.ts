import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import * as ort from 'onnxruntime-node'
import {describe, expect, it} from 'vitest'

import {exportOnnx} from '../../src/onnx/export.js'
import {tempDir} from '../helpers/tmp.js'

const FIXTURES = join(import.meta.dirname, '..', 'fixtures')

interface Expected {
  inputs: {file: string; shape: number[]; logits: number[][]}
}

describe('exportOnnx', () => {
  for (const fixture of ['vit-tiny', 'vit-geom']) {
    it(`reproduces the ${fixture} fixture's torch logits within 1e-4 in onnxruntime`, async () => {
      const dir = join(FIXTURES, fixture)
      const out = join(await tempDir(), 'model.onnx')
      await exportOnnx(dir, out)
      const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Expected
      const raw = await readFile(join(dir, expected.inputs.file))
      const pixels = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
      const session = await ort.InferenceSession.create(out)
      expect(session.inputNames).toEqual(['pixel_values'])
      expect(session.outputNames).toEqual(['logits'])
      const result = await session.run({pixel_values: new ort.Tensor('float32', pixels, expected.inputs.shape)})
      const logits = result.logits
      const [batch] = expected.inputs.shape
      expect(logits.dims).toEqual([batch, expected.inputs.logits[0].length])
      const data = logits.data as Float32Array
      let maxDiff = 0
      expected.inputs.logits.flat().forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - data[i]))))
      expect(maxDiff).toBeLessThan(1e-4)

      // The batch dimension is dynamic: the second image alone gives the same logits as in the batch.
      const per = pixels.length / batch
      const single = await session.run({pixel_values: new ort.Tensor('float32', pixels.slice(per), [1, ...expected.inputs.shape.slice(1)])})
      expect(single.logits.dims).toEqual([1, expected.inputs.logits[1].length])
      const one = single.logits.data as Float32Array
      expected.inputs.logits[1].forEach((v, i) => expect(Math.abs(v - one[i])).toBeLessThan(1e-4))
      await session.release()
    })
  }
})

describe('exportOnnx input checks', () => {
  it('refuses weights that disagree with config.json, naming the tensor, and writes nothing', async () => {
    const {copyFile, writeFile, readdir} = await import('node:fs/promises')
    const dir = await tempDir()
    const src = join(FIXTURES, 'vit-geom')
    await copyFile(join(src, 'model.safetensors'), join(dir, 'model.safetensors'))
    const config = JSON.parse(await readFile(join(src, 'config.json'), 'utf8')) as Record<string, unknown>
    config.intermediate_size = 81
    await writeFile(join(dir, 'config.json'), JSON.stringify(config))
    await expect(exportOnnx(dir, join(dir, 'model.onnx'))).rejects.toThrow(
      /tensor 'vit\.encoder\.layer\.0\.intermediate\.dense\.weight' has shape \[80, 32\], expected \[81, 32\]/,
    )
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors'])
  })
})

describe('exportOnnx from float16 / bfloat16 weights', () => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`widens ${dtype} weights to float32 initializers that onnxruntime runs`, async () => {
      const {convertCheckpoint} = await import('../../src/weights/convert.js')
      const dir = await tempDir()
      const src = join(FIXTURES, 'vit-geom')
      await convertCheckpoint(src, join(dir, 'half'), {dtype})
      await exportOnnx(join(dir, 'half'), join(dir, 'model.onnx'))
      const expected = JSON.parse(await readFile(join(src, 'expected.json'), 'utf8')) as Expected
      const raw = await readFile(join(src, expected.inputs.file))
      const session = await ort.InferenceSession.create(join(dir, 'model.onnx'))
      const r = await session.run({pixel_values: new ort.Tensor('float32', new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), expected.inputs.shape)})
      const data = r.logits.data as Float32Array
      const diffs = expected.inputs.logits.flat().map((v, i) => Math.abs(v - data[i]))
      // Rounded weights move the logits a little, not a lot; and not at all would mean the rounding was lost.
      expect(Math.max(...diffs)).toBeLessThan(dtype === 'float16' ? 5e-3 : 5e-2)
      expect(Math.max(...diffs)).toBeGreaterThan(1e-6)
      await session.release()
    })
  }
})
