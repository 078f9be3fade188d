// Building blocks shared by the kernel files of assembly/ (kernels.ts, the model families' kernels): the SIMD
// helpers (multiply-add, exp, GELU, horizontal sum), the thread split, the 2x16 matmul micro-kernels and the
// row softmax. Nothing here is exported from the module itself; kernels.ts and the other files import them.

// @ts-ignore: compile-time constant introduced by `--use RELAXED=0|1`
export const USE_RELAXED: bool = RELAXED != 0

/** Width of a packed weight panel: the micro-kernel computes a 2x16 tile (8 accumulators + 4 B vectors + 2 A). */
export const NR: i32 = 16

// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (USE_RELAXED) return f32x4.relaxed_madd(a, b, c)
  return f32x4.add(f32x4.mul(a, b), c)
}

/** First index of thread `tid`'s share when `total` items are split evenly over `nth` threads. */
// @ts-ignore: decorator
@inline export function split(total: i32, tid: i32, nth: i32): i32 {
  return <i32>((<i64>total * <i64>tid) / <i64>nth)
}

// ---------------------------------------------------------------------------------------------------------------
// exp, erf, gelu on f32x4

/**
 * exp(x) per lane, Cephes expf (range reduction by ln 2 split in two, degree-6 polynomial): about 1 ulp; 0 below
 * e^-87 (1.6e-38), where the result would be a subnormal float. A subnormal operand makes every x86 multiply it meets
 * some twenty times slower, and a softmax row under SwinV2's shifted-window mask (-100, added twice) is mostly such
 * values: flushed, the products of those probabilities with V cost what any product costs (the change is below
 * 1.2e-38 absolute).
 */
// @ts-ignore: decorator
@inline export function vexp(x0: v128): v128 {
  const x = f32x4.max(f32x4.min(x0, f32x4.splat(88.3762626647949)), f32x4.splat(-87.3365447505531))
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)))
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)))
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)))
  let p = f32x4.splat(1.9875691500e-4)
  p = madd(p, r, f32x4.splat(1.3981999507e-3))
  p = madd(p, r, f32x4.splat(8.3334519073e-3))
  p = madd(p, r, f32x4.splat(4.1665795894e-2))
  p = madd(p, r, f32x4.splat(1.6666665459e-1))
  p = madd(p, r, f32x4.splat(5.0000001201e-1))
  const r2 = f32x4.mul(r, r)
  const y = f32x4.add(madd(p, r2, r), f32x4.splat(1.0))
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23)
  return v128.andnot(f32x4.mul(y, pow2n), f32x4.lt(x0, f32x4.splat(-87.0)))
}

/**
 * erf(u) per lane by Numerical Recipes' erfcc (the same Chebyshev fit as the reference kernel, 1.2e-7 relative),
 * evaluated in float32. Shared by GELU and its derivative (assembly/train.ts).
 */
// @ts-ignore: decorator
@inline export function verf(u: v128): v128 {
  const z = f32x4.abs(u)
  const t = f32x4.div(f32x4.splat(1.0), madd(f32x4.splat(0.5), z, f32x4.splat(1.0)))
  let p = f32x4.splat(0.17087277)
  p = madd(p, t, f32x4.splat(-0.82215223))
  p = madd(p, t, f32x4.splat(1.48851587))
  p = madd(p, t, f32x4.splat(-1.13520398))
  p = madd(p, t, f32x4.splat(0.27886807))
  p = madd(p, t, f32x4.splat(-0.18628806))
  p = madd(p, t, f32x4.splat(0.09678418))
  p = madd(p, t, f32x4.splat(0.37409196))
  p = madd(p, t, f32x4.splat(1.00002368))
  p = madd(p, t, f32x4.splat(-1.26551223))
  const e = f32x4.sub(p, f32x4.mul(z, z))
  const r = f32x4.mul(t, vexp(e))
  // erf(u) = sign(u) * (1 - r); 1 - r >= 0, so or-ing in the sign bit of u applies the sign.
  const erfAbs = f32x4.sub(f32x4.splat(1.0), r)
  return v128.or(erfAbs, v128.and(u, i32x4.splat(0x80000000)))
}

