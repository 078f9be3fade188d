/**
 * SwinV2's window bookkeeping where the fixture does not reach: feature maps that are not a multiple of the window
 * (zero padding), odd maps before patch merging, a stage whose map fits one window (no shift, smaller window), the
 * image not a multiple of the patch; checked by hand on small cases, and the whole model on both backends agreeing
 * (seeded random weights, 1- and 3-image batches).
 */
import {afterAll, describe, expect, it} from 'vitest'

import {seededRandom} from '../../src/core/random.js'
import type {Backend} from '../../src/engine/backend.js'
import {createTsBackend} from '../../src/engine/backend-ts.js'
import {createWasmBackend} from '../../src/engine/wasm/index.js'
import {parseSwinv2Config, swinv2Geometry} from '../../src/models/swinv2/config.js'
import {createSwinv2State, mergeSources, swinv2Forward, windowSources} from '../../src/models/swinv2/forward.js'
import {swinv2Parameters} from '../../src/models/swinv2/tensors.js'
import {prepareSwinv2Weights, shiftedWindowMask} from '../../src/models/swinv2/weights.js'
import {checkTensor} from '../helpers/check-tensor.js'

describe('swinv2Geometry', () => {
  it('pads maps to whole windows, ceil-halves them when merging, and drops the shift where one window covers the map', () => {
    const {config} = parseSwinv2Config({image_size: 38, patch_size: 4, embed_dim: 8, depths: [2, 2, 2], num_heads: [1, 2, 2], window_size: 4}, 'c.json')
    const g = swinv2Geometry(config, 38, 38)
    // 38 / 4 -> 10 (image padded to whole patches); config grid floor(38 / 4) = 9 -> resolutions 9, 4, 2
    expect(g.map((s) => [s.height, s.width])).toEqual([[10, 10], [5, 5], [3, 3]])
    expect(g[0].blocks.map((b) => [b.windowSize, b.shift, b.padHeight, b.numWindows])).toEqual([[4, 0, 12, 9], [4, 2, 12, 9]])
    expect(g[1].blocks.map((b) => [b.windowSize, b.shift, b.padHeight])).toEqual([[4, 0, 8], [4, 0, 8]])
    expect(g[2].blocks.map((b) => [b.windowSize, b.shift, b.padHeight])).toEqual([[2, 0, 4], [2, 0, 4]])
  })
})

describe('windowSources', () => {
  it('maps window tokens to map positions after the roll, -1 on padding', () => {
    // 3x3 map padded to 4x4, window 2, shift 1: window 0 token (0,0) holds map (1,1); token (1,1) holds (2,2)
    const src = windowSources({windowSize: 2, shift: 1, height: 3, width: 3, padHeight: 4, padWidth: 4, numWindows: 4})
    expect([...src.subarray(0, 4)]).toEqual([4, 5, 7, 8])
    // window 3 covers padded rows/cols 2..3 shifted to 3, 0: (3,3) pad, (3,0) pad, (0,3) pad, (0,0) -> 0
    expect([...src.subarray(12, 16)]).toEqual([-1, -1, -1, 0])
  })
})

describe('shiftedWindowMask', () => {
  it('masks token pairs from different regions with -100', () => {
    const mask = shiftedWindowMask(4, 4, 2, 1)
    // window 0 (rows 0-1, cols 0-1) lies in region 0 only: no mask
    expect([...mask.subarray(0, 16)].every((v) => v === 0)).toBe(true)
    // window 3 (rows 2-3, cols 2-3): (2,2) region 4, (2,3) 5, (3,2) 7, (3,3) 8 -> all pairs of distinct tokens masked
    const w3 = [...mask.subarray(48, 64)]
    expect(w3.filter((v) => v === -100).length).toBe(12)
  })
})

describe('mergeSources', () => {
  it('takes x[2i,2j], x[2i+1,2j], x[2i,2j+1], x[2i+1,2j+1], none (-1) past an odd edge', () => {
    // a 3x3 map, positions row-major 0..8
    expect([...mergeSources(3, 3)]).toEqual([0, 3, 1, 4, 2, 5, -1, -1, 6, -1, 7, -1, 8, -1, -1, -1])
  })
})

describe('a padded SwinV2 on both backends', () => {
  const backends: Backend[] = []
  afterAll(() => backends.forEach((b) => b.dispose()))
  it('gives the same logits on the TypeScript and WebAssembly kernels (1 and 3 images)', async () => {
    const {config} = parseSwinv2Config(
      {image_size: 38, patch_size: 4, embed_dim: 16, depths: [2, 2, 2], num_heads: [2, 2, 4], window_size: 4, num_labels: 5, pretrained_window_sizes: [0, 3, 0]},
      'c.json',
    )
    const stages = swinv2Geometry(config, 38, 38)
    const run = async (backend: Backend): Promise<Float32Array> => {
      backends.push(backend)
      const params = swinv2Parameters(config, stages, (n) => backend.alloc(n))
      const rnd = seededRandom(7)
      for (const t of params.plan.tensors) for (let i = 0; i < t.view.length; i++) t.view[i] = (rnd() * 2 - 1) * (t.name.endsWith('logit_scale') ? 3 : 0.3)
      const weights = prepareSwinv2Weights(params, config, backend)
      const state = createSwinv2State(config, stages, backend, 3)
      const pixels = Float32Array.from({length: 3 * 3 * 38 * 38}, () => rnd() * 2 - 1)
      const three = Float32Array.from(swinv2Forward(backend, config, {height: 38, width: 38}, weights, state, pixels, 3))
      const one = swinv2Forward(backend, config, {height: 38, width: 38}, weights, state, pixels.subarray(3 * 38 * 38, 6 * 38 * 38), 1)
      checkTensor(one, three.subarray(5, 10), 'image 2 alone vs in a batch of 3', 1e-5)
      return three
    }
    const ts = await run(createTsBackend())
    const wasm = await run(await createWasmBackend({threads: 2}))
    checkTensor(wasm, ts, 'wasm vs ts logits', 1e-4)
    expect(new Set(ts).size).toBeGreaterThan(5)
  })
})
