import type {FileHandle} from 'node:fs/promises'

import {InvalidInputError, previewValue} from '../core/errors.js'
import {openOrUsage} from '../core/fs.js'
import {parseJsonText, readUserFile} from '../core/user-file.js'
import {DTYPE_BYTES, uint16View, widenBf16, widenF16} from './dtype.js'

/**
 * Hugging Face safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`), then the tensor bytes, offsets
 * relative to the end of the header. Every offset and size is checked before a byte is trusted.
 */

export interface TensorInfo {
  name: string
  dtype: string
  shape: number[]
  /** Byte offsets relative to the start of the data section. */
  begin: number
  end: number
}

export interface SafetensorsHeader {
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number
  /** Tensors in file order (by offset). */
  tensors: TensorInfo[]
  metadata: Record<string, string>
}

/** Headers larger than this are refused before parsing (the Rust reference uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000
/** Tensor names real checkpoints use are under 200 characters; a longer one is refused, never printed whole. */
export const MAX_TENSOR_NAME_CHARS = 1024
/** No weight of an image model has more dimensions than this (a longer shape is refused, not printed). */
export const MAX_TENSOR_DIMS = 8

function fail(file: string, message: string): never {
  throw new InvalidInputError(`${file}: ${message}`, {file})
}

/**
 * Parses and checks the header. `head` holds at least the first 8 + N bytes of the file; `fileSize` is the whole
 * file's size.
 */
export function parseSafetensorsHeader(head: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  if (fileSize < 8 || head.length < 8) fail(file, `truncated safetensors: ${fileSize} bytes, the 8-byte header length is missing (byte offset 0)`)
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  const n = Number(view.getBigUint64(0, true))
  if (n > MAX_HEADER_BYTES) fail(file, `header length ${n} at byte offset 0 is over the ${MAX_HEADER_BYTES}-byte limit`)
  if (8 + n > fileSize) fail(file, `header length ${n} at byte offset 0 runs past the end of the file (${fileSize} bytes)`)
  if (head.length < 8 + n) fail(file, `internal: header bytes not read`)
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(head.subarray(8, 8 + n))
  } catch {
    fail(file, 'header at byte offset 8 is not valid UTF-8')
  }
  const json = parseJsonText(text, `${file}: header at byte offset 8`, {file})
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, 'header at byte offset 8 is not a JSON object')
  const dataStart = 8 + n
  const dataSize = fileSize - dataStart
  const metadata: Record<string, string> = {}
  const tensors: TensorInfo[] = []
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name.length > MAX_TENSOR_NAME_CHARS) fail(file, `header at byte offset 8 names a tensor of ${name.length} characters (${previewValue(name)}), over the limit of ${MAX_TENSOR_NAME_CHARS}`)
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(file, '__metadata__ must be an object of strings')
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(file, `__metadata__.${k} must be a string`)
        metadata[k] = v
      }
      continue
    }
    const t = value as {dtype?: unknown; shape?: unknown; data_offsets?: unknown}
    if (typeof t !== 'object' || t === null) fail(file, `tensor '${name}': entry is not an object`)
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BYTES)) fail(file, `tensor '${name}': unknown dtype ${previewValue(t.dtype)}`)
    if (!Array.isArray(t.shape) || t.shape.length > MAX_TENSOR_DIMS || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(file, `tensor '${name}': shape must be a list of at most ${MAX_TENSOR_DIMS} non-negative integers`)
    const offs = t.data_offsets
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(file, `tensor '${name}': data_offsets must be [begin, end]`)
    const [begin, end] = offs as [number, number]
    if (end < begin) fail(file, `tensor '${name}': data_offsets [${begin}, ${end}] end before begin`)
    if (end > dataSize) fail(file, `tensor '${name}': data_offsets [${begin}, ${end}] run past the end of the file (data section is ${dataSize} bytes, starting at byte offset ${dataStart})`)
    const shape = t.shape as number[]
    const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype]
    if (end - begin !== expected) fail(file, `tensor '${name}': ${t.dtype}${JSON.stringify(shape)} needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`)
    tensors.push({name, dtype: t.dtype, shape, begin, end})
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end)
  let cursor = 0
  for (const t of tensors) {
    if (t.begin < cursor) fail(file, `tensor '${t.name}': data_offsets [${t.begin}, ${t.end}] overlap the previous tensor (which ends at ${cursor})`)
    if (t.begin > cursor) fail(file, `tensor '${t.name}': gap in the data section at data offset ${cursor} (byte offset ${dataStart + cursor})`)
    cursor = t.end
  }
  if (cursor !== dataSize) fail(file, `the data section holds ${dataSize} bytes but the tensors cover ${cursor}: trailing bytes at byte offset ${dataStart + cursor}`)
  return {dataStart, tensors, metadata}
}

