// Every WebAssembly kernel against the naive reference (src/engine/kernels/reference.ts) on odd shapes: M = 1, odd
// M, M over the 200-row block, K not a multiple of 4 and over the 768 K block, N not a multiple of 16; with 1 and 2
// threads and both SIMD variants (plain SIMD128 and relaxed SIMD with fused multiply-add).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {seededRandom as seeded} from '../../../src/core/random.js'
import type {Epilogue} from '../../../src/engine/backend.js'
import {attentionNaive, geluScalar, layerNormNaive, matmulNaive, softmaxNaive} from '../../../src/engine/kernels/reference.js'
import {createWasmBackend, type SimdVariant, type WasmBackend, wasmVariantSupported} from '../../../src/engine/wasm/index.js'

function randomArray(n: number, rnd: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n)
  for (let i = 0; i < n; i++) a[i] = (rnd() * 2 - 1) * scale
  return a
}

/** Max abs difference and the first index over `tol`, so a failure says where. */
function compare(actual: Float32Array, expected: Float32Array, tol: number): {maxDiff: number; firstBad: number} {
  expect(actual.length).toBe(expected.length)
  let maxDiff = 0
  let firstBad = -1
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i])
    if (!(d <= tol) && firstBad < 0) firstBad = i
    if (!(d <= maxDiff)) maxDiff = d
  }
  return {maxDiff, firstBad}
}

function expectClose(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  const {maxDiff, firstBad} = compare(actual, expected, tol)
  const detail = firstBad < 0 ? '' : ` first bad index ${firstBad}: ${actual[firstBad]} vs ${expected[firstBad]}`
  expect(firstBad, `${what}: max abs diff ${maxDiff}${detail}`).toBe(-1)
}

function copyInto(backend: WasmBackend, a: Float32Array): Float32Array {
  const v = backend.alloc(a.length)
  v.set(a)
  return v
}

const variants: SimdVariant[] = (['simd', 'relaxed'] as const).filter((v) => wasmVariantSupported(v))

it('this runtime runs at least the plain SIMD kernels', () => {
  expect(variants).toContain('simd')
})

const LINEAR_SHAPES: Array<[number, number, number]> = [
  // [M, K, N]
  [1, 1, 1],
  [1, 7, 16],
  [2, 4, 17],
  [3, 33, 5],
  [1, 300, 40],
  [7, 257, 48],
  [101, 70, 33],
  [99, 513, 50],
  // over the blocks of assembly/kernels.ts `linear` (K in blocks of 768, rows in equal blocks of at most 200)
  [3, 1539, 33],
  [403, 20, 17],
  [250, 800, 40],
]

