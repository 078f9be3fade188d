/**
 * Training kernels in plain TypeScript: the forward kernels that keep what the backward pass needs (LayerNorm's mean
 * and reciprocal standard deviation, attention's probabilities, the MLP's pre-GELU values) and the backward of every
 * operation of the ViT-style encoders' forward (ViT; BEiT's biased attention and layer scale; DINOv2's layer scale and mean
 * of patch tokens), in llm.c's form: output first, shapes last, a shape comment each, float64 accumulators,
 * no allocation. Backward kernels ACCUMULATE (+=) into every gradient they write, as llm.c's do: a parameter used
 * twice (a residual branch, a micro-batch of an accumulated step) sums its contributions; callers zero what must
 * start at zero.
 *
 * These are the ground truth the WebAssembly kernels are tested against, and each is itself tested against finite
 * differences (test/engine/kernels/backward.test.ts).
 */
import {erf, geluScalar, layerNormWithStats} from './reference.js'

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)

/** d gelu(x) / dx for the exact erf form: Phi(x) + x phi(x). */
export function geluGradScalar(x: number): number {
  const cdf = 0.5 * (1 + erf(x * Math.SQRT1_2))
  return cdf + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)
}

// out[M, N] = inp[M, K] @ weight[N, K]^T + bias[N]   (weight as nn.Linear stores it)
export function matmulForward(out: Float32Array, inp: Float32Array, weight: Float32Array, bias: Float32Array | null, M: number, K: number, N: number): void {
  for (let m = 0; m < M; m++) {
    const a = m * K
    for (let n = 0; n < N; n++) {
      const w = n * K
      let acc = 0
      for (let k = 0; k < K; k++) acc += inp[a + k] * weight[w + k]
      out[m * N + n] = bias ? acc + bias[n] : acc
    }
  }
}

// dinp[M, K] += dout[M, N] @ weight[N, K];  dweight[N, K] += dout^T @ inp[M, K];  dbias[N] += sum over M of dout
// dinp may be null (the patch embedding's input is the pixels, which need no gradient); so may dbias.
export function matmulBackward(
  dinp: Float32Array | null,
  dweight: Float32Array,
  dbias: Float32Array | null,
  dout: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  M: number,
  K: number,
  N: number,
): void {
  if (dinp) {
    for (let m = 0; m < M; m++) {
      const d = m * N
      const o = m * K
      for (let k = 0; k < K; k++) {
        let s = 0
        for (let n = 0; n < N; n++) s += dout[d + n] * weight[n * K + k]
        dinp[o + k] += s
      }
    }
  }
  for (let n = 0; n < N; n++) {
    const w = n * K
    for (let k = 0; k < K; k++) {
      let s = 0
      for (let m = 0; m < M; m++) s += dout[m * N + n] * inp[m * K + k]
      dweight[w + k] += s
    }
    if (dbias) {
      let s = 0
      for (let m = 0; m < M; m++) s += dout[m * N + n]
      dbias[n] += s
    }
  }
}

// out[n] = gelu(inp[n])
export function geluForward(out: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = geluScalar(inp[i])
}

// dinp[n] += dout[n] * gelu'(inp[n])   (inp: the pre-activation the forward kept)
export function geluBackward(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) dinp[i] += dout[i] * geluGradScalar(inp[i])
}

// out[M, C] = (inp - mean) * rstd * gamma + beta; mean[M], rstd[M] kept for the backward pass
export function layerNormForward(
  out: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  inp: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  M: number,
  C: number,
  eps: number,
): void {
  layerNormWithStats(out, mean, rstd, inp, gamma, beta, M, C, eps)
}

// dinp[M, C] += d layernorm / d inp;  dgamma[C] += sum of dout * xhat;  dbeta[C] += sum of dout
// With xhat = (inp - mean) * rstd and g = dout * gamma: dinp = rstd * (g - mean(g) - xhat * mean(g * xhat)).
export function layerNormBackward(
  dinp: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
  dout: Float32Array,
  inp: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  M: number,
  C: number,
): void {
  for (let m = 0; m < M; m++) {
    const o = m * C
    const mu = mean[m]
    const r = rstd[m]
    let gMean = 0
    let gxMean = 0
    for (let c = 0; c < C; c++) {
      const xhat = (inp[o + c] - mu) * r
      const g = dout[o + c] * gamma[c]
      gMean += g
      gxMean += g * xhat
    }
    gMean /= C
    gxMean /= C
    for (let c = 0; c < C; c++) {
      const xhat = (inp[o + c] - mu) * r
      const d = dout[o + c]
      dbeta[c] += d
      dgamma[c] += d * xhat
      dinp[o + c] += r * (d * gamma[c] - gMean - xhat * gxMean)
    }
  }
}

// out[B, T, C] = multi-head attention of qkv[B, T, 3C] (q | k | v per token, heads contiguous in each), no mask;
// att[B, NH, T, T] = the softmax probabilities, kept for the backward pass
export function attentionForward(out: Float32Array, att: Float32Array, qkv: Float32Array, B: number, T: number, C: number, NH: number): void {
  biasedAttentionForward(out, att, qkv, null, B, T, C, NH)
}

