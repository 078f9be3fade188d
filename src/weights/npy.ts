import type {FileHandle} from 'node:fs/promises'

import {InvalidInputError, previewValue} from '../core/errors.js'
import {DTYPE_BYTES} from './dtype.js'
import {PyDict, PyLiteralError, PyTuple, type PyValue, parsePythonLiteral} from './python-literal.js'
import {MAX_TENSOR_NAME_CHARS} from './safetensors.js'
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

/** numpy.lib.format reads no header longer than this (its max_header_size), unless told the file is trusted. */
export const NPY_MAX_HEADER_CHARS = 10_000

/**
 * The header dict of a .npy, read as numpy.lib.format's _read_array_header reads it: version 1.0, 2.0 or 3.0 only;
 * at most NPY_MAX_HEADER_CHARS characters; the text (latin-1, or UTF-8 for 3.0) a Python literal (ast.literal_eval,
 * here ./python-literal.ts; for 1.0 and 2.0, Python 2's `3L` integers are read as numpy reads them); a dict whose
 * keys are exactly descr, fortran_order and shape; shape a tuple of non-negative integers, fortran_order a bool,
 * descr a plain numeric dtype string. Everything numpy refuses is refused, naming the byte offset.
 */
export function parseNpyHeader(bytes: Uint8Array, where: string): NpyHeader {
  const size = npyHeaderSize(bytes, where)
  if (size > bytes.length) throw new InvalidInputError(`${where}: .npy header of ${size} bytes runs past the end (${bytes.length} bytes)`)
  const [major, minor] = [bytes[6], bytes[7]]
  if (minor !== 0) throw new InvalidInputError(`${where}: .npy format version ${major}.${minor} is not one numpy reads (1.0, 2.0 or 3.0)`)
  const start = major === 1 ? 10 : 12
  let text: string
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', {fatal: true}).decode(bytes.subarray(start, size))
  } catch {
    throw new InvalidInputError(`${where}: .npy header at byte offset ${start} is not UTF-8 text (format 3.0)`)
  }
  if (text.length > NPY_MAX_HEADER_CHARS) {
    throw new InvalidInputError(`${where}: .npy header of ${text.length} characters is longer than numpy reads (${NPY_MAX_HEADER_CHARS})`)
  }
  const bad = (what: string): never => {
    throw new InvalidInputError(`${where}: .npy header at byte offset ${start} is not an array header numpy reads: ${what}`)
  }
  let d: PyValue
  try {
    d = parsePythonLiteral(text.replace(/^[ \t]+/, ''))
  } catch (error) {
    if (!(error instanceof PyLiteralError)) throw error
    // numpy retries 1.0 and 2.0 headers with Python 2's long-integer suffix removed (its _filter_header).
    const py2 = major < 3 ? text.replace(/^[ \t]+/, '').replaceAll(/(?<=[0-9])L(?![A-Za-z0-9_])/g, '') : undefined
    try {
      if (py2 === undefined) throw error
      d = parsePythonLiteral(py2)
    } catch {
      return bad(`${error.message} (character ${error.offset})`)
    }
  }
  if (!(d instanceof PyDict)) return bad('not a dict')
  const keys = [...d.entries.keys()]
  const expected = ['descr', 'fortran_order', 'shape']
  if (keys.length !== 3 || !expected.every((k) => d.entries.has(k))) {
    return bad(`its keys must be exactly ${expected.join(', ')}; it has ${keys.map((k) => String(k).slice(0, 40)).join(', ') || 'none'}`)
  }
  const descr = d.entries.get('descr')
  const fortran = d.entries.get('fortran_order')
  const shape = d.entries.get('shape')
  if (!(shape instanceof PyTuple) || !shape.items.every((x) => typeof x === 'number' || typeof x === 'bigint')) return bad('shape is not a tuple of integers')
  const dims = shape.items as Array<number | bigint>
  if (!dims.every((x) => typeof x === 'number' && x >= 0)) return bad('shape holds a negative or huge dimension')
  if (typeof fortran !== 'boolean') return bad('fortran_order is not True or False')
  if (typeof descr !== 'string') return bad('descr is not a dtype string (structured arrays are not weights)')
  const m = /^([<>|=]?)([a-zA-Z]\d+)$/.exec(descr)
  const dtype = m ? NPY_KINDS[m[2]] : undefined
  if (!m || !dtype) throw new InvalidInputError(`${where}: unknown .npy dtype '${descr.slice(0, 40)}'`)
  return {
    dtype,
    shape: dims as number[],
    fortranOrder: fortran,
    bigEndian: m[1] === '>' && DTYPE_BYTES[dtype] > 1,
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
    if (name.length > MAX_TENSOR_NAME_CHARS) throw new InvalidInputError(`${file}: npz entry of a ${name.length}-character name (${previewValue(name)}), over the limit of ${MAX_TENSOR_NAME_CHARS}`, {file})
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
