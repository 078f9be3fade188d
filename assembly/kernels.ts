// vitrine's WebAssembly SIMD kernels (AssemblyScript). Compiled twice by scripts/build-wasm.mjs: once with
// `--use RELAXED=1 --enable relaxed-simd` (fused multiply-add through f32x4.relaxed_madd) and once with
// `--use RELAXED=0` (plain SIMD128: mul then add), into src/engine/wasm/generated/.
//
// Memory is imported, shared between the calling thread and the worker threads, and managed entirely by the
// TypeScript side (src/engine/wasm/index.ts): these functions never allocate and keep no state, so every thread can
// call them on the same memory at once. Every kernel takes `tid, nth` last and does its own share of the work.
// Pointers are byte offsets; shapes are element counts. Row-major everywhere.

import {
  NR, USE_RELAXED, expS, gemmRowMajorB, geluS, hsum, madd, softmaxRows, split, tile2x16, tileNarrow, vexp, vgelu,
} from './simd'

// ---------------------------------------------------------------------------------------------------------------
// exported kernels

/** Start of the memory the TypeScript side may hand out (this module has no data of its own above it). */
export function heapBase(): usize {
  return __heap_base
}

/**
 * Packs a linear weight W[N, K] (PyTorch layout) at `w` in place into column panels: panel p holds columns
 * [16p, 16p + w) as [K][w] (w = 16 except for the last panel of an N that is not a multiple of 16), panels one
 * after another, so the packed weight has exactly N*K floats and panel p occupies the very floats that rows
 * [16p, 16p + w) occupied. Each panel's rows are copied to the thread's block of `tmp` (16 x K floats per thread)
 * and scattered back: cache-local, and no second copy of the model. Threads split the panels.
 */
export function packLinear(w: usize, N: i32, K: i32, tmp: usize, tid: i32, nth: i32): void {
  const panels = (N + NR - 1) / NR
  const p0 = split(panels, tid, nth), p1 = split(panels, tid + 1, nth)
  const own = tmp + ((<usize>tid * <usize>NR * <usize>K) << 2)
  for (let p = p0; p < p1; p++) {
    const n0 = p * NR
    const width = min(NR, N - n0)
    const base = w + ((<usize>n0 * <usize>K) << 2)
    memory.copy(own, base, (<usize>width * <usize>K) << 2)
    const step = <usize>width << 2
    for (let j = 0; j < width; j++) {
      let s = own + ((<usize>j * <usize>K) << 2)
      let d = base + (<usize>j << 2)
      for (let k = 0; k < K; k++) {
        store<f32>(d, load<f32>(s))
        s += 4
        d += step
      }
    }
  }
}

/**
 * out[M, N] = epilogue(inp[M, K] @ W^T + bias) (+ residual[M, N]), W packed by packLinear. K is processed in blocks
 * of KC (a panel slice of KC x 16 floats stays in L1 across the rows) and rows in blocks of MC (the A block of
 * MC x KC floats stays in L2 across the panels); `partial` is scratch of M x N floats for the sums across K
 * blocks (unused when K <= KC; rows indexed absolutely, as threads may work on different row blocks at once). bias, residual: 0 for none; residual may be out. Threads take (row block,
 * 16-column panel) units from `counter`, an i32 the caller zeroes before every call.
 */
export function linear(
  out: usize, inp: usize, packed: usize, bias: usize, residual: usize, partial: usize,
  M: i32, N: i32, K: i32, gelu: i32, KC: i32, MC: i32, counter: usize, tid: i32, nth: i32,
): void {
  const panels = (N + NR - 1) / NR
  const lda = <usize>K << 2
  const ldo = <usize>N << 2
  // Row blocks of equal size (at most MC): no short last block that would stream the whole weight for a few rows.
  const blocks = (M + MC - 1) / MC
  const mc = (M + blocks - 1) / blocks
  const units = blocks * panels
  // Work units (row block, panel) are taken from a shared counter (zeroed by the caller) rather than split in
  // advance: on a busy machine a thread that loses its core leaves its work to the others instead of making them
  // all wait at the barrier.
  for (;;) {
    const u = atomic.add<i32>(counter, 1)
    if (u >= units) break
    const m0 = (u / panels) * mc
    const p = u % panels
    const m1 = min(M, m0 + mc)
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kh = min(KC, K - k0)
      const first = k0 == 0
      const last = k0 + kh == K
      {
        const n0 = p * NR
        const w = min(NR, N - n0)
        const bp = packed + ((<usize>n0 * <usize>K + <usize>k0 * <usize>w) << 2)
        const ldb = <usize>w << 2
        const nOff = <usize>n0 << 2
        const biasP = last && bias != 0 ? bias + nOff : 0
        for (let i = m0; i < m1; i += 2) {
          const i1 = i + 1 < m1 ? i + 1 : i
          const ap0 = inp + <usize>i * lda + (<usize>k0 << 2)
          const ap1 = inp + <usize>i1 * lda + (<usize>k0 << 2)
          const s0: usize = first ? 0 : partial + <usize>i * ldo + nOff
          const s1: usize = first ? 0 : partial + <usize>i1 * ldo + nOff
          let d0: usize, d1: usize, r0: usize = 0, r1: usize = 0
          if (last) {
            d0 = out + <usize>i * ldo + nOff
            d1 = out + <usize>i1 * ldo + nOff
            if (residual != 0) {
              r0 = residual + <usize>i * ldo + nOff
              r1 = residual + <usize>i1 * ldo + nOff
            }
          } else {
            d0 = partial + <usize>i * ldo + nOff
            d1 = partial + <usize>i1 * ldo + nOff
          }
          const g = last && gelu != 0
          if (w == NR) {
            tile2x16(ap0, ap1, bp, ldb, kh, s0, s1, d0, d1, biasP, g, r0, r1)
          } else {
            tileNarrow(ap0, bp, ldb, kh, w, s0, d0, biasP, g, r0)
            if (i1 != i) tileNarrow(ap1, bp, ldb, kh, w, s1, d1, biasP, g, r1)
          }
        }
      }
    }
  }
}

