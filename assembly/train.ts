// The training kernels' WebAssembly side (re-exported by kernels.ts; driven by src/engine/wasm/train.ts, whose
// TypeScript twins are src/engine/kernels/backward.ts). The three products of a linear layer's forward and backward
// all run on kernels.ts's blocked `linear` kernel: these kernels only lay the operands out for it (packPanels,
// transposeSum). The rest are the element-wise and per-row backward kernels and attention's backward.
// Conventions as kernels.ts: pointers are byte offsets, shapes element counts, `tid, nth` last, no allocation.

import {NR, gemmRowMajorB, hsum, madd, split, vexp, verf} from './simd'

/**
 * Packs a matrix into `linear`'s 16-column panels at `dst` (J x R floats): element (j, r) of the matrix, j the
 * output column and r the reduction index, is read at src + 4 (j sj + r sk); panel p holds columns [16p, 16p + w)
 * as [R][w] (w = 16 but for the last panel). sj = R, sk = 1 packs an nn.Linear weight [J, R] as packLinear does;
 * sj = 1, sk = J packs a row-major [R, J] matrix (a weight read transposed, an activation). Threads split the panels.
 */
export function packPanels(dst: usize, src: usize, J: i32, R: i32, sj: i32, sk: i32, tid: i32, nth: i32): void {
  const panels = (J + NR - 1) / NR
  const p0 = split(panels, tid, nth), p1 = split(panels, tid + 1, nth)
  const sjB = <usize>sj << 2, skB = <usize>sk << 2
  for (let p = p0; p < p1; p++) {
    const j0 = p * NR
    const w = min(NR, J - j0)
    const base = dst + ((<usize>j0 * <usize>R) << 2)
    if (sj == 1 && w == NR) {
      // each reduction row's 16 columns are contiguous in the source
      let s = src + (<usize>j0 << 2)
      let d = base
      for (let r = 0; r < R; r++) {
        v128.store(d, v128.load(s))
        v128.store(d, v128.load(s, 16), 16)
        v128.store(d, v128.load(s, 32), 32)
        v128.store(d, v128.load(s, 48), 48)
        s += skB
        d += 64
      }
    } else {
      const step = <usize>w << 2
      for (let j = 0; j < w; j++) {
        let s = src + <usize>(j0 + j) * sjB
        let d = base + (<usize>j << 2)
        for (let r = 0; r < R; r++) {
          store<f32>(d, load<f32>(s))
          s += skB
          d += step
        }
      }
    }
  }
}

/**
 * dst[N, M] = src[M, N]^T, and bias[N] += the column sums of src when `bias` is not 0 (a linear layer's dbias from
 * its dout). Threads split the columns in blocks of 16.
 */
