import {softmaxTimesV} from './reference.js'

/**
 * Attention with an additive bias, the naive reference (float64 accumulators) that the WebAssembly kernel
 * (assembly/attention-bias.ts) is tested against; the TypeScript backend runs it as is (attention is O(T^2 C) against
 * the linears' O(T C^2), and the families using it have short sequences or windows).
 *
 * out[B, T, C], per batch item b and head h: softmax(S + bias[b % nBias, h]) v, where
 * - headScale null: S = q k^T * scale (BEiT: relative position bias, scale 1/sqrt(hs));
 * - headScale given: cosine attention, S = (q / max(|q|, 1e-12)) (k / max(|k|, 1e-12))^T * headScale[h] (SwinV2,
 *   headScale = exp(min(logit_scale, log 100)));
 * qkv [B, T, 3C] holds q | k | v per token, heads contiguous inside each; bias [nBias, NH, T, T] or null.
 * `scratch`: `scores` of T floats, `qn` and `kn` of T * hs floats each (see biasedAttentionScratch), owned by the caller.
 */
export function biasedAttentionNaive(
  out: Float32Array,
  qkv: Float32Array,
  bias: Float32Array | null,
  nBias: number,
  scale: number,
  headScale: Float32Array | null,
  scratch: {scores: Float64Array; qn: Float64Array; kn: Float64Array},
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const hs = C / NH
  const C3 = 3 * C
  const {scores, qn, kn} = scratch
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      // q and k of this head, normalised (cosine) or not
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * C3 + h * hs
        const k = q + C
        let fq = 1
        let fk = 1
        if (headScale) {
          let sq = 0
          let sk = 0
          for (let i = 0; i < hs; i++) {
            sq += qkv[q + i] * qkv[q + i]
            sk += qkv[k + i] * qkv[k + i]
          }
          fq = 1 / Math.max(Math.sqrt(sq), 1e-12)
          fk = 1 / Math.max(Math.sqrt(sk), 1e-12)
        }
        for (let i = 0; i < hs; i++) {
          qn[t * hs + i] = qkv[q + i] * fq
          kn[t * hs + i] = qkv[k + i] * fk
        }
      }
      const s = headScale ? headScale[h] : scale
      const biasBase = bias ? ((b % nBias) * NH + h) * T * T : 0
      for (let t = 0; t < T; t++) {
        let max = -Infinity
        for (let t2 = 0; t2 < T; t2++) {
          let dot = 0
          for (let i = 0; i < hs; i++) dot += qn[t * hs + i] * kn[t2 * hs + i]
          let v = dot * s
          if (bias) v += bias[biasBase + t * T + t2]
          scores[t2] = v
          if (v > max) max = v
        }
        softmaxTimesV(out, (b * T + t) * C + h * hs, scores, max, qkv, b * T * C3 + 2 * C + h * hs, C3, T, hs)
      }
    }
  }
}

/** Scratch for biasedAttentionNaive at sequence length T and head size hs. */
export function biasedAttentionScratch(T: number, hs: number): {scores: Float64Array; qn: Float64Array; kn: Float64Array} {
  return {scores: new Float64Array(T), qn: new Float64Array(T * hs), kn: new Float64Array(T * hs)}
}
