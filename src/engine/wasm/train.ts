/**
 * The training kernels (src/engine/train/kernels.ts's TrainKernels) on the WebAssembly SIMD backend, on every thread:
 * the inference backend's shared memory, workers and control block (./index.ts), with the kernels of
 * assembly/train.ts beside the inference ones.
 *
 * Linear layers: the weights change every step, so they stay in nn.Linear's [N, K] layout and each product packs its
 * right-hand operand into a scratch block first (packPanels: O(N K) against the product's O(M N K)) and runs the
 * inference `linear` kernel on it — the forward on W, dinp = dout @ W on W read transposed, and dW += dout^T @ inp on
 * the activation (dout transposed by transposeSum, which also sums dbias). Accumulating outputs (dinp, dW) are the
 * kernel's residual, so nothing is copied back.
 *
 * The object starts as the TypeScript kernels: any kernel not given here (one added to the interface later) runs in
 * TypeScript on the same `alloc`ed memory, so every kernel works on this backend before it is WebAssembly-ized.
 */
import {createTsTrainKernels, type TrainKernels} from '../train/kernels.js'
import {ADAMW_DEFAULTS} from '../train/optim.js'
import {bestWasmVariant, createWasmBackend, type SimdVariant, type WasmBackend} from './index.js'

export interface WasmTrainKernelOptions {
  /** Threads, the calling one included (default: every core). */
  threads?: number
  /** Force a SIMD variant (tests); default the fastest this runtime validates. */
  variant?: SimdVariant
}

/** The training kernels on a new WebAssembly backend; `dispose()` stops its threads. */
export async function createWasmTrainKernels(options: WasmTrainKernelOptions = {}): Promise<TrainKernels> {
  return wasmTrainKernels(await createWasmBackend(options))
}

