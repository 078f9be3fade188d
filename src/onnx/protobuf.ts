/**
 * A minimal protocol-buffers writer: just the wire encoding ONNX needs (varint, fixed32, length-delimited), built so
 * that a 350 MB model never sits in memory. A message is a list of parts; large byte fields are `LazyBytes` whose
 * length is known up front and whose bytes are produced only while the message is streamed out. Nested messages are
 * embedded by reference, so every length prefix is computed from the parts' lengths without encoding anything twice.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/
 */

/** Bytes of known length produced on demand (a tensor read from disk while the model is written). */
export interface LazyBytes {
  readonly length: number
  produce(): Promise<Uint8Array>
}

type Part = Uint8Array | LazyBytes

const WIRE_VARINT = 0
const WIRE_LEN = 2
const WIRE_FIXED32 = 5

const utf8 = new TextEncoder()

/** The varint bytes of a non-negative integer, or of a negative one as its 64-bit two's complement (10 bytes). */
export function encodeVarint(value: number | bigint): Uint8Array {
  let v = typeof value === 'bigint' ? value : BigInt(value)
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`varint: ${value} is not a safe integer`)
  if (v < 0n) v = BigInt.asUintN(64, v)
  const out: number[] = []
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  out.push(Number(v))
  return Uint8Array.from(out)
}

function isLazy(p: Part): p is LazyBytes {
  return !(p instanceof Uint8Array)
}

/** One protobuf message under construction. Fields are written in call order. */
export class ProtoMessage {
  private readonly parts: Part[] = []
  private small: number[] = []
  private size = 0

  /** Encoded length in bytes. */
  get length(): number {
    return this.size + this.small.length
  }

  private flushSmall(): void {
    if (this.small.length === 0) return
    const bytes = Uint8Array.from(this.small)
    this.parts.push(bytes)
    this.size += bytes.length
    this.small = []
  }

  private raw(bytes: Uint8Array): void {
    if (bytes.length <= 64) {
      for (const b of bytes) this.small.push(b)
      return
    }
    this.flushSmall()
    this.parts.push(bytes)
    this.size += bytes.length
  }

  private tag(field: number, wire: number): void {
    this.raw(encodeVarint(field * 8 + wire))
  }

  /** An int32/int64/enum/bool field (negative values as 10-byte two's complement, as int64 requires). */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT)
    this.raw(encodeVarint(value))
    return this
  }

  /** A `float` field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    this.raw(b)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value))
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN)
    this.raw(encodeVarint(value.length))
    this.raw(value)
    return this
  }

  /** A bytes field whose content is produced while streaming. */
  lazyBytes(field: number, value: LazyBytes): this {
    this.tag(field, WIRE_LEN)
    this.raw(encodeVarint(value.length))
    this.flushSmall()
    this.parts.push(value)
    this.size += value.length
    return this
  }

  /** An embedded message. `msg` must not change afterwards (it is embedded by reference). */
  message(field: number, msg: ProtoMessage): this {
    this.tag(field, WIRE_LEN)
    this.raw(encodeVarint(msg.length))
    this.flushSmall()
    for (const p of msg.allParts()) {
      this.parts.push(p)
      this.size += p.length
    }
    return this
  }

  private allParts(): Part[] {
    this.flushSmall()
    return this.parts
  }

  /** The whole message in memory (for small messages and tests; lazy parts are produced). */
  async toBytes(): Promise<Uint8Array> {
    const out = new Uint8Array(this.length)
    let off = 0
    await this.writeTo(async (chunk) => {
      out.set(chunk, off)
      off += chunk.length
    })
    return out
  }

  /**
   * Streams the encoded message to `write`, coalescing small parts into chunks of up to `chunkBytes`. A lazy part
   * that produces a different number of bytes than it announced is a bug, caught here rather than written as a
   * corrupt file.
   */
  async writeTo(write: (chunk: Uint8Array) => Promise<void>, chunkBytes = 1 << 20): Promise<void> {
    let buf = new Uint8Array(chunkBytes)
    let used = 0
    const flush = async (): Promise<void> => {
      if (used === 0) return
      await write(buf.subarray(0, used))
      buf = new Uint8Array(chunkBytes)
      used = 0
    }
    for (const part of this.allParts()) {
      let bytes: Uint8Array
      if (isLazy(part)) {
        bytes = await part.produce()
        if (bytes.length !== part.length) throw new Error(`protobuf: lazy field announced ${part.length} bytes but produced ${bytes.length}`)
      } else {
        bytes = part
      }
      if (bytes.length >= chunkBytes / 2) {
        await flush()
        await write(bytes)
      } else {
        if (used + bytes.length > chunkBytes) await flush()
        buf.set(bytes, used)
        used += bytes.length
      }
    }
    await flush()
  }
}
