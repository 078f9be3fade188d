import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import type {Backend} from '../../src/engine/backend.js'
import {createTsBackend} from '../../src/engine/backend-ts.js'
import {createWasmBackend} from '../../src/engine/wasm/index.js'
import {parseBeitConfig} from '../../src/models/beit/config.js'
import {beitForward, createBeitState} from '../../src/models/beit/forward.js'
import {beitParameters} from '../../src/models/beit/tensors.js'
import {beitRelativeBias, prepareBeitWeights} from '../../src/models/beit/weights.js'
import {FIXTURES, checkFamilyFixture} from './family-fixtures.js'
import {readPlanned} from './family-load.js'

const dir = join(FIXTURES, 'beit-tiny')

describe('beitRelativeBias', () => {
  it('indexes the table as BeitRelativePositionBias.generate_relative_position_index', () => {
    // 2x2 grid, 1 head: table row r holds r
    const numRel = 3 * 3 + 3
    const table = Float32Array.from({length: numRel}, (_, r) => r)
    const out = new Float32Array(25)
    beitRelativeBias(out, table, 1, 2, 2)
    // [CLS] row: numRel - 1 then numRel - 3; [CLS] column: numRel - 2; patch (0,0) -> (1,1): dy = dx = -1 -> (0)*3 + 0
    expect([...out.subarray(0, 5)]).toEqual([11, 9, 9, 9, 9])
    expect([out[5], out[10], out[15], out[20]]).toEqual([10, 10, 10, 10])
    expect(out[1 * 5 + 4]).toBe(0)
    expect(out[4 * 5 + 1]).toBe(8) // (1,1) -> (0,0): dy = dx = 1 -> 2*3 + 2
    expect(out[1 * 5 + 1]).toBe(4) // itself: 1*3 + 1
  })
})

describe.each([
  ['ts', async (): Promise<Backend> => createTsBackend()],
  ['wasm', async (): Promise<Backend> => createWasmBackend({threads: 2})],
])('beit-tiny on the %s backend', (name, make) => {
  const backends: Backend[] = []
  afterAll(() => backends.forEach((b) => b.dispose()))
  it('gives PyTorch logits within 1e-4 for inputs.f32 and every fixture image', async () => {
    const backend = await make()
    backends.push(backend)
    const {config} = parseBeitConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), 'config.json')
    const params = beitParameters(config, (n) => backend.alloc(n))
    await readPlanned(join(dir, 'model.safetensors'), params.plan.tensors)
    const weights = prepareBeitWeights(params, config, backend)
    const state = createBeitState(config, backend, 2)
    const max = checkFamilyFixture('beit-tiny', (px, B) => Float32Array.from(beitForward(backend, config, weights, state, px, B)))
    console.log(`beit-tiny ${name}: max abs logit diff ${max.toExponential(2)}`)
  })
})
