import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, it} from 'vitest'

import type {Backend} from '../../src/engine/backend.js'
import {createTsBackend} from '../../src/engine/backend-ts.js'
import {createWasmBackend} from '../../src/engine/wasm/index.js'
import {parseSwinv2Config, swinv2Geometry} from '../../src/models/swinv2/config.js'
import {createSwinv2State, swinv2Forward} from '../../src/models/swinv2/forward.js'
import {swinv2Parameters} from '../../src/models/swinv2/tensors.js'
import {prepareSwinv2Weights} from '../../src/models/swinv2/weights.js'
import {FIXTURES, checkFamilyFixture} from './family-fixtures.js'
import {readPlanned} from './family-load.js'

const dir = join(FIXTURES, 'swinv2-tiny')

describe.each([
  ['ts', async (): Promise<Backend> => createTsBackend()],
  ['wasm', async (): Promise<Backend> => createWasmBackend({threads: 2})],
])('swinv2-tiny on the %s backend', (name, make) => {
  const backends: Backend[] = []
  afterAll(() => backends.forEach((b) => b.dispose()))
  it('gives PyTorch logits within 1e-4 for inputs.f32 and every fixture image', async () => {
    const backend = await make()
    backends.push(backend)
    const {config} = parseSwinv2Config(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), 'config.json')
    const stages = swinv2Geometry(config, 64, 64)
    const params = swinv2Parameters(config, stages, (n) => backend.alloc(n))
    await readPlanned(join(dir, 'model.safetensors'), params.plan.tensors)
    const weights = prepareSwinv2Weights(params, config, backend)
    const state = createSwinv2State(config, stages, backend, 2)
    const max = checkFamilyFixture('swinv2-tiny', (px, B) => Float32Array.from(swinv2Forward(backend, config, {height: 64, width: 64}, weights, state, px, B)))
    console.log(`swinv2-tiny ${name}: max abs logit diff ${max.toExponential(2)}`)
  })
})
