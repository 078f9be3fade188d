/**
 * The optimizer step over the flat parameter buffer (llm.c's gpt2_update): torch.optim.AdamW as the Hugging Face
 * Trainer configures it (betas 0.9/0.999, eps 1e-8, decoupled weight decay only on the parameters that decay — the
 * Trainer exempts biases and LayerNorm weights) and plain torch.optim.SGD; plus torch.nn.utils.clip_grad_norm_.
 * The moments live in buffers laid out like the parameters, allocated once.
 */

export const OPTIMIZERS = ['adamw', 'sgd'] as const
export type OptimizerName = (typeof OPTIMIZERS)[number]

export interface AdamWHyper {
  lr: number
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
}

export const ADAMW_DEFAULTS = {beta1: 0.9, beta2: 0.999, eps: 1e-8} as const

/** A contiguous run of parameters and whether weight decay applies to it. */
export interface DecayRange {
  offset: number
  size: number
  decay: boolean
}

// params[n], m[n], v[n] updated in place from grads[n]; `step` counts from 1 (bias correction)
// Per element, as torch's single-tensor AdamW: p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
export function adamwUpdate(
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  ranges: readonly DecayRange[],
  h: AdamWHyper,
  step: number,
): void {
  const bc1 = 1 - h.beta1 ** step
  const bc2 = 1 - h.beta2 ** step
  const stepSize = h.lr / bc1
  const bc2Sqrt = Math.sqrt(bc2)
  for (const r of ranges) {
    const decay = r.decay ? 1 - h.lr * h.weightDecay : 1
    for (let i = r.offset; i < r.offset + r.size; i++) {
      const g = grads[i]
      const mi = (m[i] = h.beta1 * m[i] + (1 - h.beta1) * g)
      const vi = (v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g)
      const p = params[i] * decay
      params[i] = p - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + h.eps)
    }
  }
}

// params[n] -= lr * (grads[n] + wd * params[n]) for decaying ranges (torch.optim.SGD, no momentum: its weight decay
// is L2, added to the gradient)
export function sgdUpdate(params: Float32Array, grads: Float32Array, ranges: readonly DecayRange[], lr: number, weightDecay: number): void {
  for (const r of ranges) {
    const wd = r.decay ? weightDecay : 0
    for (let i = r.offset; i < r.offset + r.size; i++) params[i] -= lr * (grads[i] + wd * params[i])
  }
}

/** The global L2 norm of grads[n] (float64 sum of squares). */
export function gradNorm(grads: Float32Array, n: number): number {
  let s = 0
  for (let i = 0; i < n; i++) s += grads[i] * grads[i]
  return Math.sqrt(s)
}

/** clip_grad_norm_'s factor: min(1, maxNorm / (norm + 1e-6)) (norm = gradNorm, computed before clipping). */
export function clipCoefficient(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6))
}

// grads[n] *= min(1, maxNorm / (norm + 1e-6)), as clip_grad_norm_
export function clipGrads(grads: Float32Array, norm: number, maxNorm: number, n: number): void {
  const coef = clipCoefficient(norm, maxNorm)
  if (coef >= 1) return
  for (let i = 0; i < n; i++) grads[i] *= coef
}

/** One optimizer step's settings (TrainKernels.optimizerUpdate). */
export interface OptimizerUpdate {
  optimizer: OptimizerName
  lr: number
  weightDecay: number
  /** AdamW's step, counting from 1 (bias correction). */
  step: number
  /** clip_grad_norm_'s factor applied to every gradient first (1: no clipping). */
  gradScale: number
}

/**
 * The step over `ranges` (clip, AdamW or SGD), then grads[0, n) zeroed for the next accumulation: the TypeScript
 * form of TrainKernels.optimizerUpdate.
 */
export function optimizerUpdate(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, ranges: readonly DecayRange[], u: OptimizerUpdate, n: number): void {
  if (u.gradScale < 1) for (let i = 0; i < n; i++) grads[i] *= u.gradScale
  if (u.optimizer === 'adamw') adamwUpdate(params, grads, m, v, ranges, {lr: u.lr, weightDecay: u.weightDecay, ...ADAMW_DEFAULTS}, u.step)
  else sgdUpdate(params, grads, ranges, u.lr, u.weightDecay)
  grads.fill(0, 0, n)
}
