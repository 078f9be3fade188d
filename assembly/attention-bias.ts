// Attention with an additive bias, for the model families whose attention is not plain softmax(q k^T / sqrt(hs)) v:
// BEiT (relative position bias per head) and SwinV2 (cosine similarity times a per-head logit scale, plus the
// continuous position bias and the shifted-window mask). Re-exported by kernels.ts; see src/engine/backend.ts
// (`biasedAttention`) for the contract and src/engine/kernels/attention-bias.ts for the TypeScript twins.

import {gemmRowMajorB, softmaxRows} from './simd'

/**
 * Floats of per-thread scratch `attentionBias` needs: K^T [hs][T16], the scores [T][T16] and, for cosine attention,
 * the normalised queries [T][hs]; T16 = T rounded up to 16 (full 16-column panels for the score product).
 */
export function attentionBiasScratch(T: i32, C: i32, NH: i32): i32 {
  const T16 = (T + 15) & ~15
  const hs = C / NH
  return hs * T16 + T * T16 + T * hs
}

/** 1 / max(||x[0..n)||, 1e-12): torch.nn.functional.normalize's divisor. */
// @ts-ignore: decorator
@inline function invNorm(x: usize, n: i32): f32 {
  let ss: f32 = 0
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2))
    ss += v * v
  }
  return <f32>1.0 / max(Mathf.sqrt(ss), <f32>1e-12)
}

/**
 * out[B, T, C] = per head h: softmax(S + bias[b % nBias][h]) V, for qkv[B, T, 3C] (q | k | v per token, heads
 * contiguous in each) where
 * - headScale = 0: S = (Q K^T) * scale (BEiT: scale = 1/sqrt(hs));
 * - headScale != 0: cosine attention, S = (Q/|Q|) (K/|K|)^T * headScale[h] (SwinV2: headScale = exp(min(logit_scale,
 *   log 100))), each row normalised as F.normalize does;
 * bias: [nBias, NH, T, T] floats (0 for none): batch item b takes block b % nBias (SwinV2: windows of an image are
 * consecutive, one block per window). Threads take (batch, head) pairs from `counter` (an i32 the caller zeroes);
 * `scratch` holds nth blocks of attentionBiasScratch(T, C, NH) floats.
 */
export function attentionBias(
  out: usize, qkv: usize, bias: usize, nBias: i32, scale: f32, headScale: usize, scratch: usize,
  B: i32, T: i32, C: i32, NH: i32, counter: usize, tid: i32, nth: i32,
): void {
  const hs = C / NH
  const T16 = (T + 15) & ~15
  const kt = scratch + ((<usize>attentionBiasScratch(T, C, NH) * <usize>tid) << 2)
  const s = kt + ((<usize>hs * <usize>T16) << 2)
  const qn = s + ((<usize>T * <usize>T16) << 2)
  const ld3 = (<usize>C * 3) << 2
  const ldT = <usize>T16 << 2
  const ldq = <usize>hs << 2
  const cosine = headScale != 0
  const jobs = B * NH
  for (;;) {
    const job = atomic.add<i32>(counter, 1)
    if (job >= jobs) break
    const b = job / NH, h = job % NH
    const base = qkv + ((<usize>b * <usize>T * <usize>C * 3 + <usize>h * <usize>hs) << 2)
    const k = base + (<usize>C << 2)
    const v = base + (<usize>C << 3)
    const hScale: f32 = cosine ? load<f32>(headScale + (<usize>h << 2)) : scale
    // K^T [hs][T16], scaled (cosine: each key row normalised first), padding columns zero
    for (let t = 0; t < T; t++) {
      const kr = k + <usize>t * ld3
      const f: f32 = cosine ? invNorm(kr, hs) * hScale : hScale
      for (let i = 0; i < hs; i++) store<f32>(kt + <usize>i * ldT + (<usize>t << 2), load<f32>(kr + (<usize>i << 2)) * f)
    }
    if (T16 > T) for (let i = 0; i < hs; i++) memory.fill(kt + <usize>i * ldT + (<usize>T << 2), 0, <usize>(T16 - T) << 2)
    let q = base
    let ldA = ld3
    if (cosine) {
      for (let t = 0; t < T; t++) {
        const qr = base + <usize>t * ld3
        const f = invNorm(qr, hs)
        for (let i = 0; i < hs; i++) store<f32>(qn + <usize>t * ldq + (<usize>i << 2), load<f32>(qr + (<usize>i << 2)) * f)
      }
      q = qn
      ldA = ldq
    }
    gemmRowMajorB(s, ldT, q, ldA, kt, ldT, 0, T, 0, T16, hs)
    if (bias != 0) {
      const bb = bias + ((<usize>((b % nBias) * NH + h) * <usize>T * <usize>T) << 2)
      const T4 = T & ~3
      for (let t = 0; t < T; t++) {
        const row = s + <usize>t * ldT
        const br = bb + ((<usize>t * <usize>T) << 2)
        for (let j = 0; j < T4; j += 4) {
          const o = <usize>j << 2
          v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(br + o)))
        }
        for (let j = T4; j < T; j++) {
          const o = <usize>j << 2
          store<f32>(row + o, load<f32>(row + o) + load<f32>(br + o))
        }
      }
    }
    softmaxRows(s, T, T, ldT)
    const o = out + ((<usize>b * <usize>T * <usize>C + <usize>h * <usize>hs) << 2)
    gemmRowMajorB(o, <usize>C << 2, s, ldT, v, ld3, 0, T, 0, hs, T)
  }
}