describe.each(variants.flatMap((variant) => [1, 2].map((threads) => ({variant, threads}))))('wasm kernels ($variant, $threads threads)', ({variant, threads}) => {
  let backend: WasmBackend
  beforeAll(async () => {
    backend = await createWasmBackend({variant, threads})
  })
  afterAll(() => backend.dispose())

  it('reports its name and thread count', () => {
    expect(backend.name).toBe(variant === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd')
    expect(backend.threads).toBe(threads)
  })

  it.each(LINEAR_SHAPES)('linear M=%i K=%i N=%i with bias, gelu, residual (separate and in place)', (M, K, N) => {
    const rnd = seeded(M * 1000003 + K * 1009 + N)
    const w = randomArray(N * K, rnd)
    const bias = randomArray(N, rnd)
    const x = randomArray(M * K, rnd)
    const res = randomArray(M * N, rnd)
    const tol = 2e-6 * (K + 1)
    const plain = new Float32Array(M * N)
    matmulNaive(plain, x, w, bias, M, K, N)
    const noBias = new Float32Array(M * N)
    matmulNaive(noBias, x, w, null, M, K, N)

    const lin = backend.prepareLinear(copyInto(backend, w), copyInto(backend, bias), N, K)
    expect(lin.outFeatures).toBe(N)
    expect(lin.inFeatures).toBe(K)
    const xa = copyInto(backend, x)
    const out = backend.alloc(M * N)
    const cases: Array<{epilogue: Epilogue; residual: 'none' | 'separate' | 'inplace'}> = [
      {epilogue: 'none', residual: 'none'},
      {epilogue: 'gelu', residual: 'none'},
      {epilogue: 'none', residual: 'separate'},
      {epilogue: 'none', residual: 'inplace'},
      {epilogue: 'gelu', residual: 'inplace'},
    ]
    for (const c of cases) {
      const expected = plain.map((v, i) => (c.epilogue === 'gelu' ? geluScalar(v) : v) + (c.residual === 'none' ? 0 : res[i]))
      out.fill(Number.NaN)
      if (c.residual === 'none') backend.linear(out, xa, lin, M, c.epilogue)
      else if (c.residual === 'separate') backend.linear(out, xa, lin, M, c.epilogue, copyInto(backend, res))
      else {
        out.set(res)
        backend.linear(out, xa, lin, M, c.epilogue, out)
      }
      expectClose(out, expected, tol, `${c.epilogue} residual=${c.residual}`)
    }

    // no bias, and arrays that are not views into the wasm memory (weight copied, inputs/outputs staged)
    const foreign = backend.prepareLinear(w.slice(), null, N, K)
    const outJs = new Float32Array(M * N)
    backend.linear(outJs, x, foreign, M, 'none')
    expectClose(outJs, noBias, tol, 'foreign arrays')
    const inplaceJs = res.slice()
    backend.linear(inplaceJs, x, foreign, M, 'none', inplaceJs)
    expectClose(inplaceJs, noBias.map((v, i) => v + res[i]), tol, 'foreign in-place residual')
  })

  it('linear with M = 0 writes nothing', () => {
    const lin = backend.prepareLinear(backend.alloc(16 * 8), null, 16, 8)
    const out = new Float32Array(4).fill(7)
    backend.linear(out, new Float32Array(0), lin, 0, 'none')
    expect([...out]).toEqual([7, 7, 7, 7])
  })

  it.each([
    [1, 1, 1e-5],
    [1, 5, 1e-12],
    [3, 7, 1e-6],
    [97, 48, 1e-12],
    [9, 768, 1e-12],
  ])('layerNorm M=%i C=%i eps=%f', (M, C, eps) => {
    const rnd = seeded(M * 31 + C)
    const x = randomArray(M * C, rnd, 3)
    for (let i = 0; i < M * C; i++) x[i] += 5 // a mean far from zero: the two-pass variance must not cancel
    const gamma = randomArray(C, rnd)
    const beta = randomArray(C, rnd)
    const expected = new Float32Array(M * C)
    layerNormNaive(expected, x, gamma, beta, M, C, eps)
    const out = backend.alloc(M * C)
    backend.layerNorm(out, copyInto(backend, x), copyInto(backend, gamma), copyInto(backend, beta), M, C, eps)
    expectClose(out, expected, 1e-5, 'layerNorm')
    const outJs = new Float32Array(M * C)
    backend.layerNorm(outJs, x, gamma, beta, M, C, eps)
    expectClose(outJs, expected, 1e-5, 'layerNorm (foreign arrays)')
  })

  it.each([
    // [B, T, C, NH]
    [1, 1, 4, 1],
    [1, 5, 12, 3],
    [2, 17, 32, 4],
    [1, 50, 48, 3],
    [3, 19, 20, 5],
    [1, 197, 64, 1],
  ])('attention B=%i T=%i C=%i NH=%i', (B, T, C, NH) => {
    const rnd = seeded(B * 7 + T * 131 + C * 17 + NH)
    const qkv = randomArray(B * T * 3 * C, rnd, 2)
    const expected = new Float32Array(B * T * C)
    attentionNaive(expected, qkv, B, T, C, NH)
    const out = backend.alloc(B * T * C)
    backend.attention(out, copyInto(backend, qkv), B, T, C, NH)
    expectClose(out, expected, 2e-5, 'attention')
  })

  it('gelu matches the erf form from -12 to 12, zeros and infinities included', () => {
    const n = 4003
    const x = new Float32Array(n)
    for (let i = 0; i < n; i++) x[i] = -12 + (24 * i) / (n - 1)
    x[5] = 0
    x[6] = -0
    x[7] = 1e-30
    x[8] = 100
    x[9] = -100
    const expected = x.map((v) => geluScalar(v))
    const out = new Float32Array(n)
    backend.gelu(out, x, n)
    for (let i = 0; i < n; i++) {
      const tol = 2e-7 * Math.max(1, Math.abs(expected[i]))
      if (!(Math.abs(out[i] - expected[i]) <= tol)) expect.fail(`gelu(${x[i]}) = ${out[i]}, expected ${expected[i]}`)
    }
  })

  it.each([
    [1, 1],
    [3, 7],
    [5, 197],
  ])('softmax M=%i N=%i, large logits included', (M, N) => {
    const rnd = seeded(M + N)
    const x = randomArray(M * N, rnd, 30)
    x[0] = 80
    const expected = new Float32Array(M * N)
    softmaxNaive(expected, x, M, N)
    const out = new Float32Array(M * N)
    backend.softmax(out, x, M, N)
    expectClose(out, expected, 1e-6, 'softmax')
  })

  it('softmax flushes probabilities that would be subnormal to zero (masked rows stay fast) and keeps the rest', () => {
    // a row as SwinV2's shifted-window mask makes it: entries 200 below the others, exp(-200) far under 1.2e-38
    const N = 37
    const x = Float32Array.from({length: 3 * N}, (_, i) => (i % 3 === 0 ? -200 : (i % 5) * 0.25) + (i >= 2 * N ? -80 : 0))
    x[2 * N + 1] = 0 // a third row whose spread crosses e^-87 gradually: -80.x vs 0
    const out = new Float32Array(3 * N)
    backend.softmax(out, x, 3, N)
    const expected = new Float32Array(3 * N)
    softmaxNaive(expected, x, 3, N)
    expectClose(out, expected, 1e-6, 'softmax')
    const subnormal = Array.from(out).filter((v) => v !== 0 && Math.abs(v) < 1.1754943508222875e-38)
    expect(subnormal, 'subnormal probabilities').toEqual([])
    for (let i = 0; i < N; i++) if (i % 3 === 0) expect(out[i]).toBe(0)
  })
})

describe('wasm backend options', () => {
  it('rejects a bad thread count', async () => {
    await expect(createWasmBackend({threads: 0})).rejects.toThrow(/threads must be an integer/)
    await expect(createWasmBackend({threads: 1.5})).rejects.toThrow(/threads must be an integer/)
  })

  it('refuses work after dispose() instead of waiting for workers that are gone', async () => {
    const backend = await createWasmBackend({threads: 2})
    const lin = backend.prepareLinear(backend.alloc(16 * 4), null, 16, 4)
    backend.dispose()
    expect(() => backend.linear(backend.alloc(16), backend.alloc(4), lin, 1, 'none')).toThrow(/after dispose/)
  })

  it('packs a weight allocated in its memory in place (no second copy of the model)', async () => {
    const backend = await createWasmBackend({threads: 1})
    try {
      const [N, K] = [64, 300]
      const w = backend.alloc(N * K)
      w.set(randomArray(N * K, seeded(1)))
      const before = backend.memoryBytes
      backend.prepareLinear(w, null, N, K)
      // only the packing scratch (16 rows of K, a quarter of this weight) was added...
      expect(backend.memoryBytes - before).toBeLessThanOrEqual(16 * K * 4 + 64)
      // ...and the next weight reuses it
      const w2 = backend.alloc(N * K)
      const before2 = backend.memoryBytes
      backend.prepareLinear(w2, null, N, K)
      expect(backend.memoryBytes).toBe(before2)
    } finally {
      backend.dispose()
    }
  })
})