export function transposeSum(dst: usize, src: usize, M: i32, N: i32, bias: usize, tid: i32, nth: i32): void {
  const blocks = (N + NR - 1) / NR
  const b0 = split(blocks, tid, nth), b1 = split(blocks, tid + 1, nth)
  const ldd = <usize>M << 2
  const lds = <usize>N << 2
  for (let blk = b0; blk < b1; blk++) {
    const n0 = blk * NR
    const w = min(NR, N - n0)
    if (w == NR) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0)
      let s = src + (<usize>n0 << 2)
      const d = dst + <usize>n0 * ldd
      for (let m = 0; m < M; m++) {
        const v0 = v128.load(s), v1 = v128.load(s, 16), v2 = v128.load(s, 32), v3 = v128.load(s, 48)
        s0 = f32x4.add(s0, v0); s1 = f32x4.add(s1, v1); s2 = f32x4.add(s2, v2); s3 = f32x4.add(s3, v3)
        const o = d + (<usize>m << 2)
        store<f32>(o, f32x4.extract_lane(v0, 0)); store<f32>(o + ldd, f32x4.extract_lane(v0, 1))
        store<f32>(o + 2 * ldd, f32x4.extract_lane(v0, 2)); store<f32>(o + 3 * ldd, f32x4.extract_lane(v0, 3))
        store<f32>(o + 4 * ldd, f32x4.extract_lane(v1, 0)); store<f32>(o + 5 * ldd, f32x4.extract_lane(v1, 1))
        store<f32>(o + 6 * ldd, f32x4.extract_lane(v1, 2)); store<f32>(o + 7 * ldd, f32x4.extract_lane(v1, 3))
        store<f32>(o + 8 * ldd, f32x4.extract_lane(v2, 0)); store<f32>(o + 9 * ldd, f32x4.extract_lane(v2, 1))
        store<f32>(o + 10 * ldd, f32x4.extract_lane(v2, 2)); store<f32>(o + 11 * ldd, f32x4.extract_lane(v2, 3))
        store<f32>(o + 12 * ldd, f32x4.extract_lane(v3, 0)); store<f32>(o + 13 * ldd, f32x4.extract_lane(v3, 1))
        store<f32>(o + 14 * ldd, f32x4.extract_lane(v3, 2)); store<f32>(o + 15 * ldd, f32x4.extract_lane(v3, 3))
        s += lds
      }
      if (bias != 0) {
        const bp = bias + (<usize>n0 << 2)
        v128.store(bp, f32x4.add(v128.load(bp), s0))
        v128.store(bp, f32x4.add(v128.load(bp, 16), s1), 16)
        v128.store(bp, f32x4.add(v128.load(bp, 32), s2), 32)
        v128.store(bp, f32x4.add(v128.load(bp, 48), s3), 48)
      }
    } else {
      for (let j = 0; j < w; j++) {
        let sum: f32 = 0
        let s = src + (<usize>(n0 + j) << 2)
        const d = dst + <usize>(n0 + j) * ldd
        for (let m = 0; m < M; m++) {
          const x = load<f32>(s)
          sum += x
          store<f32>(d + (<usize>m << 2), x)
          s += lds
        }
        if (bias != 0) {
          const bp = bias + (<usize>(n0 + j) << 2)
          store<f32>(bp, load<f32>(bp) + sum)
        }
      }
    }
  }
}

/** dinp[n] += dout[n] * gelu'(inp[n]), gelu'(x) = Phi(x) + x phi(x) (the exact erf form); threads split the range. */
export function geluBackward(dinp: usize, inp: usize, dout: usize, n: i32, tid: i32, nth: i32): void {
  const i0 = split(n >> 2, tid, nth) << 2
  const i1 = tid + 1 == nth ? n : split(n >> 2, tid + 1, nth) << 2
  const n4 = min(i1, n & ~3)
  for (let i = i0; i < n4; i += 4) {
    const o = <usize>i << 2
    v128.store(dinp + o, madd(v128.load(dout + o), vgeluGrad(v128.load(inp + o)), v128.load(dinp + o)))
  }
  for (let i = max(i0, n & ~3); i < i1; i++) {
    const o = <usize>i << 2
    const g = f32x4.extract_lane(vgeluGrad(f32x4.splat(load<f32>(inp + o))), 0)
    store<f32>(dinp + o, load<f32>(dinp + o) + load<f32>(dout + o) * g)
  }
}

// @ts-ignore: decorator
@inline function vgeluGrad(x: v128): v128 {
  const cdf = f32x4.mul(f32x4.splat(0.5), f32x4.add(f32x4.splat(1.0), verf(f32x4.mul(x, f32x4.splat(0.7071067811865476)))))
  const pdf = f32x4.mul(f32x4.splat(0.3989422804014327), vexp(f32x4.mul(f32x4.splat(-0.5), f32x4.mul(x, x))))
  return madd(x, pdf, cdf)
}

/**
 * dinp[M, C] += d layernorm / d inp; each thread adds its rows' dgamma[C] and dbeta[C] to its own block of
 * `partials` (nth blocks of 2C floats: dgamma then dbeta, zeroed here), which the caller sums. With
 * xhat = (inp - mean) rstd and g = dout gamma: dinp += rstd (g - mean(g) - xhat mean(g xhat)). Threads split the rows.
 */
