/** Element types vitrine reads and writes, with the conversions to and from float32 (IEEE round-to-nearest-even). */

export type FloatDtype = 'F32' | 'F16' | 'BF16'

export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4, U64: 8,
}

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** Half-precision bits to float32 value (exact). */
export function f16ToF32(h: number): number {
  u32[0] = f16BitsToF32Bits(h)
  return f32[0]
}

/** IEEE half bits to single bits, exact (subnormal halves become normal singles; NaN payloads kept). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16
  const exp = (h >> 10) & 0x1f
  let mant = h & 0x3ff
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0
  if (mant === 0) return sign >>> 0
  let e = 113
  while ((mant & 0x400) === 0) {
    mant <<= 1
    e--
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0
}

/** float16 bits to float32 for all 65536 patterns, built on first use: widening is then one load per value. */
let f16Table: Float32Array | undefined

/** out[i] = halves[i] (float16 bits) as float32: the one bulk f16 widening (weights loading, conversion, export). */
export function widenF16(out: Float32Array, halves: Uint16Array): void {
  if (!f16Table) {
    f16Table = new Float32Array(65536)
    const u = new Uint32Array(f16Table.buffer)
    for (let h = 0; h < 65536; h++) u[h] = f16BitsToF32Bits(h)
  }
  const table = f16Table
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]]
}

/** out[i] = halves[i] (bfloat16 bits) as float32: bfloat16 is the high half of a float32, so a 16-bit shift. */
export function widenBf16(out: Float32Array, halves: Uint16Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length)
  for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16
}

/** Little-endian 16-bit values of `bytes` (a copy when `bytes` is not 2-byte aligned). */
export function uint16View(bytes: Uint8Array): Uint16Array {
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : new Uint8Array(bytes)
  return new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1)
}

/** float32 value to half-precision bits, rounding to nearest even (as numpy/PyTorch `.half()`). */
export function f32ToF16(value: number): number {
  f32[0] = value
  return f32BitsToF16(u32[0])
}

/** f32ToF16 on the float32's bit pattern (integer arithmetic only: the bulk converters use this). */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  let mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0) // inf or NaN (quiet)
  const e = exp - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00 // overflow to inf
  if (e <= 0) {
    // subnormal half (or zero): shift the mantissa with its implicit bit, round to nearest even
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    const half = 1 << (shift - 1)
    const rem = mant & ((1 << shift) - 1)
    let h = mant >>> shift
    if (rem > half || (rem === half && h & 1)) h++
    return sign | h
  }
  const rem = mant & 0x1fff
  let h = (e << 10) | (mant >>> 13)
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++ // may carry into the exponent, which is right (and to inf)
  return sign | h
}

/** bfloat16 bits to float32 value. */
export function bf16ToF32(b: number): number {
  u32[0] = b << 16
  return f32[0]
}

/** float32 value to bfloat16 bits, rounding to nearest even (as PyTorch `.bfloat16()`); NaN stays NaN. */
export function f32ToBf16(value: number): number {
  f32[0] = value
  return f32BitsToBf16(u32[0])
}

/** f32ToBf16 on the float32's bit pattern. */
export function f32BitsToBf16(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff
  const rounded = x + 0x7fff + ((x >>> 16) & 1)
  return (rounded >>> 16) & 0xffff
}

/** The safetensors dtype names of the float types, by the `--dtype` spelling users type. */
export const OUTPUT_DTYPES = {float32: 'F32', float16: 'F16', bfloat16: 'BF16'} as const satisfies Record<string, FloatDtype>
export type OutputDtypeName = keyof typeof OUTPUT_DTYPES
/** The `--dtype` spellings, for the command-line flag's choices. */
export const OUTPUT_DTYPE_NAMES = Object.keys(OUTPUT_DTYPES) as OutputDtypeName[]

/** True for the dtypes weights may come in (float32 is computed in; the others are widened or rounded to it). */
export function isFloatDtype(dtype: string): dtype is FloatDtype | 'F64' {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F64'
}

/**
 * Little-endian float bytes of `from` re-encoded as `to`. Same dtype: the bytes themselves (bit for bit, NaN payloads
 * included). Otherwise through float32: widening is exact; narrowing rounds to nearest even (F64 -> F32 as
 * Float32Array assignment does, F32 -> F16/BF16 as f32ToF16 / f32ToBf16).
 */
export function convertFloatBytes(bytes: Uint8Array, from: FloatDtype | 'F64', to: FloatDtype): Uint8Array {
  if (from === to) return bytes
  const n = bytes.length / DTYPE_BYTES[from]
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let values: Float32Array
  if (from === 'F32') {
    values = bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(new Uint8Array(bytes).buffer)
  } else {
    values = new Float32Array(n)
    if (from === 'F64') for (let i = 0; i < n; i++) values[i] = dv.getFloat64(8 * i, true)
    else if (from === 'F16') widenF16(values, uint16View(bytes))
    else widenBf16(values, uint16View(bytes))
  }
  if (to === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
  // Round from the bit patterns: integer work only, several times faster than going through float values.
  const bits = new Uint32Array(values.buffer, values.byteOffset, n)
  const out = new Uint16Array(n)
  if (to === 'F16') for (let i = 0; i < n; i++) out[i] = f32BitsToF16(bits[i])
  else for (let i = 0; i < n; i++) out[i] = f32BitsToBf16(bits[i])
  return new Uint8Array(out.buffer)
}