/** out[M, C] = (inp - mean) / sqrt(var + eps) * gamma + beta per row (biased variance). Threads split the rows. */
export function layerNorm(out: usize, inp: usize, gamma: usize, beta: usize, M: i32, C: i32, eps: f32, tid: i32, nth: i32): void {
  layerNormStats(out, 0, 0, inp, gamma, beta, M, C, eps, tid, nth)
}

/** layerNorm, also writing each row's mean[M] and rstd[M] (1 / sqrt(var + eps)) when those pointers are not 0. */
export function layerNormStats(out: usize, meanOut: usize, rstdOut: usize, inp: usize, gamma: usize, beta: usize, M: i32, C: i32, eps: f32, tid: i32, nth: i32): void {
  const r0 = split(M, tid, nth), r1 = split(M, tid + 1, nth)
  const C4 = C & ~3
  const invC: f32 = 1.0 / <f32>C
  for (let m = r0; m < r1; m++) {
    const x = inp + ((<usize>m * <usize>C) << 2)
    const y = out + ((<usize>m * <usize>C) << 2)
    let sv = f32x4.splat(0)
    for (let c = 0; c < C4; c += 4) sv = f32x4.add(sv, v128.load(x + (<usize>c << 2)))
    let sum = hsum(sv)
    for (let c = C4; c < C; c++) sum += load<f32>(x + (<usize>c << 2))
    const mean = sum * invC
    const meanV = f32x4.splat(mean)
    let qv = f32x4.splat(0)
    for (let c = 0; c < C4; c += 4) {
      const d = f32x4.sub(v128.load(x + (<usize>c << 2)), meanV)
      qv = madd(d, d, qv)
    }
    let q = hsum(qv)
    for (let c = C4; c < C; c++) {
      const d = load<f32>(x + (<usize>c << 2)) - mean
      q += d * d
    }
    const rstd: f32 = 1.0 / Mathf.sqrt(q * invC + eps)
    if (meanOut != 0) store<f32>(meanOut + (<usize>m << 2), mean)
    if (rstdOut != 0) store<f32>(rstdOut + (<usize>m << 2), rstd)
    const rstdV = f32x4.splat(rstd)
    for (let c = 0; c < C4; c += 4) {
      const o = <usize>c << 2
      const n = f32x4.mul(f32x4.sub(v128.load(x + o), meanV), rstdV)
      v128.store(y + o, madd(n, v128.load(gamma + o), v128.load(beta + o)))
    }
    for (let c = C4; c < C; c++) {
      const o = <usize>c << 2
      store<f32>(y + o, (load<f32>(x + o) - mean) * rstd * load<f32>(gamma + o) + load<f32>(beta + o))
    }
  }
}

/**
 * Floats of per-thread scratch `attention` needs: K^T [hs][T16] and the scores [T][T16], T16 = T rounded up to 16 so
 * the score product runs on full 16-column panels only (the padding columns of K^T are zero and never read back).
 */
export function attentionScratch(T: i32, C: i32, NH: i32): i32 {
  const T16 = (T + 15) & ~15
  return (C / NH) * T16 + T * T16
}


/**
 * out[B, T, C] = multi-head self-attention of qkv[B, T, 3C] (q | k | v per token, heads contiguous in each), no
 * mask. Per (batch, head): K^T scaled by 1/sqrt(hs) into scratch, S = Q K^T, softmax rows, out = P V, both
 * products on the 2x16 micro-kernel. Threads take (batch, head) pairs from `counter` (an i32 the caller zeroes
 * before every call); `scratch` holds nth blocks of attentionScratch(T, C, NH) floats.
 */
export function attention(out: usize, qkv: usize, scratch: usize, B: i32, T: i32, C: i32, NH: i32, counter: usize, tid: i32, nth: i32): void {
  attentionKeep(out, 0, qkv, scratch, B, T, C, NH, counter, tid, nth)
}