/** The training kernels on `backend` (which they own from now on: their dispose() disposes it). */
export function wasmTrainKernels(backend: WasmBackend): TrainKernels {
  const ts = createTsTrainKernels()
  const nth = backend.threads
  const packed = backend.scratch() // a linear's right-hand operand in 16-column panels
  const transposed = backend.scratch() // dout^T for dW
  const lnPartials = backend.scratch() // per-thread dgamma | dbeta
  const attScratch = backend.scratch()
  const normPartials = backend.scratch() // a float64 per thread
  const rangeTable = backend.scratch() // the optimizer's (offset, size, decay) triples, as i32
  const p = (a: Float32Array, n: number): number => backend.pointer(a, n)
  const checkHeads = (C: number, NH: number): void => {
    if (C % NH !== 0) throw new RangeError(`attention: hidden size ${C} is not a multiple of the ${NH} heads`)
  }

  return {
    ...ts,
    name: backend.name,
    threads: nth,
    alloc: (n) => backend.alloc(n),

    // out[M, N] = inp[M, K] @ weight[N, K]^T + bias (+ residual)
    matmul(out, inp, weight, bias, M, K, N, residual) {
      if (M === 0) return
      const w = packed.get(N * K)
      backend.runKernel('packPanels', [w, p(weight, N * K), N, K, K, 1])
      backend.linear(out, inp, backend.packedLinear(w, bias, N, K), M, 'none', residual)
    },

    // dinp[M, K] += dout[M, N] @ weight[N, K]; dweight[N, K] += dout^T @ inp[M, K]; dbias[N] += column sums of dout
    matmulBackward(dinp, dweight, dbias, dout, inp, weight, M, K, N) {
      if (M === 0) return
      if (dinp) {
        // weight read as a row-major [N (reduction), K (columns)] matrix
        const w = packed.get(N * K)
        backend.runKernel('packPanels', [w, p(weight, N * K), K, N, 1, K])
        backend.linear(dinp, dout, backend.packedLinear(w, null, K, N), M, 'none', dinp)
      }
      const doutT = transposed.get(N * M)
      backend.runKernel('transposeSum', [doutT, p(dout, M * N), M, N, dbias ? p(dbias, N) : 0])
      const a = packed.get(K * M)
      backend.runKernel('packPanels', [a, p(inp, M * K), K, M, 1, K])
      backend.linear(dweight, transposed.view(N * M), backend.packedLinear(a, null, K, M), N, 'none', dweight)
    },

    gelu(out, inp, n) {
      backend.runKernel('gelu', [p(out, n), p(inp, n), n])
    },

    geluBackward(dinp, inp, dout, n) {
      backend.runKernel('geluBackward', [p(dinp, n), p(inp, n), p(dout, n), n])
    },

    layerNorm(out, mean, rstd, inp, gamma, beta, M, C, eps) {
      backend.runKernel('layerNormStats', [p(out, M * C), p(mean, M), p(rstd, M), p(inp, M * C), p(gamma, C), p(beta, C), M, C, eps])
    },

    layerNormBackward(dinp, dgamma, dbeta, dout, inp, gamma, mean, rstd, M, C) {
      const part = lnPartials.get(2 * C * nth)
      backend.runKernel('layerNormBackward', [p(dinp, M * C), part, p(dout, M * C), p(inp, M * C), p(gamma, C), p(mean, M), p(rstd, M), M, C])
      // the threads' partial sums, added in thread order
      const parts = lnPartials.view(2 * C * nth)
      for (let t = 0; t < nth; t++) {
        const o = 2 * C * t
        for (let c = 0; c < C; c++) {
          dgamma[c] += parts[o + c]
          dbeta[c] += parts[o + C + c]
        }
      }
    },

    attention(out, att, qkv, B, T, C, NH) {
      checkHeads(C, NH)
      const scratch = attScratch.get(backend.scratchFloats('attentionScratch', T, C, NH) * nth)
      backend.runKernel('attentionKeep', [p(out, B * T * C), p(att, B * NH * T * T), p(qkv, B * T * 3 * C), scratch, B, T, C, NH, backend.jobCounter()])
    },

    attentionBackward(dqkv, dout, qkv, att, B, T, C, NH) {
      checkHeads(C, NH)
      const scratch = attScratch.get(backend.scratchFloats('attentionBackwardScratch', T, C, NH) * nth)
      const args = [p(dqkv, B * T * 3 * C), p(dout, B * T * C), p(qkv, B * T * 3 * C), p(att, B * NH * T * T), scratch, B, T, C, NH]
      backend.runKernel('attentionBackward', [...args, backend.jobCounter()])
    },

    gradNorm(grads, n) {
      const part = normPartials.get(2 * nth)
      backend.runKernel('sumSquares', [part, p(grads, n), n])
      const view = normPartials.view(2 * nth)
      const sums = new Float64Array(view.buffer, view.byteOffset, nth)
      let s = 0
      for (let t = 0; t < nth; t++) s += sums[t]
      return Math.sqrt(s)
    },

    optimizerUpdate(params, grads, m, v, ranges, u, n) {
      const view = rangeTable.view(3 * Math.max(1, ranges.length))
      const table = new Int32Array(view.buffer, view.byteOffset, 3 * ranges.length)
      ranges.forEach((r, i) => table.set([r.offset, r.size, r.decay ? 1 : 0], 3 * i))
      const {beta1, beta2, eps} = ADAMW_DEFAULTS
      const adamw = u.optimizer === 'adamw'
      const stepSize = adamw ? u.lr / (1 - beta1 ** u.step) : 0
      const bc2Sqrt = adamw ? Math.sqrt(1 - beta2 ** u.step) : 1
      const args = [p(params, n), p(grads, n), p(m, n), p(v, n), view.byteOffset, ranges.length, adamw ? 1 : 0]
      backend.runKernel('optimizerUpdate', [...args, u.lr, beta1, beta2, eps, u.weightDecay, stepSize, bc2Sqrt, u.gradScale])
      // the kernel zeroed the gradients of the ranges; the rest of [0, n) here
      let at = 0
      for (const r of [...ranges].sort((a, b) => a.offset - b.offset)) {
        if (r.offset > at) grads.fill(0, at, Math.min(n, r.offset))
        at = Math.max(at, r.offset + r.size)
      }
      if (at < n) grads.fill(0, at, n)
    },

    dispose() {
      ts.dispose()
      backend.dispose()
    },
  }
}

/** 'wasm' (default: falls back to 'ts' where this runtime has no WebAssembly SIMD) or 'ts'. */
export type TrainBackendChoice = 'wasm' | 'ts'

/** The training kernels to fine-tune with, as `selectBackend` picks the inference ones. */
export async function selectTrainKernels(options: {threads?: number; prefer?: TrainBackendChoice} = {}): Promise<TrainKernels> {
  if (options.prefer !== 'ts' && bestWasmVariant() !== null) return createWasmTrainKernels({threads: options.threads})
  return createTsTrainKernels()
}