export function layerNormBackward(
  dinp: usize, partials: usize, dout: usize, inp: usize, gamma: usize, mean: usize, rstd: usize, M: i32, C: i32, tid: i32, nth: i32,
): void {
  const r0 = split(M, tid, nth), r1 = split(M, tid + 1, nth)
  const pg = partials + ((<usize>tid * <usize>C * 2) << 2)
  const pb = pg + (<usize>C << 2)
  memory.fill(pg, 0, (<usize>C * 2) << 2)
  const C4 = C & ~3
  const invC: f32 = 1.0 / <f32>C
  for (let m = r0; m < r1; m++) {
    const x = inp + ((<usize>m * <usize>C) << 2)
    const d = dout + ((<usize>m * <usize>C) << 2)
    const di = dinp + ((<usize>m * <usize>C) << 2)
    const mu: f32 = load<f32>(mean + (<usize>m << 2))
    const r: f32 = load<f32>(rstd + (<usize>m << 2))
    const muV = f32x4.splat(mu), rV = f32x4.splat(r)
    let gv = f32x4.splat(0), gxv = f32x4.splat(0)
    for (let c = 0; c < C4; c += 4) {
      const o = <usize>c << 2
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + o), muV), rV)
      const g = f32x4.mul(v128.load(d + o), v128.load(gamma + o))
      gv = f32x4.add(gv, g)
      gxv = madd(g, xhat, gxv)
    }
    let gs = hsum(gv), gxs = hsum(gxv)
    for (let c = C4; c < C; c++) {
      const o = <usize>c << 2
      const g = load<f32>(d + o) * load<f32>(gamma + o)
      gs += g
      gxs += g * (load<f32>(x + o) - mu) * r
    }
    const gMean = gs * invC, gxMean = gxs * invC
    const gMeanV = f32x4.splat(gMean), gxMeanV = f32x4.splat(gxMean)
    for (let c = 0; c < C4; c += 4) {
      const o = <usize>c << 2
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + o), muV), rV)
      const dv = v128.load(d + o)
      v128.store(pb + o, f32x4.add(v128.load(pb + o), dv))
      v128.store(pg + o, madd(dv, xhat, v128.load(pg + o)))
      const t = f32x4.sub(f32x4.sub(f32x4.mul(dv, v128.load(gamma + o)), gMeanV), f32x4.mul(xhat, gxMeanV))
      v128.store(di + o, madd(rV, t, v128.load(di + o)))
    }
    for (let c = C4; c < C; c++) {
      const o = <usize>c << 2
      const xhat = (load<f32>(x + o) - mu) * r
      const dv = load<f32>(d + o)
      store<f32>(pb + o, load<f32>(pb + o) + dv)
      store<f32>(pg + o, load<f32>(pg + o) + dv * xhat)
      store<f32>(di + o, load<f32>(di + o) + r * (dv * load<f32>(gamma + o) - gMean - xhat * gxMean))
    }
  }
}

/**
 * Floats of per-thread scratch `attentionBackward` needs: V^T [hs][T16], dP then dS [T][T16], and a transposed
 * [T][T16] (dS^T, then P^T); T16 = T rounded up to 16.
 */
export function attentionBackwardScratch(T: i32, C: i32, NH: i32): i32 {
  const T16 = (T + 15) & ~15
  return (C / NH) * T16 + 2 * T * T16
}

/** dst[j][i] = src[i][j] for i, j < T (row strides in bytes). */
function transposeSquare(dst: usize, ldd: usize, src: usize, lds: usize, T: i32): void {
  for (let i = 0; i < T; i++) {
    const s = src + <usize>i * lds
    for (let j = 0; j < T; j++) store<f32>(dst + <usize>j * ldd + (<usize>i << 2), load<f32>(s + (<usize>j << 2)))
  }
}

