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
  geluBackward,
  geluForward,
  layerNormBackward,
  layerNormForward,
  matmulBackward,
} from '../kernels/backward.js'

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
  dispose(): void
}

/** The TypeScript training kernels (single-threaded). */
export function createTsTrainKernels(): TrainKernels {
  let dscores = new Float64Array(0)
  return {
    name: 'ts',
    threads: 1,
    alloc: (n) => new Float32Array(n),
    matmul(out, inp, weight, bias, M, K, N, residual) {
      linearForward(out, inp, weight, bias, 'none', residual, M, K, N)
    },
    matmulBackward,
    gelu: geluForward,
    geluBackward,
    layerNorm: layerNormForward,
    layerNormBackward,
    attention: attentionForward,
    attentionBackward(dqkv, dout, qkv, att, B, T, C, NH) {
      if (dscores.length < T) dscores = new Float64Array(T)
      attentionBackward(dqkv, dscores, dout, qkv, att, B, T, C, NH)
    },
    dispose() {
      dscores = new Float64Array(0)
    },
  }
}