/** gelu(x) = 0.5 x (1 + erf(x / sqrt 2)) per lane (erf: verf). */
// @ts-ignore: decorator
@inline export function vgelu(x: v128): v128 {
  const erf = verf(f32x4.mul(x, f32x4.splat(0.7071067811865476)))
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.add(f32x4.splat(1.0), erf))
}

// @ts-ignore: decorator
@inline export function geluS(x: f32): f32 {
  return f32x4.extract_lane(vgelu(f32x4.splat(x)), 0)
}

// @ts-ignore: decorator
@inline export function expS(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0)
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3)
}

// ---------------------------------------------------------------------------------------------------------------
// micro-kernels

/**
 * Two rows by 16 columns: d{0,1}[0..16) = epilogue(s{0,1} + sum_k a{0,1}[k] * b[k*ldb .. +16]).
 * s = 0 starts from zero; bias = 0 adds none; res = 0 adds no residual (res may equal d: read before written).
 * a0 may equal a1 (and d0 = d1) to compute one row.
 */
export function tile2x16(
  a0: usize, a1: usize, b: usize, ldb: usize, kh: i32,
  s0: usize, s1: usize, d0: usize, d1: usize, bias: usize, gelu: bool, r0: usize, r1: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0)
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0)
  if (s0 != 0) {
    c00 = v128.load(s0); c01 = v128.load(s0, 16); c02 = v128.load(s0, 32); c03 = v128.load(s0, 48)
    c10 = v128.load(s1); c11 = v128.load(s1, 16); c12 = v128.load(s1, 32); c13 = v128.load(s1, 48)
  }
  for (let k = 0; k < kh; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16), b2 = v128.load(b, 32), b3 = v128.load(b, 48)
    const x0 = v128.load32_splat(a0)
    const x1 = v128.load32_splat(a1)
    c00 = madd(x0, b0, c00); c01 = madd(x0, b1, c01); c02 = madd(x0, b2, c02); c03 = madd(x0, b3, c03)
    c10 = madd(x1, b0, c10); c11 = madd(x1, b1, c11); c12 = madd(x1, b2, c12); c13 = madd(x1, b3, c13)
    a0 += 4; a1 += 4; b += ldb
  }
  if (bias != 0) {
    const v0 = v128.load(bias), v1 = v128.load(bias, 16), v2 = v128.load(bias, 32), v3 = v128.load(bias, 48)
    c00 = f32x4.add(c00, v0); c01 = f32x4.add(c01, v1); c02 = f32x4.add(c02, v2); c03 = f32x4.add(c03, v3)
    c10 = f32x4.add(c10, v0); c11 = f32x4.add(c11, v1); c12 = f32x4.add(c12, v2); c13 = f32x4.add(c13, v3)
  }
  if (gelu) {
    c00 = vgelu(c00); c01 = vgelu(c01); c02 = vgelu(c02); c03 = vgelu(c03)
    c10 = vgelu(c10); c11 = vgelu(c11); c12 = vgelu(c12); c13 = vgelu(c13)
  }
  if (r0 != 0) {
    c00 = f32x4.add(c00, v128.load(r0)); c01 = f32x4.add(c01, v128.load(r0, 16))
    c02 = f32x4.add(c02, v128.load(r0, 32)); c03 = f32x4.add(c03, v128.load(r0, 48))
    c10 = f32x4.add(c10, v128.load(r1)); c11 = f32x4.add(c11, v128.load(r1, 16))
    c12 = f32x4.add(c12, v128.load(r1, 32)); c13 = f32x4.add(c13, v128.load(r1, 48))
  }
  // Row 1 first: when a single row is computed (d0 == d1) both stores write the same values.
  v128.store(d1, c10); v128.store(d1, c11, 16); v128.store(d1, c12, 32); v128.store(d1, c13, 48)
  v128.store(d0, c00); v128.store(d0, c01, 16); v128.store(d0, c02, 32); v128.store(d0, c03, 48)
}

