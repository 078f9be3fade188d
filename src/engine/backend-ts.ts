/**
 * The plain TypeScript backend: kernels over Float32Array in ordinary JavaScript memory, float64 accumulators. It is
 * the fallback when WebAssembly is unavailable and the second opinion the WebAssembly kernels are tested against
 * (after src/engine/kernels/reference.ts, the naive ground truth). Output first, shapes last, no allocation in a
 * kernel: attention's scratch rows are kept by the backend and grown only when a larger shape first arrives.
 */
import type {Backend, Epilogue, Linear} from './backend.js'
import {biasedAttentionNaive, biasedAttentionScratch} from './kernels/attention-bias.js'
import {addIntoNaive, gatherRowsNaive, geluScalar, layerNormNaive, scatterAddRowsNaive} from './kernels/reference.js'

/** A linear layer as the TS kernels use it: the caller's arrays, kept by reference (no copy, no packing). */
class TsLinear implements Linear {
  constructor(
    readonly weight: Float32Array, // (N, K)
    readonly bias: Float32Array | null, // (N)
    readonly outFeatures: number,
    readonly inFeatures: number,
  ) {}
}

function asTsLinear(lin: Linear): TsLinear {
  if (!(lin instanceof TsLinear)) throw new Error('internal: a Linear prepared by another backend was passed to the TypeScript backend')
  return lin
}

/** Rows of `inp` a block covers: the tile loop re-reads these from cache for every group of 4 weight rows. */
const ROW_BLOCK = 64

// out[M, N] = epilogue(inp[M, K] @ weight[N, K]^T + bias[N]) (+ residual[M, N])
// Register tile of 4 input rows x 4 weight rows: 16 accumulators for 8 loads per k. (V8 spills a few of them on
// x64, yet in CPU time on a 197x768 @ 768x768 matmul it ran ~5-15% faster than a spill-free 2x4 tile.)
// Both operands are read along K, contiguously, because PyTorch stores nn.Linear weights as [out, in].
export function linearForward(
  out: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  epilogue: Epilogue,
  residual: Float32Array | undefined,
  M: number,
  K: number,
  N: number,
): void {
  const gelu = epilogue === 'gelu'
  const store = (m: number, n: number, acc: number): void => {
    const i = m * N + n
    let v = bias ? acc + bias[n] : acc
    if (gelu) v = geluScalar(v)
    out[i] = residual ? v + residual[i] : v
  }
  const store4 = (m: number, n: number, c0: number, c1: number, c2: number, c3: number): void => {
    store(m, n, c0)
    store(m, n + 1, c1)
    store(m, n + 2, c2)
    store(m, n + 3, c3)
  }
  for (let m0 = 0; m0 < M; m0 += ROW_BLOCK) {
    const m1 = Math.min(m0 + ROW_BLOCK, M)
    let n = 0
    for (; n + 4 <= N; n += 4) {
      const w0 = n * K
      const w1 = w0 + K
      const w2 = w1 + K
      const w3 = w2 + K
      let m = m0
      for (; m + 4 <= m1; m += 4) {
        const a0 = m * K
        const a1 = a0 + K
        const a2 = a1 + K
        const a3 = a2 + K
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0 // prettier-ignore
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0 // prettier-ignore
        for (let k = 0; k < K; k++) {
          const y0 = weight[w0 + k]
          const y1 = weight[w1 + k]
          const y2 = weight[w2 + k]
          const y3 = weight[w3 + k]
          let x = inp[a0 + k]
          c00 += x * y0
          c01 += x * y1
          c02 += x * y2
          c03 += x * y3
          x = inp[a1 + k]
          c10 += x * y0
          c11 += x * y1
          c12 += x * y2
          c13 += x * y3
          x = inp[a2 + k]
          c20 += x * y0
          c21 += x * y1
          c22 += x * y2
          c23 += x * y3
          x = inp[a3 + k]
          c30 += x * y0
          c31 += x * y1
          c32 += x * y2
          c33 += x * y3
        }
        store4(m, n, c00, c01, c02, c03)
        store4(m + 1, n, c10, c11, c12, c13)
        store4(m + 2, n, c20, c21, c22, c23)
        store4(m + 3, n, c30, c31, c32, c33)
      }
      for (; m < m1; m++) {
        // the last rows of the block (M % 4): 1 x 4
        const a0 = m * K
        let c0 = 0, c1 = 0, c2 = 0, c3 = 0 // prettier-ignore
        for (let k = 0; k < K; k++) {
          const x0 = inp[a0 + k]
          c0 += x0 * weight[w0 + k]
          c1 += x0 * weight[w1 + k]
          c2 += x0 * weight[w2 + k]
          c3 += x0 * weight[w3 + k]
        }
        store4(m, n, c0, c1, c2, c3)
      }
    }
    for (; n < N; n++) {
      // the last N % 4 weight rows: plain dot products
      const w0 = n * K
      for (let m = m0; m < m1; m++) {
        const a0 = m * K
        let c = 0
        for (let k = 0; k < K; k++) c += inp[a0 + k] * weight[w0 + k]
        store(m, n, c)
      }
    }
  }
}

