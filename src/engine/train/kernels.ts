/**
 * The kernels a training step runs, as one interface with two implementations: the plain TypeScript one here (the
 * reference, src/engine/kernels/backward.ts plus the forward backend's blocked matmul) and the WebAssembly SIMD one
 * (src/engine/wasm/train.ts). Weights are read as [N, K] (nn.Linear's layout, never packed: they change every step).
 * Every array handed to a kernel comes from `alloc`, so the WebAssembly kernels read it in place.
 */
import {linearForward} from '../backend-ts.js'
import {
  attentionBackward,
  attentionForward,
  biasedAttentionBackward,
  biasedAttentionForward,
  geluBackward,
  geluForward,
  layerNormBackward,
  layerNormForward,
  layerScaleBackward,
  layerScaleForward,
} from '../kernels/backward.js'
import {type DecayRange, gradNorm, optimizerUpdate, type OptimizerUpdate} from './optim.js'

export interface TrainKernels {
  readonly name: string
  readonly threads: number
  /** A zeroed Float32Array of `n` floats the kernels can read and write. */
  alloc(n: number): Float32Array
  /** out[M, N] = inp[M, K] @ weight[N, K]^T + bias[N] (+ residual[M, N]); residual may not be out. */
  matmul(out: Float32Array, inp: Float32Array, weight: Float32Array, bias: Float32Array | null, M: number, K: number, N: number, residual?: Float32Array): void
  /** dinp += dout @ weight; dweight += dout^T @ inp; dbias += column sums of dout (see backward.ts). */
  matmulBackward(dinp: Float32Array | null, dweight: Float32Array, dbias: Float32Array | null, dout: Float32Array, inp: Float32Array, weight: Float32Array, M: number, K: number, N: number): void
  gelu(out: Float32Array, inp: Float32Array, n: number): void
  geluBackward(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void
  layerNorm(out: Float32Array, mean: Float32Array, rstd: Float32Array, inp: Float32Array, gamma: Float32Array, beta: Float32Array, M: number, C: number, eps: number): void
  layerNormBackward(dinp: Float32Array, dgamma: Float32Array, dbeta: Float32Array, dout: Float32Array, inp: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, M: number, C: number): void
  attention(out: Float32Array, att: Float32Array, qkv: Float32Array, B: number, T: number, C: number, NH: number): void
  attentionBackward(dqkv: Float32Array, dout: Float32Array, qkv: Float32Array, att: Float32Array, B: number, T: number, C: number, NH: number): void
  /** attention with bias[NH, T, T] added to the scaled scores of every batch item (BEiT's relative position bias). */
  biasedAttention(out: Float32Array, att: Float32Array, qkv: Float32Array, bias: Float32Array, B: number, T: number, C: number, NH: number): void
  /** dqkv += d attention / d qkv; dbias[NH, T, T] += the scores' gradient summed over the batch. */
  biasedAttentionBackward(dqkv: Float32Array, dbias: Float32Array, dout: Float32Array, qkv: Float32Array, att: Float32Array, B: number, T: number, C: number, NH: number): void
  /** out[M, C] = residual + lambda[C] * inp (layer scale on a residual branch; out may be residual). */
  layerScale(out: Float32Array, residual: Float32Array, inp: Float32Array, lambda: Float32Array, M: number, C: number): void
  /** dinp += dout * lambda; dlambda[C] += column sums of dout * inp. */
  layerScaleBackward(dinp: Float32Array, dlambda: Float32Array, dout: Float32Array, inp: Float32Array, lambda: Float32Array, M: number, C: number): void
  /** The global L2 norm of grads[n] (a float64 sum of squares; clip_grad_norm_'s norm). */
  gradNorm(grads: Float32Array, n: number): number
  /** The optimizer step on params over `ranges` (grads scaled by u.gradScale; AdamW moments m, v), then grads[0, n) zeroed. */
  optimizerUpdate(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, ranges: readonly DecayRange[], u: OptimizerUpdate, n: number): void
  dispose(): void
}

// dinp[M, K] += dout[M, N] @ weight[N, K]; dweight[N, K] += dout^T @ inp; dbias[N] += column sums of dout
// The naive kernel's sums in an order that reads every array along its rows: each output row is accumulated in
// acc[K] (float64) from contiguous rows of weight / inp, then added once. Tested against matmulBackward (naive).
export function matmulBackwardRows(
  dinp: Float32Array | null,
  dweight: Float32Array,
  dbias: Float32Array | null,
  dout: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  acc: Float64Array,
  M: number,
  K: number,
  N: number,
): void {
  if (dinp) {
    for (let m = 0; m < M; m++) {
      acc.fill(0, 0, K)
      const d = m * N
      for (let n = 0; n < N; n++) {
        const g = dout[d + n]
        if (g === 0) continue
        const w = n * K
        for (let k = 0; k < K; k++) acc[k] += g * weight[w + k]
      }
      const o = m * K
      for (let k = 0; k < K; k++) dinp[o + k] += acc[k]
    }
  }
  for (let n = 0; n < N; n++) {
    acc.fill(0, 0, K)
    let bias = 0
    for (let m = 0; m < M; m++) {
      const g = dout[m * N + n]
      if (g === 0) continue
      bias += g
      const a = m * K
      for (let k = 0; k < K; k++) acc[k] += g * inp[a + k]
    }
    const w = n * K
    for (let k = 0; k < K; k++) dweight[w + k] += acc[k]
    if (dbias) dbias[n] += bias
  }
}

/** The TypeScript training kernels (single-threaded). */
export function createTsTrainKernels(): TrainKernels {
  let dscores = new Float64Array(0)
  let acc = new Float64Array(0)
  return {
    name: 'ts',
    threads: 1,
    alloc: (n) => new Float32Array(n),
    matmul(out, inp, weight, bias, M, K, N, residual) {
      linearForward(out, inp, weight, bias, 'none', residual, M, K, N)
    },
    matmulBackward(dinp, dweight, dbias, dout, inp, weight, M, K, N) {
      if (acc.length < K) acc = new Float64Array(K)
      matmulBackwardRows(dinp, dweight, dbias, dout, inp, weight, acc, M, K, N)
    },
    gelu: geluForward,
    geluBackward,
    layerNorm: layerNormForward,
    layerNormBackward,
    attention: attentionForward,
    attentionBackward(dqkv, dout, qkv, att, B, T, C, NH) {
      if (dscores.length < T) dscores = new Float64Array(T)
      attentionBackward(dqkv, dscores, dout, qkv, att, B, T, C, NH)
    },
    biasedAttention: biasedAttentionForward,
    biasedAttentionBackward(dqkv, dbias, dout, qkv, att, B, T, C, NH) {
      if (dscores.length < T) dscores = new Float64Array(T)
      biasedAttentionBackward(dqkv, dbias, dscores, dout, qkv, att, B, T, C, NH)
    },
    layerScale: layerScaleForward,
    layerScaleBackward,
    gradNorm,
    optimizerUpdate,
    dispose() {
      dscores = new Float64Array(0)
      acc = new Float64Array(0)
    },
  }
}
