/**
 * Every backward kernel against central finite differences of its forward, on odd shapes (nothing a multiple of 4
 * or of a head count that would hide an indexing slip). The scalar checked is L = sum(out * R) for a fixed random R,
 * so dout = R; each input element is nudged by +-h and the change of L compared with the analytic gradient.
 */
import {describe, expect, it} from 'vitest'

import {seededRandom} from '../../../src/core/random.js'
import {
  attentionBackward,
  attentionForward,
  geluBackward,
  geluForward,
  layerNormBackward,
  layerNormForward,
  matmulBackward,
  matmulForward,
} from '../../../src/engine/kernels/backward.js'
import {bceForwardBackward, crossEntropyForwardBackward} from '../../../src/engine/train/loss.js'
import {checkGradient, dot, randomArray} from './finite-diff.js'

describe('backward kernels vs finite differences (odd shapes)', () => {
  it('matmul: d inp, d weight, d bias', () => {
    const rand = seededRandom(1)
    const [M, K, N] = [5, 7, 3]
    const inp = randomArray(M * K, rand)
    const w = randomArray(N * K, rand)
    const bias = randomArray(N, rand)
    const R = randomArray(M * N, rand)
    const out = new Float32Array(M * N)
    const L = (): number => {
      matmulForward(out, inp, w, bias, M, K, N)
      return dot(out, R)
    }
    const dinp = new Float32Array(M * K)
    const dw = new Float32Array(N * K)
    const db = new Float32Array(N)
    matmulBackward(dinp, dw, db, R, inp, w, M, K, N)
    checkGradient('dinp', inp, dinp, L)
    checkGradient('dweight', w, dw, L)
    checkGradient('dbias', bias, db, L)
  })

  it('matmul backward accumulates (+=) and skips a null dinp', () => {
    const rand = seededRandom(2)
    const [M, K, N] = [3, 5, 2]
    const inp = randomArray(M * K, rand)
    const w = randomArray(N * K, rand)
    const R = randomArray(M * N, rand)
    const once = new Float32Array(N * K)
    matmulBackward(null, once, null, R, inp, w, M, K, N)
    const twice = new Float32Array(N * K)
    matmulBackward(null, twice, null, R, inp, w, M, K, N)
    matmulBackward(null, twice, null, R, inp, w, M, K, N)
    for (let i = 0; i < once.length; i++) expect(twice[i]).toBeCloseTo(2 * once[i], 5)
  })

  it('gelu (exact erf form)', () => {
    const rand = seededRandom(3)
    const n = 37
    const x = randomArray(n, rand, 4)
    const R = randomArray(n, rand)
    const out = new Float32Array(n)
    const L = (): number => {
      geluForward(out, x, n)
      return dot(out, R)
    }
    const dx = new Float32Array(n)
    geluBackward(dx, x, R, n)
    checkGradient('dx', x, dx, L)
  })

  it('layernorm: d inp, d gamma, d beta', () => {
    const rand = seededRandom(4)
    const [M, C] = [3, 7]
    const inp = randomArray(M * C, rand, 2)
    const gamma = randomArray(C, rand)
    const beta = randomArray(C, rand)
    const R = randomArray(M * C, rand)
    const out = new Float32Array(M * C)
    const mean = new Float32Array(M)
    const rstd = new Float32Array(M)
    const L = (): number => {
      layerNormForward(out, mean, rstd, inp, gamma, beta, M, C, 1e-5)
      return dot(out, R)
    }
    L()
    const dinp = new Float32Array(M * C)
    const dgamma = new Float32Array(C)
    const dbeta = new Float32Array(C)
    layerNormBackward(dinp, dgamma, dbeta, R, inp, gamma, mean, rstd, M, C)
    checkGradient('dinp', inp, dinp, L)
    checkGradient('dgamma', gamma, dgamma, L)
    checkGradient('dbeta', beta, dbeta, L)
  })

  it('attention with softmax: d qkv (B 2, T 5, C 6, 3 heads)', () => {
    const rand = seededRandom(5)
    const [B, T, C, NH] = [2, 5, 6, 3]
    const qkv = randomArray(B * T * 3 * C, rand)
    const R = randomArray(B * T * C, rand)
    const out = new Float32Array(B * T * C)
    const att = new Float32Array(B * NH * T * T)
    const L = (): number => {
      attentionForward(out, att, qkv, B, T, C, NH)
      return dot(out, R)
    }
    L()
    const dqkv = new Float32Array(qkv.length)
    attentionBackward(dqkv, new Float64Array(T), R, qkv, att, B, T, C, NH)
    checkGradient('dqkv', qkv, dqkv, L)
  })

  it('cross-entropy with label smoothing, scaled as for accumulation', () => {
    const rand = seededRandom(6)
    const [B, K] = [3, 5]
    const logits = randomArray(B * K, rand, 3)
    const labels = [4, 0, 2]
    const d = new Float32Array(B * K)
    const L = (): number => crossEntropyForwardBackward(new Float32Array(B * K), logits, labels, 0.1, 0.5, B, K)
    crossEntropyForwardBackward(d, logits, labels, 0.1, 0.5, B, K)
    checkGradient('dlogits', logits, d, L)
  })

  it('cross-entropy value equals -log softmax at the label without smoothing', () => {
    const logits = new Float32Array([1, 2, 3])
    const p3 = Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))
    expect(crossEntropyForwardBackward(new Float32Array(3), logits, [2], 0, 1, 1, 3)).toBeCloseTo(-Math.log(p3), 12)
  })

  it('binary cross-entropy (multilabel)', () => {
    const rand = seededRandom(7)
    const [B, K] = [3, 4]
    const logits = randomArray(B * K, rand, 5)
    const targets = Array.from({length: B * K}, (_, i) => (i * 7) % 3 === 0 ? 1 : 0)
    const d = new Float32Array(B * K)
    const L = (): number => bceForwardBackward(new Float32Array(B * K), logits, targets, 1, B, K)
    bceForwardBackward(d, logits, targets, 1, B, K)
    checkGradient('dlogits', logits, d, L)
    // -log sigmoid(0) = log 2 for either target
    expect(bceForwardBackward(new Float32Array(1), new Float32Array([0]), [1], 1, 1, 1)).toBeCloseTo(Math.LN2, 12)
  })
})

