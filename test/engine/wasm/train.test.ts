// The WebAssembly training kernels (src/engine/wasm/train.ts) against the TypeScript reference kernels
// (createTsTrainKernels) on odd shapes — M, K, N not multiples of 4 or 16, one row, over the linear kernel's 768-long
// K blocks and 200-row blocks, T = 5 tokens, head sizes 3 and 20 — with 1 and 2 threads and both SIMD variants; and
// each backward kernel against central finite differences of the WebAssembly forward. Backward kernels accumulate
// (+=): every gradient starts from random values here, so a kernel that overwrites fails.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {seededRandom} from '../../../src/core/random.js'
import {createTsTrainKernels, type TrainKernels} from '../../../src/engine/train/kernels.js'
import {type SimdVariant, wasmVariantSupported} from '../../../src/engine/wasm/index.js'
import {createWasmTrainKernels, selectTrainKernels} from '../../../src/engine/wasm/train.js'
import {checkGradient, dot} from '../kernels/finite-diff.js'

const variants: SimdVariant[] = (['simd', 'relaxed'] as const).filter((v) => wasmVariantSupported(v))

function random(k: TrainKernels, n: number, rand: () => number, scale = 1): Float32Array {
  const a = k.alloc(n)
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale
  return a
}

/** |got - want| <= tol * (1 + max |want|) everywhere; the message names the first index over. */
function expectClose(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  expect(got.length).toBe(want.length)
  let scale = 0
  for (const v of want) scale = Math.max(scale, Math.abs(v))
  const bound = tol * (1 + scale)
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= bound)) throw new Error(`${what}[${i}]: ${got[i]} vs ${want[i]} (bound ${bound})`)
  }
}

const MATMUL_SHAPES: Array<[number, number, number]> = [
  // [M, K, N]
  [1, 1, 1],
  [1, 7, 16],
  [5, 7, 3],
  [3, 33, 17],
  [13, 70, 33],
  [7, 257, 48],
  [201, 19, 35], // rows over one 200-row block
  [801, 19, 17], // dW's reduction (M) over the 768-long K block
  [3, 21, 790], // dinp's reduction (N) over the K block
]

const ATTENTION_SHAPES: Array<[number, number, number, number]> = [
  // [B, T, C, NH]
  [1, 5, 6, 2],
  [2, 5, 40, 2],
  [1, 17, 48, 3],
  [3, 33, 9, 3],
]