// As attentionForward, with bias[NH, T, T] (or null) added to every batch item's scaled scores before the softmax
// (BEiT's relative position bias: softmax(q k^T / sqrt(hs) + bias) v)
export function biasedAttentionForward(out: Float32Array, att: Float32Array, qkv: Float32Array, bias: Float32Array | null, B: number, T: number, C: number, NH: number): void {
  const hs = C / NH
  const C3 = 3 * C
  const scale = 1 / Math.sqrt(hs)
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * C3 + h * hs
        const row = ((b * NH + h) * T + t) * T
        const biasRow = (h * T + t) * T
        let max = -Infinity
        for (let t2 = 0; t2 < T; t2++) {
          const k = (b * T + t2) * C3 + C + h * hs
          let dot = 0
          for (let i = 0; i < hs; i++) dot += qkv[q + i] * qkv[k + i]
          const s = bias ? dot * scale + bias[biasRow + t2] : dot * scale
          att[row + t2] = s
          if (s > max) max = s
        }
        let sum = 0
        for (let t2 = 0; t2 < T; t2++) sum += Math.exp(att[row + t2] - max)
        for (let t2 = 0; t2 < T; t2++) att[row + t2] = Math.exp(att[row + t2] - max) / sum
        const o = (b * T + t) * C + h * hs
        for (let i = 0; i < hs; i++) {
          let acc = 0
          for (let t2 = 0; t2 < T; t2++) acc += att[row + t2] * qkv[(b * T + t2) * C3 + 2 * C + h * hs + i]
          out[o + i] = acc
        }
      }
    }
  }
}

// dqkv[B, T, 3C] += d attention / d qkv, from dout[B, T, C], qkv and att[B, NH, T, T];
// dscores[T] is a scratch row (its contents on return are meaningless)
export function attentionBackward(
  dqkv: Float32Array,
  dscores: Float64Array,
  dout: Float32Array,
  qkv: Float32Array,
  att: Float32Array,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  biasedAttentionBackward(dqkv, null, dscores, dout, qkv, att, B, T, C, NH)
}

// As attentionBackward, and dbias[NH, T, T] += d / d bias (the scores' gradient summed over the batch), unless null
export function biasedAttentionBackward(
  dqkv: Float32Array,
  dbias: Float32Array | null,
  dscores: Float64Array,
  dout: Float32Array,
  qkv: Float32Array,
  att: Float32Array,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const hs = C / NH
  const C3 = 3 * C
  const scale = 1 / Math.sqrt(hs)
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const row = ((b * NH + h) * T + t) * T
        const d = (b * T + t) * C + h * hs
        // dp[t2] = dout_t . v_t2 and dv_t2 += p[t2] dout_t
        let pdp = 0
        for (let t2 = 0; t2 < T; t2++) {
          const v = (b * T + t2) * C3 + 2 * C + h * hs
          const p = att[row + t2]
          let dp = 0
          for (let i = 0; i < hs; i++) {
            dp += dout[d + i] * qkv[v + i]
            dqkv[v + i] += p * dout[d + i]
          }
          dscores[t2] = dp
          pdp += p * dp
        }
        // softmax backward: ds = p * (dp - sum p dp) (the bias's gradient), then through the scaled dot products
        const q = (b * T + t) * C3 + h * hs
        const biasRow = (h * T + t) * T
        for (let t2 = 0; t2 < T; t2++) {
          const dsBias = att[row + t2] * (dscores[t2] - pdp)
          if (dbias) dbias[biasRow + t2] += dsBias
          const ds = dsBias * scale
          const k = (b * T + t2) * C3 + C + h * hs
          for (let i = 0; i < hs; i++) {
            dqkv[q + i] += ds * qkv[k + i]
            dqkv[k + i] += ds * qkv[q + i]
          }
        }
      }
    }
  }
}

// out[M, C] = residual[M, C] + lambda[C] * inp[M, C]   (a layer scale on a residual branch; out may be residual)
export function layerScaleForward(out: Float32Array, residual: Float32Array, inp: Float32Array, lambda: Float32Array, M: number, C: number): void {
  for (let m = 0; m < M; m++) {
    const o = m * C
    for (let c = 0; c < C; c++) out[o + c] = residual[o + c] + lambda[c] * inp[o + c]
  }
}

// dinp[M, C] += dout * lambda; dlambda[C] += sum over M of dout * inp   (the residual's gradient is dout itself)
export function layerScaleBackward(dinp: Float32Array, dlambda: Float32Array, dout: Float32Array, inp: Float32Array, lambda: Float32Array, M: number, C: number): void {
  for (let c = 0; c < C; c++) {
    let s = 0
    for (let m = 0; m < M; m++) {
      const i = m * C + c
      dinp[i] += dout[i] * lambda[c]
      s += dout[i] * inp[i]
    }
    dlambda[c] += s
  }
}

// dx[B, T, C] += the gradient of meanTokens (out[b, :] = mean over tokens [from, T) of x[b, t, :]) from dout[B, C] read
// with row stride `doutStride` (the head of [CLS] | mean is 2C wide)
export function meanTokensBackward(dx: Float32Array, dout: Float32Array, B: number, T: number, from: number, C: number, doutStride = C): void {
  const inv = 1 / (T - from)
  for (let b = 0; b < B; b++) {
    for (let t = from; t < T; t++) {
      const row = (b * T + t) * C
      for (let c = 0; c < C; c++) dx[row + c] += dout[b * doutStride + c] * inv
    }
  }
}