describe('the row-order TypeScript matmul backward vs the naive one', () => {
  it('equal sums (to float32 rounding) on odd shapes, accumulating, with and without dinp/dbias', async () => {
    const {matmulBackwardRows} = await import('../../../src/engine/train/kernels.js')
    const rand = seededRandom(9)
    for (const [M, K, N] of [
      [1, 1, 1],
      [7, 13, 5],
      [33, 17, 9],
    ]) {
      const inp = randomArray(M * K, rand)
      const w = randomArray(N * K, rand)
      const dout = randomArray(M * N, rand)
      dout[0] = 0 // the zero-skip path
      const start = randomArray(M * K + N * K + N, rand)
      const a = [start.slice(0, M * K), start.slice(M * K, M * K + N * K), start.slice(M * K + N * K)]
      const b = a.map((x) => x.slice())
      matmulBackward(a[0], a[1], a[2], dout, inp, w, M, K, N)
      matmulBackwardRows(b[0], b[1], b[2], dout, inp, w, new Float64Array(K), M, K, N)
      for (let i = 0; i < 3; i++) for (let j = 0; j < a[i].length; j++) expect(Math.abs(a[i][j] - b[i][j])).toBeLessThanOrEqual(1e-5)
      const c = new Float32Array(N * K)
      matmulBackwardRows(null, c, null, dout, inp, w, new Float64Array(K), M, K, N)
      for (let j = 0; j < c.length; j++) expect(Math.abs(c[j] - (b[1][j] - start[M * K + j]))).toBeLessThanOrEqual(1e-5)
    }
  })
})
