// The optimizer's WebAssembly side (re-exported by kernels.ts; driven by src/engine/wasm/train.ts, twins in
// src/engine/train/optim.ts): the gradients' sum of squares for the global norm, and one pass that clips, updates
// (AdamW or SGD) and zeroes the gradients. Conventions as kernels.ts.

import {hsum, madd, split} from './simd'

/**
 * partials[tid] (a float64 per thread) = the sum of squares of this thread's share of grads[n]: float32 vector sums
 * over blocks of 256 floats, added in float64. The caller adds the threads' partials.
 */
export function sumSquares(partials: usize, grads: usize, n: i32, tid: i32, nth: i32): void {
  const i0 = split(n >> 2, tid, nth) << 2
  const i1 = tid + 1 == nth ? n : split(n >> 2, tid + 1, nth) << 2
  const n4 = min(i1, n & ~3)
  let total: f64 = 0
  let i = i0
  while (i < n4) {
    const end = min(n4, i + 256)
    let acc = f32x4.splat(0)
    for (; i < end; i += 4) {
      const g = v128.load(grads + (<usize>i << 2))
      acc = madd(g, g, acc)
    }
    total += <f64>hsum(acc)
  }
  for (let j = max(i0, n & ~3); j < i1; j++) {
    const g = <f64>load<f32>(grads + (<usize>j << 2))
    total += g * g
  }
  store<f64>(partials + (<usize>tid << 3), total)
}

/**
 * The optimizer step over the ranges of a table of i32 triples (offset, size, decay) at `ranges`: with
 * g = grads[i] * gradScale (clipping),
 * - adamw != 0 (torch.optim.AdamW): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 *   p = p (1 - lr wd if the range decays) - stepSize m / (sqrt(v) / bc2Sqrt + eps), stepSize = lr / (1 - b1^t);
 * - else (torch.optim.SGD): p -= lr (g + wd p) (wd only where the range decays);
 * and grads[i] = 0. Threads split every range.
 */
export function optimizerUpdate(
  params: usize, grads: usize, m: usize, v: usize, ranges: usize, nRanges: i32, adamw: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, stepSize: f32, bc2Sqrt: f32, gradScale: f32, tid: i32, nth: i32,
): void {
  const zero = f32x4.splat(0)
  const scaleV = f32x4.splat(gradScale)
  const b1 = f32x4.splat(beta1), b1c = f32x4.splat(<f32>1 - beta1)
  const b2 = f32x4.splat(beta2), b2c = f32x4.splat(<f32>1 - beta2)
  const epsV = f32x4.splat(eps), stepV = f32x4.splat(stepSize), invBc2 = f32x4.splat(<f32>1 / bc2Sqrt)
  const lrV = f32x4.splat(lr)
  for (let r = 0; r < nRanges; r++) {
    const t = ranges + ((<usize>r * 3) << 2)
    const offset = load<i32>(t), size = load<i32>(t, 4), decays = load<i32>(t, 8) != 0
    const a = offset + split(size, tid, nth), b = offset + split(size, tid + 1, nth)
    const b4 = a + ((b - a) & ~3)
    if (adamw != 0) {
      const decay: f32 = decays ? <f32>1 - lr * weightDecay : 1
      const decayV = f32x4.splat(decay)
      for (let i = a; i < b4; i += 4) {
        const o = <usize>i << 2
        const g = f32x4.mul(v128.load(grads + o), scaleV)
        const mi = madd(b1, v128.load(m + o), f32x4.mul(b1c, g))
        const vi = madd(b2, v128.load(v + o), f32x4.mul(b2c, f32x4.mul(g, g)))
        v128.store(m + o, mi)
        v128.store(v + o, vi)
        const denom = madd(f32x4.sqrt(vi), invBc2, epsV)
        const p = f32x4.mul(v128.load(params + o), decayV)
        v128.store(params + o, f32x4.sub(p, f32x4.div(f32x4.mul(stepV, mi), denom)))
        v128.store(grads + o, zero)
      }
      for (let i = b4; i < b; i++) {
        const o = <usize>i << 2
        const g = load<f32>(grads + o) * gradScale
        const mi = beta1 * load<f32>(m + o) + (<f32>1 - beta1) * g
        const vi = beta2 * load<f32>(v + o) + (<f32>1 - beta2) * g * g
        store<f32>(m + o, mi)
        store<f32>(v + o, vi)
        store<f32>(params + o, load<f32>(params + o) * decay - (stepSize * mi) / (Mathf.sqrt(vi) / bc2Sqrt + eps))
        store<f32>(grads + o, 0)
      }
    } else {
      const wd: f32 = decays ? weightDecay : 0
      const wdV = f32x4.splat(wd)
      for (let i = a; i < b4; i += 4) {
        const o = <usize>i << 2
        const p = v128.load(params + o)
        const g = madd(wdV, p, f32x4.mul(v128.load(grads + o), scaleV))
        v128.store(params + o, f32x4.sub(p, f32x4.mul(lrV, g)))
        v128.store(grads + o, zero)
      }
      for (let i = b4; i < b; i++) {
        const o = <usize>i << 2
        const p = load<f32>(params + o)
        store<f32>(params + o, p - lr * (load<f32>(grads + o) * gradScale + wd * p))
        store<f32>(grads + o, 0)
      }
    }
  }
}
