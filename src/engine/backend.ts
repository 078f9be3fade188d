/**
 * The contract between the model families' forward passes (src/models/<family>/forward.ts) and the kernels that do
 * their arithmetic.
 *
 * Two backends implement it: the plain TypeScript one (src/engine/backend-ts.ts, the fallback and the test
 * reference) and the WebAssembly SIMD one (src/engine/wasm/, fast, multi-threaded). The forward pass allocates its
 * weights and activations through `alloc`, so a backend whose kernels run in WebAssembly memory can hand out views
 * into that memory and never copy. Every kernel writes its output first, takes shapes last, and never allocates.
 *
 * Layouts are row-major. A linear layer's weight is [N, K] as PyTorch stores `nn.Linear.weight`.
 */

/** What is applied to a linear layer's output before it is stored. */
export type Epilogue = 'none' | 'gelu'

/** A linear layer prepared once at load (a backend may pack or re-layout the weight here). */
export interface Linear {
  /** Output features (N). */
  readonly outFeatures: number
  /** Input features (K). */
  readonly inFeatures: number
}

export interface Backend {
  /** 'ts' or 'wasm-simd' / 'wasm-relaxed-simd', for reports. */
  readonly name: string
  /** Worker threads used by the kernels (1 = the calling thread only). */
  readonly threads: number

  /** A zeroed Float32Array of `n` floats in memory this backend's kernels can read and write. */
  alloc(n: number): Float32Array

  /**
   * Prepares `weight` [N, K] and `bias` [N] (or null) for `linear`. The arrays may be dropped by the caller
   * afterwards only if the backend copied them; backends document whether they keep references.
   */
  prepareLinear(weight: Float32Array, bias: Float32Array | null, N: number, K: number): Linear

  /**
   * out[M, N] = epilogue(inp[M, K] @ weight^T + bias) (+ residual[M, N] when given).
   * `residual` may be the same array as `out` (in-place residual add); `inp` must not overlap `out`.
   */
  linear(out: Float32Array, inp: Float32Array, lin: Linear, M: number, epilogue: Epilogue, residual?: Float32Array): void

  /** out[M, C] = (inp - mean) / sqrt(var + eps) * gamma + beta, per row (biased variance, as PyTorch). */
  layerNorm(out: Float32Array, inp: Float32Array, gamma: Float32Array, beta: Float32Array, M: number, C: number, eps: number): void

  /**
   * Multi-head self-attention without masking: qkv [B, T, 3C] holds q | k | v per token (each [NH, C/NH]);
   * out [B, T, C] = concat over heads of softmax(q k^T / sqrt(C/NH)) v.
   */
  attention(out: Float32Array, qkv: Float32Array, B: number, T: number, C: number, NH: number): void

  /**
   * Attention with an additive bias (BEiT's relative position bias; SwinV2's cosine attention with its position bias
   * and shifted-window mask): per batch item b and head h, out = softmax(S + bias[b % nBias, h]) v, where
   * S = q k^T * scale, or, when `headScale` [NH] is given, S = (q/|q|) (k/|k|)^T * headScale[h].
   * qkv [B, T, 3C] as for `attention`; bias [nBias, NH, T, T] or null; out [B, T, C].
   */
  biasedAttention(
    out: Float32Array,
    qkv: Float32Array,
    bias: Float32Array | null,
    nBias: number,
    scale: number,
    headScale: Float32Array | null,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void

  /** A zeroed Int32Array of `n` entries in memory this backend's kernels can read (row index tables). */
  allocIndex(n: number): Int32Array

  /**
   * Row gather: out[r, :] = inp[rows[r], :] for r < R (C floats a row), zeros where rows[r] < 0 (SwinV2's window
   * partition of a padded, shifted map, patch merging's 2x2 gather). rows [R]; out [R, C]; inp must not overlap out.
   */
  gatherRows(out: Float32Array, inp: Float32Array, rows: Int32Array, R: number, C: number): void

  /** Row scatter-add, the gather's reverse: out[rows[r], :] += inp[r, :] for r < R where rows[r] >= 0 (distinct). */
  scatterAddRows(out: Float32Array, inp: Float32Array, rows: Int32Array, R: number, C: number): void

  /** out[n] += inp[n] (a residual add that no linear's epilogue carries). */
  addInto(out: Float32Array, inp: Float32Array, n: number): void

  /** Releases worker threads and memory. */
  dispose(): void
}
