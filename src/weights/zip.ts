import type {FileHandle} from 'node:fs/promises'
import {crc32, createInflateRaw, inflateRawSync} from 'node:zlib'

import {InvalidInputError} from '../core/errors.js'

/**
 * A small zip reader for the two archives weights come in: torch.save's (`archive/data.pkl` + `archive/data/N`,
 * stored) and numpy's `.npz` (one `.npy` per array, stored or deflated, zip64 when numpy forces it). It reads the
 * central directory (zip64 included), then one entry at a time from the open file handle, so an archive is never in
 * memory whole. Every offset and size is checked against the file before it is used; encrypted entries, methods other
 * than stored/deflate, and names that could escape a folder (`../`, absolute, drive letters) are refused.
 */

export interface ZipEntry {
  name: string
  /** 0 stored, 8 deflate. */
  method: number
  crc32: number
  compressedSize: number
  size: number
  /** Byte offset of the entry's local header. */
  localHeaderOffset: number
}

/**
 * Deflate expands at most 1032:1 (a 258-byte match coded in 2 bits): an entry declaring more than that of its
 * compressed size is refused when the directory is read, before any buffer is sized from the declaration.
 */
export const MAX_DEFLATE_RATIO = 1032

const SIG_EOCD = 0x06054b50
const SIG_ZIP64_LOCATOR = 0x07064b50
const SIG_ZIP64_EOCD = 0x06064b50
const SIG_CENTRAL = 0x02014b50
const SIG_LOCAL = 0x04034b50

function fail(file: string, message: string): never {
  throw new InvalidInputError(`${file}: ${message}`, {file})
}

async function readAt(fh: FileHandle, file: string, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  let done = 0
  while (done < length) {
    const {bytesRead} = await fh.read(buf, done, length - done, position + done)
    if (bytesRead === 0) fail(file, `unexpected end of file reading ${length} bytes at byte offset ${position}`)
    done += bytesRead
  }
  return buf
}

/** A name that, extracted, would land outside the destination folder. */
export function unsafeEntryName(name: string): string | undefined {
  if (name.includes('\0')) return 'contains a NUL byte'
  if (name.startsWith('/') || name.startsWith('\\')) return 'is an absolute path'
  if (/^[a-zA-Z]:/.test(name)) return 'starts with a drive letter'
  if (name.split(/[/\\]/).includes('..')) return "contains a '..' path segment"
  return undefined
}

/** True when the first bytes are a zip local header or an empty archive's end record. */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
}

export class ZipReader {
  private dataOffsets = new Map<string, number>()

  private constructor(
    readonly file: string,
    private readonly fh: FileHandle,
    readonly fileSize: number,
    readonly entries: ReadonlyMap<string, ZipEntry>,
  ) {}

