import {describe, expect, it} from 'vitest'

import {convertFloatBytes, f32ToBf16, f32ToF16} from '../../src/weights/dtype.js'
import {gatherStrided, isContiguous, permuteAxes, transposeTiled} from '../../src/weights/strided.js'

const u8 = (a: ArrayLike<number>, T: Uint16ArrayConstructor | Uint32ArrayConstructor | Float64ArrayConstructor): Uint8Array => new Uint8Array(new T(a as number[]).buffer)

describe('strided gather and axis permutation', () => {
  it('permutes a 2x3 matrix and an OIHW <-> HWIO kernel exactly', () => {
    const m = u8([1, 2, 3, 4, 5, 6], Uint32Array)
    expect([...new Uint32Array(permuteAxes(m, 4, [2, 3], [1, 0]).buffer)]).toEqual([1, 4, 2, 5, 3, 6])
    // HWIO [h=2, w=1, i=1, o=2] -> OIHW [2, 1, 2, 1]: element (y, x, c, o) moves to (o, c, y, x).
    const hwio = u8([10, 11, 20, 21], Uint16Array) // (y0,o0)=10 (y0,o1)=11 (y1,o0)=20 (y1,o1)=21
    expect([...new Uint16Array(permuteAxes(hwio, 2, [2, 1, 1, 2], [3, 2, 0, 1]).buffer)]).toEqual([10, 20, 11, 21])
  })

  it('moves 8-byte elements whole and keeps NaN payloads (bytes are copied, not values)', () => {
    const src = new Uint8Array(16)
    new DataView(src.buffer).setUint32(0, 0x7fc00001, true) // a float32 NaN with a payload, inside an 8-byte element
    const out = gatherStrided(src, 8, 0, [2], [1])
    expect([...out]).toEqual([...src])
    expect([...new Uint16Array(gatherStrided(u8([5, 6, 7, 8], Uint16Array), 2, 1, [3], [1]).buffer)]).toEqual([6, 7, 8])
  })

  it('the tiled transpose equals the naive strided gather (odd sizes straddle the 32x32 tiles)', () => {
    for (const [rows, cols] of [[1, 1], [3, 70], [33, 65], [64, 32], [100, 7]]) {
      for (const elem of [2, 4] as const) {
        const src = new Uint8Array(rows * cols * elem).map((_, i) => (i * 131 + 7) & 0xff)
        expect(Buffer.from(transposeTiled(src, elem, rows, cols)).equals(Buffer.from(gatherStrided(src, elem, 0, [cols, rows], [1, cols]))), `${rows}x${cols}x${elem}`).toBe(true)
      }
    }
  })

  it('knows contiguous strides (size-1 axes are free)', () => {
    expect(isContiguous([2, 3], [3, 1])).toBe(true)
    expect(isContiguous([1, 3], [99, 1])).toBe(true)
    expect(isContiguous([3, 2], [1, 3])).toBe(false)
  })
})

describe('float16 / bfloat16 rounding (bit patterns computed with numpy and the PyTorch bfloat16 rule)', () => {
  // value f32 bits -> [f16 bits, bf16 bits]: ties to even, overflow to inf, subnormals, negative zero.
  const CASES: Array<[number, number, number]> = [
    [0x3f800000, 0x3c00, 0x3f80], // 1
    [0x477fe000, 0x7bff, 0x4780], // 65504, the largest half
    [0x477ff000, 0x7c00, 0x4780], // 65520: halfway to 65536, rounds to even = inf in half
    [0x3f801000, 0x3c00, 0x3f80], // 1 + 2^-11: tie, half keeps the even 1.0
    [0x3f803000, 0x3c02, 0x3f80], // 1 + 3*2^-11: tie, half rounds up to even
    [0x33800000, 0x0001, 0x3380], // 2^-24, the smallest half subnormal
    [0x33000000, 0x0000, 0x3300], // 2^-25: tie between 0 and 2^-24, to even 0
    [0x33400000, 0x0001, 0x3340], // 3*2^-26: above the tie, up
    [0x80000000, 0x8000, 0x8000], // -0
    [0x322bcc77, 0x0000, 0x322c], // 1e-8: underflows in half
    [0x40490fdb, 0x4248, 0x4049], // pi
    [0x3f808000, 0x3c04, 0x3f80], // 1 + 2^-8: bfloat16 tie to even
    [0x3f818000, 0x3c0c, 0x3f82], // 1 + 3*2^-8: bfloat16 tie rounds up to even
    [0x7f61b1e6, 0x7c00, 0x7f62], // 3e38: inf in half, finite in bfloat16
    [0xc0200000, 0xc100, 0xc020], // -2.5
  ]
  const asF32 = (bits: number): number => new Float32Array(new Uint32Array([bits]).buffer)[0]

  it.each(CASES)('f32 bits %s', (bits, f16, bf16) => {
    expect(f32ToF16(asF32(bits))).toBe(f16)
    expect(f32ToBf16(asF32(bits))).toBe(bf16)
  })

  it('convertFloatBytes re-encodes whole buffers the same way, and F64 rounds to the nearest float32', () => {
    const bytes = u8(CASES.map((c) => c[0]), Uint32Array)
    expect([...new Uint16Array(new Uint8Array(convertFloatBytes(bytes, 'F32', 'F16')).buffer)]).toEqual(CASES.map((c) => c[1]))
    expect([...new Uint16Array(new Uint8Array(convertFloatBytes(bytes, 'F32', 'BF16')).buffer)]).toEqual(CASES.map((c) => c[2]))
    expect(convertFloatBytes(bytes, 'F32', 'F32')).toBe(bytes)
    // 1 + 2^-24 is a float32 tie between 1 and 1 + 2^-23: to even, 1.
    const f64 = u8([1 + 2 ** -24, 1 + 3 * 2 ** -24, 0.1], Float64Array)
    expect([...new Uint32Array(new Uint8Array(convertFloatBytes(f64, 'F64', 'F32')).buffer)]).toEqual([0x3f800000, 0x3f800002, 0x3dcccccd])
    // Half to float32 is exact: 0xc100 is -2.5.
    expect([...new Float32Array(new Uint8Array(convertFloatBytes(u8([0xc100, 0x3c00], Uint16Array), 'F16', 'F32')).buffer)]).toEqual([-2.5, 1])
  })
})
