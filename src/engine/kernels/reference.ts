/**
 * Naive reference kernels: the simplest correct loops, in float64 accumulators, kept as the ground truth that every
 * fast kernel (blocked TypeScript, WebAssembly SIMD) is tested against. Output first, shapes last, no allocation
 * except where noted.
 */

/**
 * erf(x) to ~1.2e-7 relative error (Numerical Recipes `erfcc`, Chebyshev fit). Hugging Face's `gelu` is the exact
 * erf form, not the tanh approximation, so the error here must stay far below float32 resolution of the logits.
 */
export function erf(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? 1 - r : r - 1
}

/** gelu(x) = x * 0.5 * (1 + erf(x / sqrt(2))), PyTorch's default (approximate='none'). */
export function geluScalar(x: number): number {
  return 0.5 * x * (1 + erf(x * Math.SQRT1_2))
}

// out[M, N] = inp[M, K] @ weight[N, K]^T + bias[N]
export function matmulNaive(
  out: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  bias: Float32Array | null,
  M: number,
  K: number,
  N: number,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = bias ? bias[n] : 0
      for (let k = 0; k < K; k++) acc += inp[m * K + k] * weight[n * K + k]
      out[m * N + n] = acc
    }
  }
}

// out[n] = gelu(inp[n])
export function geluNaive(out: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = geluScalar(inp[i])
}

// out[n] = a[n] + b[n]
export function addNaive(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i]
}

// x[n] += y[n]
export function addIntoNaive(x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) x[i] += y[i]
}

// out[r, :] = inp[rows[r], :] for r < R (C floats a row), zeros where rows[r] < 0
export function gatherRowsNaive(out: Float32Array, inp: Float32Array, rows: Int32Array, R: number, C: number): void {
  for (let r = 0; r < R; r++) {
    const s = rows[r]
    for (let c = 0; c < C; c++) out[r * C + c] = s < 0 ? 0 : inp[s * C + c]
  }
}

// out[rows[r], :] += inp[r, :] for r < R where rows[r] >= 0
export function scatterAddRowsNaive(out: Float32Array, inp: Float32Array, rows: Int32Array, R: number, C: number): void {
  for (let r = 0; r < R; r++) {
    const s = rows[r]
    if (s >= 0) for (let c = 0; c < C; c++) out[s * C + c] += inp[r * C + c]
  }
}

// out[M, C] = layernorm(inp[M, C]) * gamma[C] + beta[C]
export function layerNormNaive(
  out: Float32Array,
  inp: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  M: number,
  C: number,
  eps: number,
): void {
  layerNormWithStats(out, null, null, inp, gamma, beta, M, C, eps)
}

// out[M, C] = (inp - mean) * rstd * gamma + beta; mean[M] and rstd[M] kept when given (training's backward reads them)
export function layerNormWithStats(
  out: Float32Array,
  mean: Float32Array | null,
  rstd: Float32Array | null,
  inp: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  M: number,
  C: number,
  eps: number,
): void {
  for (let m = 0; m < M; m++) {
    const o = m * C
    let mu = 0
    for (let c = 0; c < C; c++) mu += inp[o + c]
    mu /= C
    let v = 0
    for (let c = 0; c < C; c++) v += (inp[o + c] - mu) ** 2
    const r = 1 / Math.sqrt(v / C + eps)
    for (let c = 0; c < C; c++) out[o + c] = (inp[o + c] - mu) * r * gamma[c] + beta[c]
    if (mean) mean[m] = mu
    if (rstd) rstd[m] = r
  }
}

// The logistic sigmoid in the form that neither overflows for large |x| nor loses precision (multilabel heads: the
// evaluation's probabilities and the BCE loss's gradient).
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}

// out[M, N] = softmax over each row of inp[M, N] (max-subtracted, so large logits do not overflow)
export function softmaxNaive(out: Float32Array, inp: Float32Array, M: number, N: number): void {
  for (let m = 0; m < M; m++) {
    const o = m * N
    let max = -Infinity
    for (let n = 0; n < N; n++) max = Math.max(max, inp[o + n])
    let sum = 0
    for (let n = 0; n < N; n++) sum += Math.exp(inp[o + n] - max)
    for (let n = 0; n < N; n++) out[o + n] = Math.exp(inp[o + n] - max) / sum
  }
}

// One query's attention output from its raw scores[T] (max = their maximum): scores become exp(scores - max) in place,
// then out[o + i] = sum over t2 of scores[t2] * qkv[v + t2 * stride + i], divided by the sum of the exps, for i < hs.
export function softmaxTimesV(
  out: Float32Array,
  o: number,
  scores: Float64Array,
  max: number,
  qkv: Float32Array,
  v: number,
  stride: number,
  T: number,
  hs: number,
): void {
  let sum = 0
  for (let t2 = 0; t2 < T; t2++) {
    scores[t2] = Math.exp(scores[t2] - max)
    sum += scores[t2]
  }
  for (let i = 0; i < hs; i++) {
    let acc = 0
    for (let t2 = 0; t2 < T; t2++) acc += scores[t2] * qkv[v + t2 * stride + i]
    out[o + i] = acc / sum
  }
}

// out[B, T, C] = multi-head attention of qkv[B, T, 3C] (q | k | v, heads contiguous inside each), no mask.
// Allocates one row of scores: this is the reference, not the fast path.
export function attentionNaive(out: Float32Array, qkv: Float32Array, B: number, T: number, C: number, NH: number): void {
  const hs = C / NH
  const scale = 1 / Math.sqrt(hs)
  const scores = new Float64Array(T)
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * 3 * C + h * hs
        let max = -Infinity
        for (let t2 = 0; t2 < T; t2++) {
          const k = (b * T + t2) * 3 * C + C + h * hs
          let dot = 0
          for (let i = 0; i < hs; i++) dot += qkv[q + i] * qkv[k + i]
          scores[t2] = dot * scale
          if (scores[t2] > max) max = scores[t2]
        }
        softmaxTimesV(out, (b * T + t) * C + h * hs, scores, max, qkv, b * T * 3 * C + 2 * C + h * hs, 3 * C, T, hs)
      }
    }
  }
}