// out[B, T, C] = multi-head self-attention of qkv[B, T, 3C] (q | k | v per token, heads contiguous in each), no mask.
// scores[T] and acc[hs] are scratch rows owned by the caller.
export function attentionForward(
  out: Float32Array,
  qkv: Float32Array,
  scores: Float64Array,
  acc: Float64Array,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const hs = C / NH
  const C3 = 3 * C
  const scale = 1 / Math.sqrt(hs)
  for (let b = 0; b < B; b++) {
    const base = b * T * C3
    for (let h = 0; h < NH; h++) {
      const qOff = base + h * hs
      const kOff = qOff + C
      const vOff = qOff + 2 * C
      for (let t = 0; t < T; t++) {
        // scores = q . k^T / sqrt(hs), then a max-subtracted softmax
        const q = qOff + t * C3
        let max = -Infinity
        for (let t2 = 0; t2 < T; t2++) {
          const k = kOff + t2 * C3
          let dot = 0
          for (let i = 0; i < hs; i++) dot += qkv[q + i] * qkv[k + i]
          const s = dot * scale
          scores[t2] = s
          if (s > max) max = s
        }
        let sum = 0
        for (let t2 = 0; t2 < T; t2++) {
          const e = Math.exp(scores[t2] - max)
          scores[t2] = e
          sum += e
        }
        // out = softmax . v
        acc.fill(0, 0, hs)
        for (let t2 = 0; t2 < T; t2++) {
          const p = scores[t2]
          const v = vOff + t2 * C3
          for (let i = 0; i < hs; i++) acc[i] += p * qkv[v + i]
        }
        const o = (b * T + t) * C + h * hs
        const inv = 1 / sum
        for (let i = 0; i < hs; i++) out[o + i] = acc[i] * inv
      }
    }
  }
}

/** The plain TypeScript backend (single-threaded). */
export function createTsBackend(): Backend {
  let scores = new Float64Array(0)
  let acc = new Float64Array(0)
  let biased = biasedAttentionScratch(0, 0)
  return {
    name: 'ts',
    threads: 1,
    alloc: (n) => new Float32Array(n),
    prepareLinear(weight, bias, N, K) {
      if (weight.length !== N * K) throw new Error(`internal: linear weight holds ${weight.length} floats, expected ${N}x${K}`)
      if (bias && bias.length !== N) throw new Error(`internal: linear bias holds ${bias.length} floats, expected ${N}`)
      return new TsLinear(weight, bias, N, K)
    },
    linear(out, inp, lin, M, epilogue, residual) {
      const l = asTsLinear(lin)
      linearForward(out, inp, l.weight, l.bias, epilogue, residual, M, l.inFeatures, l.outFeatures)
    },
    // LayerNorm is O(M*C) against the matmuls' O(M*C*C): the reference's two-pass float64 loop is fast enough and
    // is the kernel here (no second copy to keep in step).
    layerNorm: layerNormNaive,
    attention(out, qkv, B, T, C, NH) {
      if (scores.length < T) scores = new Float64Array(T)
      if (acc.length < C / NH) acc = new Float64Array(C / NH)
      attentionForward(out, qkv, scores, acc, B, T, C, NH)
    },
    biasedAttention(out, qkv, bias, nBias, scale, headScale, B, T, C, NH) {
      if (biased.scores.length < T || biased.qn.length < T * (C / NH)) biased = biasedAttentionScratch(T, C / NH)
      biasedAttentionNaive(out, qkv, bias, nBias, scale, headScale, biased, B, T, C, NH)
    },
    allocIndex: (n) => new Int32Array(n),
    // Memory-bound row moves: the naive loops are the kernels here too.
    gatherRows: gatherRowsNaive,
    scatterAddRows: scatterAddRowsNaive,
    addInto: addIntoNaive,
    dispose() {
      scores = new Float64Array(0)
      acc = new Float64Array(0)
      biased = biasedAttentionScratch(0, 0)
    },
  }
}
