// Row moves between layouts, for the model families whose blocks re-order tokens (SwinV2: the window partition of a
// padded, shifted feature map and its reverse, patch merging's 2x2 gather) and the residual add: memory-bound
// copies that would otherwise run in TypeScript on the calling thread alone. Re-exported by kernels.ts; the
// TypeScript twins are gatherRowsNaive, scatterAddRowsNaive and addIntoNaive (src/engine/kernels/reference.ts).

import {split} from './simd'

/** out[r, 0..C) = inp[rows[r], 0..C) for r in [0, R), zeros where rows[r] < 0 (rows: i32). Threads split the rows. */
export function gatherRows(out: usize, inp: usize, rows: usize, R: i32, C: i32, tid: i32, nth: i32): void {
  const r0 = split(R, tid, nth), r1 = split(R, tid + 1, nth)
  const bytes = <usize>C << 2
  for (let r = r0; r < r1; r++) {
    const s = load<i32>(rows + (<usize>r << 2))
    const d = out + <usize>r * bytes
    if (s < 0) memory.fill(d, 0, bytes)
    else memory.copy(d, inp + <usize>s * bytes, bytes)
  }
}

/**
 * out[rows[r], 0..C) += inp[r, 0..C) for r in [0, R) where rows[r] >= 0; the non-negative rows are distinct, so the
 * threads, which split r, never write the same row.
 */
export function scatterAddRows(out: usize, inp: usize, rows: usize, R: i32, C: i32, tid: i32, nth: i32): void {
  const r0 = split(R, tid, nth), r1 = split(R, tid + 1, nth)
  const bytes = <usize>C << 2
  const C4 = C & ~3
  for (let r = r0; r < r1; r++) {
    const s = load<i32>(rows + (<usize>r << 2))
    if (s < 0) continue
    const d = out + <usize>s * bytes
    const x = inp + <usize>r * bytes
    for (let c = 0; c < C4; c += 4) {
      const o = <usize>c << 2
      v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(x + o)))
    }
    for (let c = C4; c < C; c++) {
      const o = <usize>c << 2
      store<f32>(d + o, load<f32>(d + o) + load<f32>(x + o))
    }
  }
}

/** out[i] += inp[i] for i in [0, n); threads split the range in whole vectors, the last takes the tail. */
export function addInto(out: usize, inp: usize, n: i32, tid: i32, nth: i32): void {
  const i0 = split(n >> 2, tid, nth) << 2
  const i1 = tid + 1 == nth ? n & ~3 : split(n >> 2, tid + 1, nth) << 2
  for (let i = i0; i < i1; i += 4) {
    const o = <usize>i << 2
    v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(inp + o)))
  }
  if (tid + 1 == nth) for (let i = n & ~3; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(out + (<usize>i << 2)) + load<f32>(inp + (<usize>i << 2)))
}