describe.each(variants.flatMap((variant) => [1, 2].map((threads) => ({variant, threads}))))('wasm training kernels ($variant, $threads threads) vs TypeScript', ({variant, threads}) => {
  let w: TrainKernels
  const ts = createTsTrainKernels()
  beforeAll(async () => {
    w = await createWasmTrainKernels({variant, threads})
  })
  afterAll(() => w.dispose())

  it('names itself and its threads', () => {
    expect(w.name).toBe(variant === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd')
    expect(w.threads).toBe(threads)
  })

  it.each(MATMUL_SHAPES)('matmul and matmulBackward M=%i K=%i N=%i', (M, K, N) => {
    const rand = seededRandom(M * 7919 + K * 31 + N)
    const inp = random(w, M * K, rand)
    const weight = random(w, N * K, rand)
    const bias = random(w, N, rand)
    const residual = random(w, M * N, rand)
    const out = w.alloc(M * N)
    const want = new Float32Array(M * N)
    w.matmul(out, inp, weight, bias, M, K, N)
    ts.matmul(want, inp, weight, bias, M, K, N)
    expectClose(out, want, 1e-5, 'matmul')
    w.matmul(out, inp, weight, null, M, K, N, residual)
    ts.matmul(want, inp, weight, null, M, K, N, residual)
    expectClose(out, want, 1e-5, 'matmul + residual')

    const dout = random(w, M * N, rand)
    const dinp = random(w, M * K, rand)
    const dweight = random(w, N * K, rand)
    const dbias = random(w, N, rand)
    const [dinpTs, dweightTs, dbiasTs] = [dinp.slice(), dweight.slice(), dbias.slice()]
    w.matmulBackward(dinp, dweight, dbias, dout, inp, weight, M, K, N)
    ts.matmulBackward(dinpTs, dweightTs, dbiasTs, dout, inp, weight, M, K, N)
    expectClose(dinp, dinpTs, 1e-5, 'dinp')
    expectClose(dweight, dweightTs, 1e-5, 'dweight')
    expectClose(dbias, dbiasTs, 1e-5, 'dbias')
    // no dinp, no dbias (the patch embedding's pixels; a linear without bias)
    const dweight2 = dweight.slice()
    w.matmulBackward(null, dweight, null, dout, inp, weight, M, K, N)
    ts.matmulBackward(null, dweight2, null, dout, inp, weight, M, K, N)
    expectClose(dweight, dweight2, 1e-5, 'dweight (no dinp, no dbias)')
  })

  it.each([1, 3, 4, 7, 1001])('gelu and geluBackward n=%i', (n) => {
    const rand = seededRandom(n)
    const inp = random(w, n, rand, 4)
    const out = w.alloc(n)
    const want = new Float32Array(n)
    w.gelu(out, inp, n)
    ts.gelu(want, inp, n)
    expectClose(out, want, 1e-6, 'gelu')
    const dout = random(w, n, rand)
    const dinp = random(w, n, rand)
    const dinpTs = dinp.slice()
    w.geluBackward(dinp, inp, dout, n)
    ts.geluBackward(dinpTs, inp, dout, n)
    expectClose(dinp, dinpTs, 1e-6, 'geluBackward')
  })

  it.each([
    [1, 5],
    [7, 33],
    [3, 768],
    [2, 3],
  ])('layerNorm and layerNormBackward M=%i C=%i', (M, C) => {
    const rand = seededRandom(M * 100 + C)
    const inp = random(w, M * C, rand, 3)
    const gamma = random(w, C, rand)
    const beta = random(w, C, rand)
    const [out, mean, rstd] = [w.alloc(M * C), w.alloc(M), w.alloc(M)]
    const [outTs, meanTs, rstdTs] = [new Float32Array(M * C), new Float32Array(M), new Float32Array(M)]
    w.layerNorm(out, mean, rstd, inp, gamma, beta, M, C, 1e-5)
    ts.layerNorm(outTs, meanTs, rstdTs, inp, gamma, beta, M, C, 1e-5)
    expectClose(out, outTs, 1e-5, 'layerNorm')
    expectClose(mean, meanTs, 1e-6, 'mean')
    expectClose(rstd, rstdTs, 1e-5, 'rstd')
    const dout = random(w, M * C, rand)
    const dinp = random(w, M * C, rand)
    const dgamma = random(w, C, rand)
    const dbeta = random(w, C, rand)
    const [dinpTs, dgammaTs, dbetaTs] = [dinp.slice(), dgamma.slice(), dbeta.slice()]
    w.layerNormBackward(dinp, dgamma, dbeta, dout, inp, gamma, mean, rstd, M, C)
    ts.layerNormBackward(dinpTs, dgammaTs, dbetaTs, dout, inp, gamma, meanTs, rstdTs, M, C)
    expectClose(dinp, dinpTs, 1e-5, 'dinp')
    expectClose(dgamma, dgammaTs, 1e-5, 'dgamma')
    expectClose(dbeta, dbetaTs, 1e-5, 'dbeta')
  })

  it.each(ATTENTION_SHAPES)('attention and attentionBackward B=%i T=%i C=%i NH=%i', (B, T, C, NH) => {
    const rand = seededRandom(B * 1000 + T * 10 + C)
    const qkv = random(w, B * T * 3 * C, rand, 1.5)
    const [out, att] = [w.alloc(B * T * C), w.alloc(B * NH * T * T)]
    const [outTs, attTs] = [new Float32Array(B * T * C), new Float32Array(B * NH * T * T)]
    w.attention(out, att, qkv, B, T, C, NH)
    ts.attention(outTs, attTs, qkv, B, T, C, NH)
    expectClose(out, outTs, 1e-5, 'attention out')
    expectClose(att, attTs, 1e-5, 'attention probabilities')
    const dout = random(w, B * T * C, rand)
    const dqkv = random(w, B * T * 3 * C, rand)
    const dqkvTs = dqkv.slice()
    w.attentionBackward(dqkv, dout, qkv, att, B, T, C, NH)
    ts.attentionBackward(dqkvTs, dout, qkv, attTs, B, T, C, NH)
    expectClose(dqkv, dqkvTs, 1e-5, 'dqkv')
  })

  it.each([1, 3, 1037])('gradNorm n=%i', (n) => {
    const rand = seededRandom(n + 5)
    const g = random(w, n, rand, 1e-3)
    expect(Math.abs(w.gradNorm(g, n) - ts.gradNorm(g, n)) / ts.gradNorm(g, n)).toBeLessThanOrEqual(1e-6)
  })

  it.each([
    ['adamw', 1],
    ['adamw', 0.37],
    ['sgd', 1],
    ['sgd', 0.37],
  ] as const)('optimizerUpdate %s (grad scale %d) over odd ranges with gaps, three steps', (optimizer, gradScale) => {
    const n = 203
    // offsets and sizes not multiples of 4, decaying and not, gaps between (untrained floats)
    const ranges = [
      {offset: 0, size: 1, decay: true},
      {offset: 1, size: 37, decay: false},
      {offset: 41, size: 101, decay: true},
      {offset: 150, size: 50, decay: false},
    ]
    const rand = seededRandom(gradScale * 100 + optimizer.length)
    const [params, m, v] = [random(w, n, rand), w.alloc(n), w.alloc(n)]
    const [paramsTs, mTs, vTs] = [params.slice(), new Float32Array(n), new Float32Array(n)]
    for (let step = 1; step <= 3; step++) {
      const grads = random(w, n, rand, 0.1)
      const gradsTs = grads.slice()
      const u = {optimizer, lr: 1e-2, weightDecay: 0.1, step, gradScale}
      w.optimizerUpdate(params, grads, m, v, ranges, u, n)
      ts.optimizerUpdate(paramsTs, gradsTs, mTs, vTs, ranges, u, n)
      expectClose(params, paramsTs, 1e-6, `params after step ${step}`)
      expectClose(m, mTs, 1e-6, `m after step ${step}`)
      expectClose(v, vTs, 1e-6, `v after step ${step}`)
      expect([...grads].every((x) => x === 0), 'every gradient zeroed, gaps included').toBe(true)
    }
  })

  it('falls back to the TypeScript kernel for anything it does not implement', () => {
    const tsKeys = Object.keys(ts).filter((k) => typeof (ts as unknown as Record<string, unknown>)[k] === 'function')
    for (const key of tsKeys) expect(typeof (w as unknown as Record<string, unknown>)[key], key).toBe('function')
  })
})

describe('wasm backward kernels vs finite differences of the wasm forward (odd shapes, 2 threads)', () => {
  let w: TrainKernels
  beforeAll(async () => {
    w = await createWasmTrainKernels({threads: 2})
  })
  afterAll(() => w.dispose())

  it('matmul: d inp, d weight, d bias (M=5 K=7 N=3, and a 1-row batch)', () => {
    for (const [M, K, N] of [
      [5, 7, 3],
      [1, 18, 17],
    ]) {
      const rand = seededRandom(M + K + N)
      const inp = random(w, M * K, rand)
      const weight = random(w, N * K, rand)
      const bias = random(w, N, rand)
      const R = random(w, M * N, rand)
      const out = w.alloc(M * N)
      const L = (): number => {
        w.matmul(out, inp, weight, bias, M, K, N)
        return dot(out, R)
      }
      const [dinp, dw, db] = [w.alloc(M * K), w.alloc(N * K), w.alloc(N)]
      w.matmulBackward(dinp, dw, db, R, inp, weight, M, K, N)
      checkGradient('dinp', inp, dinp, L)
      checkGradient('dweight', weight, dw, L)
      checkGradient('dbias', bias, db, L)
    }
  })

  it('gelu (n=7)', () => {
    const rand = seededRandom(3)
    const n = 7
    const inp = random(w, n, rand, 3)
    const R = random(w, n, rand)
    const out = w.alloc(n)
    const dinp = w.alloc(n)
    w.geluBackward(dinp, inp, R, n)
    checkGradient('dinp', inp, dinp, () => {
      w.gelu(out, inp, n)
      return dot(out, R)
    })
  })

  it('layerNorm (M=3 C=5)', () => {
    const rand = seededRandom(4)
    const [M, C] = [3, 5]
    const inp = random(w, M * C, rand, 2)
    const gamma = random(w, C, rand)
    const beta = random(w, C, rand)
    const R = random(w, M * C, rand)
    const [out, mean, rstd] = [w.alloc(M * C), w.alloc(M), w.alloc(M)]
    const L = (): number => {
      w.layerNorm(out, mean, rstd, inp, gamma, beta, M, C, 1e-5)
      return dot(out, R)
    }
    L()
    const [dinp, dgamma, dbeta] = [w.alloc(M * C), w.alloc(C), w.alloc(C)]
    w.layerNormBackward(dinp, dgamma, dbeta, R, inp, gamma, mean, rstd, M, C)
    checkGradient('dinp', inp, dinp, L)
    checkGradient('dgamma', gamma, dgamma, L)
    checkGradient('dbeta', beta, dbeta, L)
  })

  it('attention (B=2 T=5 C=6 NH=2)', () => {
    const rand = seededRandom(5)
    const [B, T, C, NH] = [2, 5, 6, 2]
    const qkv = random(w, B * T * 3 * C, rand)
    const R = random(w, B * T * C, rand)
    const [out, att] = [w.alloc(B * T * C), w.alloc(B * NH * T * T)]
    const L = (): number => {
      w.attention(out, att, qkv, B, T, C, NH)
      return dot(out, R)
    }
    L()
    const dqkv = w.alloc(B * T * 3 * C)
    w.attentionBackward(dqkv, R, qkv, att, B, T, C, NH)
    checkGradient('dqkv', qkv, dqkv, L)
  })
})

describe('selectTrainKernels', () => {
  it('picks WebAssembly on the given threads by default and TypeScript on request', async () => {
    const w = await selectTrainKernels({threads: 2})
    expect(w.name).toMatch(/^wasm/)
    expect(w.threads).toBe(2)
    w.dispose()
    const t = await selectTrainKernels({prefer: 'ts'})
    expect(t.name).toBe('ts')
  })

  it('refuses an array that is not in its memory', async () => {
    const w = await createWasmTrainKernels({threads: 1})
    try {
      const ok = w.alloc(4)
      expect(() => w.gelu(new Float32Array(4), ok, 4)).toThrow(/alloc/)
    } finally {
      w.dispose()
    }
  })
})