/**
 * dqkv[B, T, 3C] += d attention / d qkv, from dout[B, T, C], qkv and the probabilities att[B, NH, T, T] the forward
 * kept (attentionKeep). Per (batch, head), with P the probabilities and s = 1/sqrt(hs):
 * dP = dO V^T; dS = P (dP - rowsum(P dP)) s; dQ += dS K; dK += dS^T Q; dV += P^T dO — every product on the 2x16
 * micro-kernel. Threads take (batch, head) pairs from `counter` (an i32 the caller zeroes); each pair writes only
 * its own head's slice of dqkv. `scratch`: nth blocks of attentionBackwardScratch(T, C, NH) floats.
 */
export function attentionBackward(
  dqkv: usize, dout: usize, qkv: usize, att: usize, scratch: usize, B: i32, T: i32, C: i32, NH: i32, counter: usize, tid: i32, nth: i32,
): void {
  const hs = C / NH
  const T16 = (T + 15) & ~15
  const vt = scratch + ((<usize>attentionBackwardScratch(T, C, NH) * <usize>tid) << 2)
  const ds = vt + ((<usize>hs * <usize>T16) << 2)
  const tr = ds + ((<usize>T * <usize>T16) << 2)
  const scale: f32 = 1.0 / Mathf.sqrt(<f32>hs)
  const ld3 = (<usize>C * 3) << 2
  const ldC = <usize>C << 2
  const ldT = <usize>T16 << 2
  const ldP = <usize>T << 2
  const jobs = B * NH
  for (;;) {
    const job = atomic.add<i32>(counter, 1)
    if (job >= jobs) break
    const b = job / NH, h = job % NH
    const off = (<usize>b * <usize>T * <usize>C * 3 + <usize>h * <usize>hs) << 2
    const q = qkv + off, k = q + ldC, v = q + 2 * ldC
    const dq = dqkv + off, dk = dq + ldC, dv = dq + 2 * ldC
    const dO = dout + ((<usize>b * <usize>T * <usize>C + <usize>h * <usize>hs) << 2)
    const P = att + ((<usize>job * <usize>T * <usize>T) << 2)
    // V^T [hs][T16], padding columns zero, so dP's padding columns are zero
    for (let t = 0; t < T; t++) {
      const vr = v + <usize>t * ld3
      for (let i = 0; i < hs; i++) store<f32>(vt + <usize>i * ldT + (<usize>t << 2), load<f32>(vr + (<usize>i << 2)))
    }
    if (T16 > T) for (let i = 0; i < hs; i++) memory.fill(vt + <usize>i * ldT + (<usize>T << 2), 0, <usize>(T16 - T) << 2)
    gemmRowMajorB(ds, ldT, dO, ldC, vt, ldT, 0, T, 0, T16, hs)
    // softmax backward, in place: dS = P (dP - sum_j P dP) s
    for (let t = 0; t < T; t++) {
      const pr = P + <usize>t * ldP
      const dr = ds + <usize>t * ldT
      let pdp: f32 = 0
      for (let j = 0; j < T; j++) pdp += load<f32>(pr + (<usize>j << 2)) * load<f32>(dr + (<usize>j << 2))
      for (let j = 0; j < T; j++) {
        const o = <usize>j << 2
        store<f32>(dr + o, load<f32>(pr + o) * (load<f32>(dr + o) - pdp) * scale)
      }
    }
    gemmRowMajorB(dq, ld3, ds, ldT, k, ld3, 0, T, 0, hs, T, true)
    transposeSquare(tr, ldT, ds, ldT, T)
    gemmRowMajorB(dk, ld3, tr, ldT, q, ld3, 0, T, 0, hs, T, true)
    transposeSquare(tr, ldT, P, ldP, T)
    gemmRowMajorB(dv, ld3, tr, ldT, dO, ldC, 0, T, 0, hs, T, true)
  }
}
