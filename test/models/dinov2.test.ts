import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import type {Backend} from '../../src/engine/backend.js'
import {createTsBackend} from '../../src/engine/backend-ts.js'
import {createWasmBackend} from '../../src/engine/wasm/index.js'
import {parseDinov2Config} from '../../src/models/dinov2/config.js'
import {createDinov2State, dinov2Forward} from '../../src/models/dinov2/forward.js'
import {dinov2Parameters} from '../../src/models/dinov2/tensors.js'
import {interpolatesByScaleFactor, prepareDinov2Weights} from '../../src/models/dinov2/weights.js'
import {FIXTURES, checkFamilyFixture} from './family-fixtures.js'
import {readPlanned} from './family-load.js'

const dir = join(FIXTURES, 'dinov2-tiny')

describe('interpolatesByScaleFactor', () => {
  it('is the transformers <= 4.44 form', () => {
    expect(['4.44.2', '4.40.1', '3.5.0'].map(interpolatesByScaleFactor)).toEqual([true, true, true])
    expect(['4.45.0', '4.46.0', '5.0.0', undefined].map(interpolatesByScaleFactor)).toEqual([false, false, false, false])
  })
})

// The fixture's input is 56x56 (crop) on a position grid trained at 32/8 = 4x4: interpolated to 7x7, differently
// by transformers 4.45+ (expected.json) and <= 4.44 (expected.transformers-4.44.json).
describe.each([
  ['ts', async (): Promise<Backend> => createTsBackend()],
  ['wasm', async (): Promise<Backend> => createWasmBackend({threads: 2})],
])('dinov2-tiny on the %s backend', (name, make) => {
  const backends: Backend[] = []
  afterAll(() => backends.forEach((b) => b.dispose()))
  it.each([
    ['4.46.0', 'expected.json'],
    ['4.44.2', 'expected.transformers-4.44.json'],
  ])('as transformers %s serves it: PyTorch logits within 1e-4 (%s)', async (version, expectedFile) => {
    const backend = await make()
    backends.push(backend)
    const {config} = parseDinov2Config(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), 'config.json')
    const geometry = {inputHeight: 56, inputWidth: 56, gridHeight: 7, gridWidth: 7}
    const params = dinov2Parameters(config, (n) => backend.alloc(n))
    await readPlanned(join(dir, 'model.safetensors'), params.plan.tensors)
    const weights = prepareDinov2Weights(params, config, {...geometry, transformersVersion: version}, backend, 'model.safetensors')
    const state = createDinov2State(config, geometry, backend, 2)
    const max = checkFamilyFixture('dinov2-tiny', (px, B) => Float32Array.from(dinov2Forward(backend, config, geometry, weights, state, px, B)), expectedFile)
    console.log(`dinov2-tiny ${name} transformers ${version}: max abs logit diff ${max.toExponential(2)}`)
  })
})

describe('the two transformers versions', () => {
  it('give logits further apart than the tolerance, so following the right one matters', () => {
    const a = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')).inputs.logits.flat() as number[]
    const b = JSON.parse(readFileSync(join(dir, 'expected.transformers-4.44.json'), 'utf8')).inputs.logits.flat() as number[]
    expect(Math.max(...a.map((x, i) => Math.abs(x - b[i])))).toBeGreaterThan(1e-3)
  })
})