/**
 * The same for a narrow panel of w < 16 columns (the tail of N), one row, scalar: only the last panel of a layer
 * whose width is not a multiple of 16 comes here.
 */
export function tileNarrow(
  a: usize, b: usize, ldb: usize, kh: i32, w: i32,
  s: usize, d: usize, bias: usize, gelu: bool, r: usize,
): void {
  for (let j = 0; j < w; j++) {
    let acc: f32 = s != 0 ? load<f32>(s + (<usize>j << 2)) : 0
    let bp = b + (<usize>j << 2)
    for (let k = 0; k < kh; k++) {
      acc += load<f32>(a + (<usize>k << 2)) * load<f32>(bp)
      bp += ldb
    }
    if (bias != 0) acc += load<f32>(bias + (<usize>j << 2))
    if (gelu) acc = geluS(acc)
    if (r != 0) acc += load<f32>(r + (<usize>j << 2))
    store<f32>(d + (<usize>j << 2), acc)
  }
}

/**
 * C[M, N] = A[M, K] @ B[K, N] (C += A @ B when `accumulate`) for rows [m0, m1) and columns [n0, n1) with n0 a
 * multiple of 16, B given row-major with row stride ldb bytes (the attention kernels' K^T and V), no blocking over K.
 */
export function gemmRowMajorB(
  c: usize, ldc: usize, a: usize, lda: usize, b: usize, ldb: usize, m0: i32, m1: i32, n0: i32, n1: i32, K: i32,
  accumulate: bool = false,
): void {
  for (let n = n0; n < n1; n += NR) {
    const w = min(NR, n1 - n)
    const bp = b + (<usize>n << 2)
    for (let i = m0; i < m1; i += 2) {
      const i1 = i + 1 < m1 ? i + 1 : i
      const ap0 = a + <usize>i * lda, ap1 = a + <usize>i1 * lda
      const dp0 = c + <usize>i * ldc + (<usize>n << 2), dp1 = c + <usize>i1 * ldc + (<usize>n << 2)
      const sp0: usize = accumulate ? dp0 : 0, sp1: usize = accumulate ? dp1 : 0
      if (w == NR) {
        tile2x16(ap0, ap1, bp, ldb, K, sp0, sp1, dp0, dp1, 0, false, 0, 0)
      } else {
        tileNarrow(ap0, bp, ldb, K, w, sp0, dp0, 0, false, 0)
        if (i1 != i) tileNarrow(ap1, bp, ldb, K, w, sp1, dp1, 0, false, 0)
      }
    }
  }
}

/** Rows of P = softmax(S) in place over [T][ldT] floats, rows [0, T) each of length n. */
export function softmaxRows(s: usize, rows: i32, n: i32, lds: usize): void {
  const n4 = n & ~3
  for (let t = 0; t < rows; t++) {
    const row = s + <usize>t * lds
    let mv = f32x4.splat(-Infinity)
    for (let j = 0; j < n4; j += 4) mv = f32x4.max(mv, v128.load(row + (<usize>j << 2)))
    let mx = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)))
    for (let j = n4; j < n; j++) mx = max(mx, load<f32>(row + (<usize>j << 2)))
    const mxV = f32x4.splat(mx)
    let sv = f32x4.splat(0)
    for (let j = 0; j < n4; j += 4) {
      const e = vexp(f32x4.sub(v128.load(row + (<usize>j << 2)), mxV))
      v128.store(row + (<usize>j << 2), e)
      sv = f32x4.add(sv, e)
    }
    let sum = hsum(sv)
    for (let j = n4; j < n; j++) {
      const e = expS(load<f32>(row + (<usize>j << 2)) - mx)
      store<f32>(row + (<usize>j << 2), e)
      sum += e
    }
    const inv = f32x4.splat(<f32>1.0 / sum)
    for (let j = 0; j < n4; j += 4) v128.store(row + (<usize>j << 2), f32x4.mul(v128.load(row + (<usize>j << 2)), inv))
    const invS: f32 = <f32>1.0 / sum
    for (let j = n4; j < n; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) * invS)
  }
}
