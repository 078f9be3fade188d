import type {FileHandle} from 'node:fs/promises'

import {InvalidInputError} from '../core/errors.js'
import {DTYPE_BYTES} from './dtype.js'
import type {Checkpoint, SourceTensor} from './source.js'
import {numel, permuteAxes} from './strided.js'
import {ZipReader} from './zip.js'

/**
 * numpy `.npy` arrays and `.npz` archives (a zip of `.npy` files, as `np.savez` writes Google's JAX ViT checkpoints).
 * A .npy is the magic `\x93NUMPY`, a version, a header length, a Python-literal dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, then the raw elements.
 */

export interface NpyHeader {
  /** safetensors dtype name. */
  dtype: string
  shape: number[]
  fortranOrder: boolean
  /** The elements are big-endian and must be byte-swapped. */
  bigEndian: boolean
  /** Byte offset of the data from the start of the .npy. */
  dataOffset: number
}

const NPY_KINDS: Readonly<Record<string, string>> = {
  f2: 'F16', f4: 'F32', f8: 'F64', i1: 'I8', i2: 'I16', i4: 'I32', i8: 'I64', u1: 'U8', u2: 'U16', u4: 'U32', u8: 'U64', b1: 'BOOL',
}

/** Bytes needed to know the header's length (magic 6 + version 2 + length 2 or 4). */
export const NPY_PREAMBLE = 12

/** Total header size from the first NPY_PREAMBLE bytes. */
export function npyHeaderSize(pre: Uint8Array, where: string): number {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]
  if (pre.length < 10 || !magic.every((b, i) => pre[i] === b)) throw new InvalidInputError(`${where}: not a .npy array (no \\x93NUMPY magic at byte offset 0)`)
  const major = pre[6]
  const dv = new DataView(pre.buffer, pre.byteOffset, pre.byteLength)
  if (major === 1) return 10 + dv.getUint16(8, true)
  if (major === 2 || major === 3) {
    if (pre.length < 12) throw new InvalidInputError(`${where}: truncated .npy header`)
    return 12 + dv.getUint32(8, true)
  }
  throw new InvalidInputError(`${where}: .npy format version ${major} is not supported`)
}

export function parseNpyHeader(bytes: Uint8Array, where: string): NpyHeader {
  const size = npyHeaderSize(bytes, where)
  if (size > bytes.length) throw new InvalidInputError(`${where}: .npy header of ${size} bytes runs past the end (${bytes.length} bytes)`)
  const text = new TextDecoder('latin1').decode(bytes.subarray(bytes[6] === 1 ? 10 : 12, size))
  const descr = /['"]descr['"]\s*:\s*['"]([<>|=])([a-zA-Z]\d+)['"]/.exec(text)
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)
  if (!descr || !fortran || !shapeM) throw new InvalidInputError(`${where}: .npy header at byte offset ${bytes[6] === 1 ? 10 : 12} is not a plain array header: ${text.trim().slice(0, 120)}`)
  const dtype = NPY_KINDS[descr[2]]
  if (!dtype) throw new InvalidInputError(`${where}: unknown .npy dtype '${descr[1]}${descr[2]}'`)
  const dims = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length)
  if (!dims.every((d) => /^\d+L?$/.test(d))) throw new InvalidInputError(`${where}: .npy shape (${shapeM[1]}) is not a tuple of integers`)
  return {
    dtype,
    shape: dims.map((d) => Number.parseInt(d, 10)),
    fortranOrder: fortran[1] === 'True',
    bigEndian: descr[1] === '>' && DTYPE_BYTES[dtype] > 1,
    dataOffset: size,
  }
}

/** Row-major little-endian elements from a .npy's data bytes. */
export function npyToRowMajor(data: Uint8Array, h: NpyHeader): Uint8Array {
  const elem = DTYPE_BYTES[h.dtype]
  let out = data
  if (h.bigEndian) {
    out = new Uint8Array(data) // a copy: Buffer.slice would be a view
    for (let i = 0; i < out.length; i += elem) out.subarray(i, i + elem).reverse()
  }
  if (h.fortranOrder && h.shape.length > 1) {
    // Fortran order of shape S is row-major order of S reversed; reversing the axes back gives row-major S.
    const reversed = [...h.shape].reverse()
    out = permuteAxes(out, elem, reversed, reversed.map((_, i) => reversed.length - 1 - i))
  }
  return out
}

export async function readNpz(fh: FileHandle, file: string): Promise<Checkpoint> {
  const zip = await ZipReader.open(fh, file)
  const tensors = new Map<string, SourceTensor>()
  for (const entry of zip.entries.values()) {
    if (entry.name.endsWith('/')) continue
    const where = `${file}: npz entry '${entry.name}'`
    if (!entry.name.endsWith('.npy')) throw new InvalidInputError(`${where} is not a .npy array`, {file})
    // Only the header now: stored entries are read in place, deflated ones inflated only as far as the header.
    const pre = await zip.readRange(entry, 0, Math.min(entry.size, NPY_PREAMBLE))
    const size = npyHeaderSize(pre, where)
    if (size > entry.size) throw new InvalidInputError(`${where}: .npy header of ${size} bytes is longer than the entry (${entry.size} bytes)`, {file})
    const head = await zip.readRange(entry, 0, size)
    const h = parseNpyHeader(head, where)
    const bytes = numel(h.shape) * DTYPE_BYTES[h.dtype]
    if (entry.size - h.dataOffset !== bytes) {
      throw new InvalidInputError(`${where}: ${h.dtype}[${h.shape.join(', ')}] needs ${bytes} bytes of data but the entry holds ${entry.size - h.dataOffset} after its ${h.dataOffset}-byte header`, {file})
    }
    const name = entry.name.slice(0, -'.npy'.length)
    tensors.set(name, {
      name,
      dtype: h.dtype,
      shape: h.shape,
      location: `zip entry '${entry.name}'`,
      async read() {
        const data = await zip.readRange(entry, h.dataOffset, bytes)
        return npyToRowMajor(data, h)
      },
    })
  }
  return {container: 'npz', file, tensors, close: () => fh.close()}
}
