/**
 * Seeded randomness for everything that must repeat run for run: benchmark weights, a new classifier head, the
 * per-epoch shuffle and the augmentation of training images. One small generator (mulberry32), so a seed means the
 * same numbers on every machine and Node version.
 */

/** mulberry32: uniform floats in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A standard normal sample (Box-Muller on two uniforms). */
export function normalSample(rand: () => number): number {
  const u = 1 - rand() // (0, 1]: log(0) never happens
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
}

// out[n] = samples of N(0, std^2) truncated to [lo, hi] (resampled until inside), as torch.nn.init.trunc_normal_'s
// distribution (its default bounds -2 and 2 are absolute, not in standard deviations)
export function truncatedNormal(out: Float32Array, std: number, lo: number, hi: number, rand: () => number): void {
  for (let i = 0; i < out.length; i++) {
    let x: number
    do x = normalSample(rand) * std
    while (x < lo || x > hi)
    out[i] = x
  }
}

/** A Fisher-Yates shuffle of 0..n-1. */
export function shuffledIndices(n: number, rand: () => number): number[] {
  const ids = Array.from({length: n}, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const t = ids[i]
    ids[i] = ids[j]
    ids[j] = t
  }
  return ids
}
