import {describe, expect, it} from 'vitest'

import {createTsBackend} from '../../src/engine/backend-ts.js'
import {attentionNaive, geluNaive, matmulNaive} from '../../src/engine/kernels/reference.js'
import {checkTensor} from '../helpers/check-tensor.js'

/** Deterministic values in [-scale, scale): the same inputs on every run. */
function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale
  }
  return out
}

// Float32 outputs of float64-accumulated sums: the only difference from the reference is summation order and the
// final rounding, ~1e-7 relative on values of order sqrt(K).
const TOL = 2e-5

// Odd shapes: M and N not multiples of the 2x4 register tile or the 64-row block, 1-row and 1-column inputs.
const LINEAR_SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 7, 5],
  [3, 5, 4],
  [2, 16, 9],
  [65, 33, 7],
  [197, 48, 147],
  [130, 3, 1],
]

describe('TypeScript backend against the naive reference kernels', () => {
  const backend = createTsBackend()

  it.each(LINEAR_SHAPES)('linear M=%i K=%i N=%i, with and without bias, GELU and residual', (M, K, N) => {
    const inp = randomArray(M * K, M * 1000 + K)
    const weight = randomArray(N * K, N * 7 + 1, 0.5)
    const bias = randomArray(N, 99)
    const want = new Float32Array(M * N)

    const plain = new Float32Array(M * N)
    backend.linear(plain, inp, backend.prepareLinear(weight, null, N, K), M, 'none')
    matmulNaive(want, inp, weight, null, M, K, N)
    checkTensor(plain, want, `linear ${M}x${K}x${N}`, TOL)

    const withBias = new Float32Array(M * N)
    const lin = backend.prepareLinear(weight, bias, N, K)
    backend.linear(withBias, inp, lin, M, 'none')
    matmulNaive(want, inp, weight, bias, M, K, N)
    checkTensor(withBias, want, `linear+bias ${M}x${K}x${N}`, TOL)

    const gelu = new Float32Array(M * N)
    backend.linear(gelu, inp, lin, M, 'gelu')
    const wantGelu = new Float32Array(M * N)
    geluNaive(wantGelu, want, M * N)
    checkTensor(gelu, wantGelu, `linear+bias+gelu ${M}x${K}x${N}`, TOL)

    // residual in place: out = out + linear(inp)
    const acc = randomArray(M * N, 5)
    const wantRes = acc.map((x, i) => x + want[i])
    backend.linear(acc, inp, lin, M, 'none', acc)
    checkTensor(acc, wantRes, `linear+residual ${M}x${K}x${N}`, TOL)
  })

  it('linear writes nothing outside out[M, N]', () => {
    const [M, K, N] = [3, 5, 6]
    const out = new Float32Array(M * N + 4).fill(7)
    backend.linear(out.subarray(0, M * N), randomArray(M * K, 1), backend.prepareLinear(randomArray(N * K, 2), null, N, K), M, 'none')
    expect(Array.from(out.subarray(M * N))).toEqual([7, 7, 7, 7])
  })

  it('prepareLinear refuses a weight of the wrong size', () => {
    expect(() => backend.prepareLinear(new Float32Array(5), null, 2, 3)).toThrow(/expected 2x3/)
  })

  it('layerNorm is the reference loop; checked here against hand-computed values, with a large offset', () => {
    // [1, 2, 3, 4]: mean 2.5, biased variance 1.25, so (x - 2.5) / sqrt(1.25) = [-3, -1, 1, 3] / (2 sqrt(1.25))
    const unit = [-3, -1, 1, 3].map((d) => d / (2 * Math.sqrt(1.25)))
    const got = new Float32Array(8)
    const inp = new Float32Array([1, 2, 3, 4, 100001, 100002, 100003, 100004])
    backend.layerNorm(got, inp, new Float32Array([1, 2, 1, 1]), new Float32Array([0, 0, 0, 0.5]), 2, 4, 0)
    const want = unit.map((x, c) => x * [1, 2, 1, 1][c] + [0, 0, 0, 0.5][c])
    checkTensor(got, [...want, ...want], 'layerNorm', 1e-6)
  })

  it.each([
    [1, 1, 4, 1],
    [1, 5, 6, 2],
    [2, 17, 12, 3],
    [3, 197, 48, 3],
  ])('attention B=%i T=%i C=%i NH=%i', (B, T, C, NH) => {
    const qkv = randomArray(B * T * 3 * C, T * 31 + C, 2)
    const got = new Float32Array(B * T * C)
    const want = new Float32Array(B * T * C)
    backend.attention(got, qkv, B, T, C, NH)
    attentionNaive(want, qkv, B, T, C, NH)
    checkTensor(got, want, `attention ${B}x${T}x${C}/${NH}`, 1e-6)
  })

  it('attention reuses its scratch across growing and shrinking shapes', () => {
    for (const [B, T, C, NH] of [[1, 3, 4, 1], [1, 40, 16, 2], [2, 9, 8, 4]]) {
      const qkv = randomArray(B * T * 3 * C, T)
      const got = new Float32Array(B * T * C)
      const want = new Float32Array(B * T * C)
      backend.attention(got, qkv, B, T, C, NH)
      attentionNaive(want, qkv, B, T, C, NH)
      checkTensor(got, want, `attention ${B}x${T}x${C}/${NH}`, 1e-6)
    }
  })
})