/** attention, also writing the probabilities att[B, NH, T, T] (for the backward pass) when `att` is not 0. */
export function attentionKeep(out: usize, att: usize, qkv: usize, scratch: usize, B: i32, T: i32, C: i32, NH: i32, counter: usize, tid: i32, nth: i32): void {
  const hs = C / NH
  const T16 = (T + 15) & ~15
  const kt = scratch + ((<usize>attentionScratch(T, C, NH) * <usize>tid) << 2)
  const s = kt + ((<usize>hs * <usize>T16) << 2)
  const scale: f32 = 1.0 / Mathf.sqrt(<f32>hs)
  const ld3 = (<usize>C * 3) << 2
  const ldT = <usize>T16 << 2
  const jobs = B * NH
  for (;;) {
    const job = atomic.add<i32>(counter, 1)
    if (job >= jobs) break
    const b = job / NH, h = job % NH
    const base = qkv + ((<usize>b * <usize>T * <usize>C * 3 + <usize>h * <usize>hs) << 2)
    const q = base
    const k = base + (<usize>C << 2)
    const v = base + (<usize>C << 3)
    // K^T [hs][T16], scaled, padding columns zero
    for (let t = 0; t < T; t++) {
      const kr = k + <usize>t * ld3
      for (let i = 0; i < hs; i++) store<f32>(kt + <usize>i * ldT + (<usize>t << 2), load<f32>(kr + (<usize>i << 2)) * scale)
    }
    if (T16 > T) for (let i = 0; i < hs; i++) memory.fill(kt + <usize>i * ldT + (<usize>T << 2), 0, <usize>(T16 - T) << 2)
    gemmRowMajorB(s, ldT, q, ld3, kt, ldT, 0, T, 0, T16, hs)
    softmaxRows(s, T, T, ldT)
    if (att != 0) {
      const a = att + ((<usize>job * <usize>T * <usize>T) << 2)
      for (let t = 0; t < T; t++) memory.copy(a + ((<usize>t * <usize>T) << 2), s + <usize>t * ldT, <usize>T << 2)
    }
    const o = out + ((<usize>b * <usize>T * <usize>C + <usize>h * <usize>hs) << 2)
    gemmRowMajorB(o, <usize>C << 2, s, ldT, v, ld3, 0, T, 0, hs, T)
  }
}

/** out[n] = gelu(inp[n]) (exact erf form); threads split the range. Used on its own by tests and benchmarks. */
export function gelu(out: usize, inp: usize, n: i32, tid: i32, nth: i32): void {
  const i0 = split(n >> 2, tid, nth) << 2
  const i1 = tid + 1 == nth ? n & ~3 : split(n >> 2, tid + 1, nth) << 2
  for (let i = i0; i < i1; i += 4) v128.store(out + (<usize>i << 2), vgelu(v128.load(inp + (<usize>i << 2))))
  if (tid + 1 == nth) for (let i = n & ~3; i < n; i++) store<f32>(out + (<usize>i << 2), geluS(load<f32>(inp + (<usize>i << 2))))
}

/** out[M, N] = softmax of each row of inp[M, N]; threads split the rows. out may be inp. */
export function softmax(out: usize, inp: usize, M: i32, N: i32, tid: i32, nth: i32): void {
  const r0 = split(M, tid, nth), r1 = split(M, tid + 1, nth)
  const ld = <usize>N << 2
  if (out != inp) memory.copy(out + <usize>r0 * ld, inp + <usize>r0 * ld, <usize>(r1 - r0) * ld)
  softmaxRows(out + <usize>r0 * ld, r1 - r0, N, ld)
}

/**
 * The machine's ceiling for this module's arithmetic: `iters` x 12 independent f32x4 multiply-adds (fused in the
 * relaxed build) on registers only, no memory traffic. 96 flops per iteration; the benchmark reports the rate so the
 * matmul's GFLOP/s can be read as a fraction of what 128-bit WebAssembly SIMD can do on this CPU.
 */
export function fmaPeak(iters: i32): f32 {
  const x = f32x4.splat(0.999), y = f32x4.splat(0.001)
  let a0 = f32x4.splat(0), a1 = f32x4.splat(1), a2 = f32x4.splat(2), a3 = f32x4.splat(3)
  let a4 = f32x4.splat(4), a5 = f32x4.splat(5), a6 = f32x4.splat(6), a7 = f32x4.splat(7)
  let a8 = f32x4.splat(8), a9 = f32x4.splat(9), a10 = f32x4.splat(10), a11 = f32x4.splat(11)
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, x, y); a1 = madd(a1, x, y); a2 = madd(a2, x, y); a3 = madd(a3, x, y)
    a4 = madd(a4, x, y); a5 = madd(a5, x, y); a6 = madd(a6, x, y); a7 = madd(a7, x, y)
    a8 = madd(a8, x, y); a9 = madd(a9, x, y); a10 = madd(a10, x, y); a11 = madd(a11, x, y)
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)))
  return hsum(f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))))
}

export {attentionBias, attentionBiasScratch} from './attention-bias'
export {addInto, gatherRows, scatterAddRows} from './rows'
export {attentionBackward, attentionBackwardScratch, geluBackward, layerNormBackward, packPanels, transposeSum} from './train'
export {optimizerUpdate, sumSquares} from './optim'