  /** Reads the central directory of `file` (already open as `fh`; the reader does not close it). */
  static async open(fh: FileHandle, file: string): Promise<ZipReader> {
    const {size} = await fh.stat()
    if (size < 22) fail(file, `not a zip archive: ${size} bytes is shorter than an end-of-central-directory record`)
    const tailLen = Math.min(size, 22 + 0xffff)
    const tailStart = size - tailLen
    const tail = await readAt(fh, file, tailStart, tailLen)
    let eocd = -1
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === SIG_EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tailLen) {
        eocd = i
        break
      }
    }
    if (eocd < 0) fail(file, 'not a zip archive (or truncated): no end-of-central-directory record in the last 64 KiB')
    const eocdOffset = tailStart + eocd
    let count = tail.readUInt16LE(eocd + 10)
    let cdSize = tail.readUInt32LE(eocd + 12)
    let cdOffset = tail.readUInt32LE(eocd + 16)
    if (tail.readUInt16LE(eocd + 4) !== 0 || tail.readUInt16LE(eocd + 6) !== 0) fail(file, 'multi-disk (split) zip archives are not supported')
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locAt = eocdOffset - 20
      if (locAt < 0) fail(file, `zip64 end-of-central-directory locator missing before byte offset ${eocdOffset}`)
      const loc = await readAt(fh, file, locAt, 20)
      if (loc.readUInt32LE(0) !== SIG_ZIP64_LOCATOR) fail(file, `zip64 end-of-central-directory locator missing at byte offset ${locAt}`)
      const z64At = Number(loc.readBigUInt64LE(8))
      if (z64At + 56 > size) fail(file, `zip64 end-of-central-directory record offset ${z64At} (from byte offset ${locAt + 8}) is past the end of the file`)
      const z64 = await readAt(fh, file, z64At, 56)
      if (z64.readUInt32LE(0) !== SIG_ZIP64_EOCD) fail(file, `no zip64 end-of-central-directory record at byte offset ${z64At}`)
      count = Number(z64.readBigUInt64LE(32))
      cdSize = Number(z64.readBigUInt64LE(40))
      cdOffset = Number(z64.readBigUInt64LE(48))
    }
    if (cdOffset + cdSize > size) fail(file, `central directory [${cdOffset}, ${cdOffset + cdSize}) runs past the end of the file (${size} bytes)`)
    if (cdSize > 256 * 1024 * 1024) fail(file, `central directory of ${cdSize} bytes is implausibly large`)
    const cd = await readAt(fh, file, cdOffset, cdSize)
    const entries = new Map<string, ZipEntry>()
    let p = 0
    for (let i = 0; i < count; i++) {
      const at = cdOffset + p
      if (p + 46 > cdSize || cd.readUInt32LE(p) !== SIG_CENTRAL) fail(file, `central directory entry ${i} at byte offset ${at} is missing or corrupt`)
      const flags = cd.readUInt16LE(p + 8)
      const method = cd.readUInt16LE(p + 10)
      const crc = cd.readUInt32LE(p + 16)
      let compressedSize = cd.readUInt32LE(p + 20)
      let uncompressed = cd.readUInt32LE(p + 24)
      const nameLen = cd.readUInt16LE(p + 28)
      const extraLen = cd.readUInt16LE(p + 30)
      const commentLen = cd.readUInt16LE(p + 32)
      let localHeaderOffset = cd.readUInt32LE(p + 42)
      if (p + 46 + nameLen + extraLen + commentLen > cdSize) fail(file, `central directory entry ${i} at byte offset ${at} runs past the directory`)
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen)
      const unsafe = unsafeEntryName(name)
      if (unsafe) fail(file, `zip entry '${name}' (central directory byte offset ${at}) ${unsafe}; refusing an archive whose names could escape its folder`)
      // zip64 extended information: the 64-bit values, in this order, for the fields that hold 0xFFFFFFFF.
      let e = p + 46 + nameLen
      const extraEnd = e + extraLen
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e)
        const len = cd.readUInt16LE(e + 2)
        if (id === 0x0001) {
          let q = e + 4
          const next = (): number => {
            if (q + 8 > e + 4 + len) fail(file, `zip entry '${name}': zip64 extra field at byte offset ${cdOffset + e} is too short`)
            const v = Number(cd.readBigUInt64LE(q))
            q += 8
            return v
          }
          if (uncompressed === 0xffffffff) uncompressed = next()
          if (compressedSize === 0xffffffff) compressedSize = next()
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next()
        }
        e += 4 + len
      }
      if (flags & 1) fail(file, `zip entry '${name}' is encrypted`)
      if (method !== 0 && method !== 8) fail(file, `zip entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`)
      if (method === 0 && compressedSize !== uncompressed) fail(file, `zip entry '${name}' is stored but its sizes differ (${compressedSize} vs ${uncompressed})`)
      if (method === 8 && uncompressed > MAX_DEFLATE_RATIO * compressedSize + 1024) {
        fail(file, `zip entry '${name}' (central directory byte offset ${at}) declares ${uncompressed} bytes, but its ${compressedSize} deflated bytes can inflate to at most ${MAX_DEFLATE_RATIO * compressedSize + 1024}; the file does not hold the data it declares`)
      }
      if (localHeaderOffset + 30 + compressedSize > size) fail(file, `zip entry '${name}': data at byte offset ${localHeaderOffset} (${compressedSize} bytes) runs past the end of the file (${size} bytes)`)
      if (entries.has(name)) fail(file, `zip entry '${name}' appears twice in the central directory`)
      entries.set(name, {name, method, crc32: crc, compressedSize, size: uncompressed, localHeaderOffset})
      p += 46 + nameLen + extraLen + commentLen
    }
    return new ZipReader(file, fh, size, entries)
  }

  /** Byte offset of an entry's data (after its local header, whose name and extra lengths may differ from the directory's). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const known = this.dataOffsets.get(entry.name)
    if (known !== undefined) return known
    const lh = await readAt(this.fh, this.file, entry.localHeaderOffset, 30)
    if (lh.readUInt32LE(0) !== SIG_LOCAL) fail(this.file, `zip entry '${entry.name}': no local header at byte offset ${entry.localHeaderOffset}`)
    const start = entry.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28)
    if (start + entry.compressedSize > this.fileSize) fail(this.file, `zip entry '${entry.name}': data at byte offset ${start} (${entry.compressedSize} bytes) runs past the end of the file (${this.fileSize} bytes)`)
    this.dataOffsets.set(entry.name, start)
    return start
  }

  /**
   * The whole entry, inflated if needed and checked against its CRC-32. `maxBytes`, when given, is what the caller
   * can need at most: a larger entry is refused before a byte is inflated.
   */
  async read(entry: ZipEntry, maxBytes?: number): Promise<Uint8Array> {
    if (maxBytes !== undefined && entry.size > maxBytes) fail(this.file, `zip entry '${entry.name}' declares ${entry.size} bytes, more than the ${maxBytes} it can hold; refusing to inflate it`)
    const start = await this.dataOffset(entry)
    const raw = await readAt(this.fh, this.file, start, entry.compressedSize)
    let data: Uint8Array = raw
    if (entry.method === 8) {
      try {
        // maxOutputLength stops a deflate bomb at the declared size (+1 so an overrun is seen, not truncated).
        data = inflateRawSync(raw, {maxOutputLength: Math.max(1, entry.size + 1)})
      } catch (error) {
        fail(this.file, `zip entry '${entry.name}' at byte offset ${start}: deflate data is corrupt or larger than its declared ${entry.size} bytes (${(error as Error).message})`)
      }
      if (data.length !== entry.size) fail(this.file, `zip entry '${entry.name}' at byte offset ${start}: inflates to ${data.length} bytes, the directory says ${entry.size}`)
    }
    const actual = crc32(data) >>> 0
    if (actual !== entry.crc32) fail(this.file, `zip entry '${entry.name}' at byte offset ${start}: CRC-32 mismatch (${actual.toString(16)} vs ${entry.crc32.toString(16)}): the file is corrupt`)
    return data
  }

  /**
   * `length` bytes from `offset` inside an entry, without reading the rest of it (no CRC check: the range is a part).
   * A deflated entry is inflated only as far as the range's end: what is inflated is what the caller asked for (the
   * real tensor sizes), never the size the directory declares.
   */
  async readRange(entry: ZipEntry, offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > entry.size) fail(this.file, `zip entry '${entry.name}': range [${offset}, ${offset + length}) is outside its ${entry.size} bytes`)
    if (offset === 0 && length === entry.size) return this.read(entry)
    if (entry.method === 8) return (await this.inflatePrefix(entry, offset + length)).subarray(offset, offset + length)
    const start = await this.dataOffset(entry)
    return readAt(this.fh, this.file, start + offset, length)
  }

  /** The first `need` bytes of a deflated entry, inflating no further (a stream stopped once it has them). */
  private async inflatePrefix(entry: ZipEntry, need: number): Promise<Uint8Array> {
    const start = await this.dataOffset(entry)
    const raw = await readAt(this.fh, this.file, start, entry.compressedSize)
    return new Promise((resolve, reject) => {
      const out = Buffer.alloc(need)
      let got = 0
      const inflate = createInflateRaw()
      const done = (): void => {
        inflate.destroy()
        if (got < need) reject(new InvalidInputError(`${this.file}: zip entry '${entry.name}' at byte offset ${start}: inflates to ${got} bytes, fewer than the ${need} needed`, {file: this.file}))
        else resolve(out)
      }
      inflate.on('data', (chunk: Buffer) => {
        const take = Math.min(chunk.length, need - got)
        chunk.copy(out, got, 0, take)
        got += take
        if (got >= need) done()
      })
      inflate.on('end', done)
      inflate.on('error', () => {
        if (got < need) reject(new InvalidInputError(`${this.file}: zip entry '${entry.name}' at byte offset ${start}: deflate data is corrupt`, {file: this.file}))
      })
      inflate.end(raw)
    })
  }
}
