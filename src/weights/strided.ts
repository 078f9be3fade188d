/**
 * Moving tensor elements between layouts without looking at their values: a strided gather (torch views, Fortran-
 * order numpy arrays) and an axis permutation (JAX's HWIO kernels and [in, out] matrices to PyTorch's OIHW and
 * [out, in]). Elements are copied as raw bytes (through 8/16/32-bit integer views), so the result is bit-exact for
 * any dtype.
 */

/** Number of elements of a shape (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** Row-major (C order) strides of a shape, in elements. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length)
  let s = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s
    s *= shape[i]
  }
  return strides
}

/** True when a strided view walks memory in row-major order without gaps (size-1 axes may have any stride). */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let s = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false
    s *= shape[i]
  }
  return true
}

type Elements = Uint8Array | Uint16Array | Uint32Array

function elementView(bytes: Uint8Array, elemSize: 1 | 2 | 4): Elements {
  const aligned = bytes.byteOffset % elemSize === 0 ? bytes : new Uint8Array(bytes) // a copy at offset 0 (Buffer.slice would be a view)
  if (elemSize === 1) return aligned
  if (elemSize === 2) return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2)
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4)
}

/**
 * out[i0, ..., ik] = src[offset + i0*strides[0] + ... + ik*strides[k]]; out is row-major of `shape`.
 * `src` holds elements of `elemSize` bytes; offset and strides count elements.
 */
export function gatherStrided(
  src: Uint8Array, elemSize: number, offset: number, shape: readonly number[], strides: readonly number[],
): Uint8Array {
  // 8-byte elements move as two 4-byte words: one more axis of 2 words with stride 1.
  if (elemSize === 8) return gatherStrided(src, 4, offset * 2, [...shape, 2], [...strides.map((s) => s * 2), 1])
  if (elemSize !== 1 && elemSize !== 2 && elemSize !== 4) throw new Error(`element size ${elemSize} is not supported`)
  const n = numel(shape)
  const from = elementView(src, elemSize)
  const out = elementView(new Uint8Array(n * elemSize), elemSize)
  if (n === 0) return new Uint8Array(out.buffer)
  const rank = shape.length
  if (rank === 0) {
    out[0] = from[offset]
    return new Uint8Array(out.buffer)
  }
  const last = shape[rank - 1]
  const lastStride = strides[rank - 1]
  const index = new Array<number>(rank).fill(0)
  let base = offset
  let o = 0
  for (;;) {
    for (let j = 0, p = base; j < last; j++, p += lastStride) out[o++] = from[p]
    // odometer over the outer axes
    let axis = rank - 2
    while (axis >= 0) {
      index[axis]++
      base += strides[axis]
      if (index[axis] < shape[axis]) break
      base -= strides[axis] * shape[axis]
      index[axis] = 0
      axis--
    }
    if (axis < 0) break
  }
  return new Uint8Array(out.buffer)
}

/**
 * out[j, i] = src[i, j] for a row-major [rows, cols] matrix, in 32x32 tiles so both sides stay in cache.
 * The reference is gatherStrided with strides [1, cols] (tested equal).
 */
export function transposeTiled(src: Uint8Array, elemSize: 2 | 4, rows: number, cols: number): Uint8Array {
  const from = elementView(src, elemSize)
  const out = elementView(new Uint8Array(rows * cols * elemSize), elemSize)
  const B = 32
  for (let i0 = 0; i0 < rows; i0 += B) {
    const iEnd = Math.min(i0 + B, rows)
    for (let j0 = 0; j0 < cols; j0 += B) {
      const jEnd = Math.min(j0 + B, cols)
      for (let i = i0; i < iEnd; i++) {
        for (let j = j0, p = i * cols + j0; j < jEnd; j++, p++) out[j * rows + i] = from[p]
      }
    }
  }
  return new Uint8Array(out.buffer)
}

/** A row-major tensor with its axes permuted: out.shape[k] = shape[perm[k]]. */
export function permuteAxes(src: Uint8Array, elemSize: number, shape: readonly number[], perm: readonly number[]): Uint8Array {
  if (shape.length === 2 && perm[0] === 1 && perm[1] === 0 && (elemSize === 2 || elemSize === 4)) return transposeTiled(src, elemSize, shape[0], shape[1])
  const strides = contiguousStrides(shape)
  return gatherStrided(src, elemSize, 0, perm.map((p) => shape[p]), perm.map((p) => strides[p]))
}

/**
 * Whether a strided view may reach one storage element twice (a stride of 0 on a dimension longer than 1, or strides
 * too small for the sizes). Such a view, expanded, would be bigger than its storage: a 4 KB file whose stride-0
 * tensors become a gigabyte of output. Checked on the dimensions sorted by stride: each stride must step past
 * everything the smaller ones reach.
 */
export function viewOverlaps(shape: readonly number[], strides: readonly number[]): boolean {
  const dims = shape.map((size, i) => ({size, stride: strides[i]})).filter((d) => d.size > 1)
  dims.sort((a, b) => a.stride - b.stride)
  let reach = 0 // the largest offset the dimensions so far reach
  for (const d of dims) {
    if (d.stride <= reach) return true
    reach += (d.size - 1) * d.stride
  }
  return false
}