/** Reads and checks only the header of a safetensors file (cheap, for large files). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const fh = await openOrUsage(path)
  try {
    return await readSafetensorsHeaderFrom(fh, path)
  } finally {
    await fh.close()
  }
}

/** readSafetensorsHeader on a file the caller has open (and keeps open to read the tensors). */
export async function readSafetensorsHeaderFrom(fh: FileHandle, path: string): Promise<SafetensorsHeader> {
  const {size} = await fh.stat()
  const first = Buffer.alloc(8)
  await fh.read(first, 0, Math.min(8, size), 0)
  const n = size >= 8 ? Number(first.readBigUInt64LE(0)) : 0
  const headLen = size >= 8 && n <= MAX_HEADER_BYTES && 8 + n <= size ? 8 + n : Math.min(size, 8)
  const head = Buffer.alloc(headLen)
  await fh.read(head, 0, headLen, 0)
  return parseSafetensorsHeader(head, size, path)
}

export interface SafetensorsFile {
  header: SafetensorsHeader
  /** The whole file. Tensor i's bytes are bytes.subarray(dataStart + begin, dataStart + end). */
  bytes: Uint8Array
}

/** Reads a whole safetensors file into memory and checks it. */
export async function loadSafetensors(path: string): Promise<SafetensorsFile> {
  const bytes = await readUserFile(path)
  return {header: parseSafetensorsHeader(bytes, bytes.length, path), bytes}
}

/** A tensor's bytes (a view, no copy). */
export function tensorBytes(file: SafetensorsFile, t: TensorInfo): Uint8Array {
  return file.bytes.subarray(file.header.dataStart + t.begin, file.header.dataStart + t.end)
}

/**
 * A tensor as float32 values. F32 data that is 4-byte aligned in memory is returned as a view (no copy); F16 and
 * BF16 are widened; other dtypes are refused.
 */
export function tensorToFloat32(bytes: Uint8Array, dtype: string, name: string, file: string): Float32Array {
  const n = bytes.length / (DTYPE_BYTES[dtype] ?? 1)
  if (dtype === 'F32') {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n)
    return new Float32Array(new Uint8Array(bytes).buffer, 0, n) // a copy (Buffer.slice would be a view)
  }
  if (dtype === 'F16' || dtype === 'BF16') {
    const out = new Float32Array(n)
    if (dtype === 'F16') widenF16(out, uint16View(bytes))
    else widenBf16(out, uint16View(bytes))
    return out
  }
  throw new InvalidInputError(`${file}: tensor '${name}' has dtype ${dtype}; vitrine computes in float32 and reads F32, F16 or BF16 weights`, {file})
}

/** The header bytes (length prefix + JSON padded with spaces to a multiple of 8) for tensors laid out in order. */
export function serializeSafetensorsHeader(
  tensors: ReadonlyArray<{name: string; dtype: string; shape: number[]}>,
  metadata?: Record<string, string>,
): {head: Uint8Array; offsets: Array<[number, number]>} {
  const obj: Record<string, unknown> = {}
  if (metadata && Object.keys(metadata).length) obj.__metadata__ = metadata
  const offsets: Array<[number, number]> = []
  let cursor = 0
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype]
    offsets.push([cursor, cursor + size])
    obj[t.name] = {dtype: t.dtype, shape: t.shape, data_offsets: [cursor, cursor + size]}
    cursor += size
  }
  let json = JSON.stringify(obj)
  const pad = (8 - ((Buffer.byteLength(json) + 8) % 8)) % 8
  json += ' '.repeat(pad)
  const jsonBytes = Buffer.from(json, 'utf8')
  const head = Buffer.alloc(8 + jsonBytes.length)
  head.writeBigUInt64LE(BigInt(jsonBytes.length), 0)
  jsonBytes.copy(head, 8)
  return {head, offsets}
}
