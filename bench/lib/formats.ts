/**
 * Writers for the checkpoint formats users bring, written from the file-format specs and independent of vitrine's
 * readers: a zip writer (stored or deflate, optional zip64, torch.save's 64-byte data alignment), a protocol-2 pickle
 * writer for torch state dicts, `.npy` arrays, and converters that turn a Hugging Face model.safetensors into
 * torch.save (HF names), timm (fused qkv) and Google JAX `.npz` checkpoints one tensor at a time, so a full-size
 * ViT-B/16 is never in memory whole. Used by the convert benchmark and by tests that need files the fixtures lack.
 */
import {type FileHandle, open} from 'node:fs/promises'
import {crc32, deflateRawSync} from 'node:zlib'

import {readSafetensorsHeader} from '../../src/weights/safetensors.js'
import {contiguousStrides} from '../../src/weights/strided.js'

// ---------------------------------------------------------------- zip

export interface ZipWriterOptions {
  /** Write zip64 records (local and central extra fields, zip64 end records), as numpy's savez does. */
  zip64?: boolean
  /** Align every entry's data to this many bytes with a padding extra field, as torch.save does (64). */
  align?: number
}

interface WrittenEntry {
  name: Buffer
  method: number
  crc: number
  csize: number
  size: number
  offset: number
}

export class ZipWriter {
  private offset = 0
  private readonly entries: WrittenEntry[] = []

  private constructor(private readonly fh: FileHandle, private readonly options: ZipWriterOptions) {}

  static async create(path: string, options: ZipWriterOptions = {}): Promise<ZipWriter> {
    return new ZipWriter(await open(path, 'w'), options)
  }

  private async put(chunk: Uint8Array): Promise<void> {
    let done = 0
    while (done < chunk.length) {
      const {bytesWritten} = await this.fh.write(chunk, done, chunk.length - done, this.offset + done)
      done += bytesWritten
    }
    this.offset += chunk.length
  }

  /** Adds one entry: stored (method 0) or deflated (8). The name is written as given (tests write unsafe ones). */
  async add(name: string, data: Uint8Array, method: 0 | 8 = 0): Promise<void> {
    const zip64 = this.options.zip64 ?? false
    const nameBytes = Buffer.from(name, 'utf8')
    const payload = method === 8 ? deflateRawSync(data) : data
    const crc = crc32(data) >>> 0
    const z64 = Buffer.alloc(zip64 ? 20 : 0)
    if (zip64) {
      z64.writeUInt16LE(0x0001, 0)
      z64.writeUInt16LE(16, 2)
      z64.writeBigUInt64LE(BigInt(data.length), 4)
      z64.writeBigUInt64LE(BigInt(payload.length), 12)
    }
    let pad = Buffer.alloc(0)
    const align = this.options.align ?? 0
    if (align > 0) {
      const before = this.offset + 30 + nameBytes.length + z64.length + 4
      const n = (align - (before % align)) % align
      pad = Buffer.alloc(4 + n, 0x5a)
      pad.writeUInt16LE(0x4246, 0) // 'FB', torch's padding record
      pad.writeUInt16LE(n, 2)
    }
    const lh = Buffer.alloc(30)
    lh.writeUInt32LE(0x04034b50, 0)
    lh.writeUInt16LE(zip64 ? 45 : 20, 4)
    lh.writeUInt16LE(0x0800, 6) // names are UTF-8
    lh.writeUInt16LE(method, 8)
    lh.writeUInt16LE(0, 10)
    lh.writeUInt16LE(0x21, 12) // 1980-01-01: no timestamps, reproducible files
    lh.writeUInt32LE(crc, 14)
    lh.writeUInt32LE(zip64 ? 0xffffffff : payload.length, 18)
    lh.writeUInt32LE(zip64 ? 0xffffffff : data.length, 22)
    lh.writeUInt16LE(nameBytes.length, 26)
    lh.writeUInt16LE(z64.length + pad.length, 28)
    const offset = this.offset
    await this.put(Buffer.concat([lh, nameBytes, z64, pad]))
    await this.put(payload)
    this.entries.push({name: nameBytes, method, crc, csize: payload.length, size: data.length, offset})
  }

  async close(): Promise<void> {
    const zip64 = this.options.zip64 ?? false
    const cdStart = this.offset
    for (const e of this.entries) {
      const extra = Buffer.alloc(zip64 ? 28 : 0)
      if (zip64) {
        extra.writeUInt16LE(0x0001, 0)
        extra.writeUInt16LE(24, 2)
        extra.writeBigUInt64LE(BigInt(e.size), 4)
        extra.writeBigUInt64LE(BigInt(e.csize), 12)
        extra.writeBigUInt64LE(BigInt(e.offset), 20)
      }
      const cd = Buffer.alloc(46)
      cd.writeUInt32LE(0x02014b50, 0)
      cd.writeUInt16LE(zip64 ? 45 : 20, 4)
      cd.writeUInt16LE(zip64 ? 45 : 20, 6)
      cd.writeUInt16LE(0x0800, 8)
      cd.writeUInt16LE(e.method, 10)
      cd.writeUInt16LE(0, 12)
      cd.writeUInt16LE(0x21, 14)
      cd.writeUInt32LE(e.crc, 16)
      cd.writeUInt32LE(zip64 ? 0xffffffff : e.csize, 20)
      cd.writeUInt32LE(zip64 ? 0xffffffff : e.size, 24)
      cd.writeUInt16LE(e.name.length, 28)
      cd.writeUInt16LE(extra.length, 30)
      cd.writeUInt32LE(zip64 ? 0xffffffff : e.offset, 42)
      await this.put(Buffer.concat([cd, e.name, extra]))
    }
    const cdSize = this.offset - cdStart
    if (zip64) {
      const z = Buffer.alloc(56)
      z.writeUInt32LE(0x06064b50, 0)
      z.writeBigUInt64LE(44n, 4)
      z.writeUInt16LE(45, 12)
      z.writeUInt16LE(45, 14)
      z.writeBigUInt64LE(BigInt(this.entries.length), 24)
      z.writeBigUInt64LE(BigInt(this.entries.length), 32)
      z.writeBigUInt64LE(BigInt(cdSize), 40)
      z.writeBigUInt64LE(BigInt(cdStart), 48)
      const loc = Buffer.alloc(20)
      loc.writeUInt32LE(0x07064b50, 0)
      loc.writeBigUInt64LE(BigInt(this.offset), 8)
      loc.writeUInt32LE(1, 16)
      await this.put(Buffer.concat([z, loc]))
    }
    const end = Buffer.alloc(22)
    end.writeUInt32LE(0x06054b50, 0)
    end.writeUInt16LE(zip64 ? 0xffff : this.entries.length, 8)
    end.writeUInt16LE(zip64 ? 0xffff : this.entries.length, 10)
    end.writeUInt32LE(zip64 ? 0xffffffff : cdSize, 12)
    end.writeUInt32LE(zip64 ? 0xffffffff : cdStart, 16)
    await this.put(end)
    await this.fh.close()
  }
}

// ---------------------------------------------------------------- pickle

/** Emits pickle opcodes (protocol 2), enough for a torch state dict. */
export class PickleWriter {
  private readonly parts: Buffer[] = []

  raw(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes))
    return this
  }

  proto(): this {
    return this.raw(0x80, 2)
  }

  mark(): this {
    return this.raw(0x28)
  }

  global(module: string, name: string): this {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'))
    return this
  }

  str(s: string): this {
    const b = Buffer.from(s, 'utf8')
    const len = Buffer.alloc(4)
    len.writeUInt32LE(b.length)
    this.parts.push(Buffer.from([0x58]), len, b)
    return this
  }

  int(n: number): this {
    const b = Buffer.alloc(5)
    b[0] = 0x4a // BININT
    b.writeInt32LE(n, 1)
    this.parts.push(b)
    return this
  }

  ints(values: readonly number[]): this {
    this.mark()
    for (const v of values) this.int(v)
    return this.raw(0x74) // TUPLE
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts)
  }
}

/** torch storage class names by safetensors dtype. */
const STORAGE_CLASS: Record<string, string> = {F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', F64: 'DoubleStorage', I64: 'LongStorage'}
const ELEM_BYTES: Record<string, number> = {F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8}

export interface TorchTensorSpec {
  name: string
  shape: number[]
  /** Default: row-major. */
  stride?: number[]
  /** Element offset into the storage. */
  offset?: number
  /** Storage key (several tensors may share one). */
  storage: string
}

export interface TorchStorageSpec {
  key: string
  dtype: string
  numel: number
  data(): Promise<Uint8Array> | Uint8Array
}

/** The data.pkl torch.save writes for a dict of tensors: `{name: _rebuild_tensor_v2(persistent storage, ...)}`. */
export function torchStateDictPickle(tensors: readonly TorchTensorSpec[], storages: readonly TorchStorageSpec[], options: {ordered?: boolean} = {}): Buffer {
  const p = new PickleWriter().proto()
  if (options.ordered) p.global('collections', 'OrderedDict').raw(0x29, 0x52) // OrderedDict()
  else p.raw(0x7d) // EMPTY_DICT
  p.mark()
  for (const t of tensors) {
    const s = storages.find((x) => x.key === t.storage)
    if (!s) throw new Error(`no storage ${t.storage}`)
    p.str(t.name).global('torch._utils', '_rebuild_tensor_v2').mark()
    p.mark().str('storage').global('torch', STORAGE_CLASS[s.dtype]).str(s.key).str('cpu').int(s.numel).raw(0x74, 0x51) // TUPLE, BINPERSID
    p.int(t.offset ?? 0).ints(t.shape).ints(t.stride ?? contiguousStrides(t.shape)).raw(0x89) // NEWFALSE
    p.global('collections', 'OrderedDict').raw(0x29, 0x52) // backward hooks: OrderedDict()
    p.raw(0x74, 0x52) // TUPLE, REDUCE
  }
  return p.raw(0x75, 0x2e).bytes() // SETITEMS, STOP
}

/** A torch.save zip: `PREFIX/data.pkl`, `PREFIX/data/KEY` (64-byte aligned), `PREFIX/version`, `PREFIX/byteorder`. */
export async function writeTorchSave(
  path: string, tensors: readonly TorchTensorSpec[], storages: readonly TorchStorageSpec[], options: {prefix?: string; pickle?: Uint8Array} = {},
): Promise<void> {
  const prefix = options.prefix ?? 'archive'
  const zip = await ZipWriter.create(path, {align: 64})
  await zip.add(`${prefix}/data.pkl`, options.pickle ?? torchStateDictPickle(tensors, storages))
  await zip.add(`${prefix}/byteorder`, Buffer.from('little'))
  for (const s of storages) {
    const data = await s.data()
    if (data.length !== s.numel * ELEM_BYTES[s.dtype]) throw new Error(`storage ${s.key}: ${data.length} bytes for ${s.numel} ${s.dtype}`)
    await zip.add(`${prefix}/data/${s.key}`, data)
  }
  await zip.add(`${prefix}/version`, Buffer.from('3\n'))
  await zip.close()
}

// ---------------------------------------------------------------- npy

const NPY_DESCR: Record<string, string> = {F32: '<f4', F16: '<f2', F64: '<f8', I64: '<i8'}

/** A version-1 .npy: magic, header dict padded to a 64-byte boundary, then the elements (C order unless `fortran`). */
export function npyBytes(dtype: string, shape: readonly number[], data: Uint8Array, options: {fortran?: boolean; descr?: string} = {}): Buffer {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`
  let header = `{'descr': '${options.descr ?? NPY_DESCR[dtype]}', 'fortran_order': ${options.fortran ? 'True' : 'False'}, 'shape': ${dims}, }`
  const total = 10 + header.length + 1
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n'
  const pre = Buffer.alloc(10)
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre)
  pre.writeUInt16LE(header.length, 8)
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data])
}

// ---------------------------------------------------------------- HF -> other layouts

/** out[j][i] = in[i][j] for a row-major [rows, cols] float32 matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]
  return out
}

/** OIHW conv weight -> HWIO (JAX/Flax). */
export function oihwToHwio(data: Float32Array, o: number, i: number, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length)
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    out[((y * w + x) * i + b) * o + a] = data[((a * i + b) * h + y) * w + x]
  }
  return out
}

interface HfSource {
  names: string[]
  shape(name: string): number[]
  read(name: string): Promise<Float32Array>
  close(): Promise<void>
}

/** Reads an F32 Hugging Face model.safetensors tensor by tensor. */
export async function openHfSafetensors(path: string): Promise<HfSource> {
  const header = await readSafetensorsHeader(path)
  const byName = new Map(header.tensors.map((t) => [t.name, t]))
  const fh = await open(path, 'r')
  return {
    names: header.tensors.map((t) => t.name),
    shape: (name) => byName.get(name)!.shape,
    async read(name) {
      const t = byName.get(name)!
      if (t.dtype !== 'F32') throw new Error(`${name}: ${t.dtype}, expected F32`)
      const buf = new Uint8Array(t.end - t.begin)
      await fh.read(buf, 0, buf.length, header.dataStart + t.begin)
      return new Float32Array(buf.buffer)
    },
    close: () => fh.close(),
  }
}

const f32Bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/** pytorch_model.bin: torch.save of the same HF-named state dict, one storage per tensor. */
export async function writeHfTorchFromSafetensors(src: string, dst: string): Promise<void> {
  const hf = await openHfSafetensors(src)
  try {
    const tensors = hf.names.map((name, i) => ({name, shape: hf.shape(name), storage: String(i)}))
    const storages = hf.names.map((name, i) => ({key: String(i), dtype: 'F32', numel: hf.shape(name).reduce((a, b) => a * b, 1), data: async () => f32Bytes(await hf.read(name))}))
    await writeTorchSave(dst, tensors, storages, {prefix: 'pytorch_model'})
  } finally {
    await hf.close()
  }
}

function layerCount(names: readonly string[]): number {
  return new Set(names.map((n) => /^vit\.encoder\.layer\.(\d+)\./.exec(n)?.[1]).filter((x) => x !== undefined)).size
}

/** timm.pth: timm names, query/key/value fused into `attn.qkv` along rows. */
export async function writeTimmFromSafetensors(src: string, dst: string): Promise<void> {
  const hf = await openHfSafetensors(src)
  try {
    const plan: Array<{name: string; shape: number[]; parts: string[]}> = []
    const one = (name: string, from: string): void => {
      plan.push({name, shape: hf.shape(from), parts: [from]})
    }
    one('cls_token', 'vit.embeddings.cls_token')
    one('pos_embed', 'vit.embeddings.position_embeddings')
    one('patch_embed.proj.weight', 'vit.embeddings.patch_embeddings.projection.weight')
    one('patch_embed.proj.bias', 'vit.embeddings.patch_embeddings.projection.bias')
    for (let l = 0; l < layerCount(hf.names); l++) {
      const p = `vit.encoder.layer.${l}`
      const b = `blocks.${l}`
      one(`${b}.norm1.weight`, `${p}.layernorm_before.weight`)
      one(`${b}.norm1.bias`, `${p}.layernorm_before.bias`)
      for (const kind of ['weight', 'bias']) {
        const parts = ['query', 'key', 'value'].map((n) => `${p}.attention.attention.${n}.${kind}`)
        const s = hf.shape(parts[0])
        plan.push({name: `${b}.attn.qkv.${kind}`, shape: [3 * s[0], ...s.slice(1)], parts})
      }
      one(`${b}.attn.proj.weight`, `${p}.attention.output.dense.weight`)
      one(`${b}.attn.proj.bias`, `${p}.attention.output.dense.bias`)
      one(`${b}.norm2.weight`, `${p}.layernorm_after.weight`)
      one(`${b}.norm2.bias`, `${p}.layernorm_after.bias`)
      one(`${b}.mlp.fc1.weight`, `${p}.intermediate.dense.weight`)
      one(`${b}.mlp.fc1.bias`, `${p}.intermediate.dense.bias`)
      one(`${b}.mlp.fc2.weight`, `${p}.output.dense.weight`)
      one(`${b}.mlp.fc2.bias`, `${p}.output.dense.bias`)
    }
    one('norm.weight', 'vit.layernorm.weight')
    one('norm.bias', 'vit.layernorm.bias')
    one('head.weight', 'classifier.weight')
    one('head.bias', 'classifier.bias')
    const tensors = plan.map((t, i) => ({name: t.name, shape: t.shape, storage: String(i)}))
    const storages = plan.map((t, i) => ({
      key: String(i),
      dtype: 'F32',
      numel: t.shape.reduce((a, b) => a * b, 1),
      async data() {
        const chunks = await Promise.all(t.parts.map(async (n) => Buffer.from(f32Bytes(await hf.read(n)))))
        return Buffer.concat(chunks)
      },
    }))
    await writeTorchSave(dst, tensors, storages, {prefix: 'timm'})
  } finally {
    await hf.close()
  }
}

/**
 * vit_jax.npz: Google's JAX names and layouts, zip64 records as `np.savez` writes them (`compress`: as savez_compressed;
 * `omit`: leave those arrays out, for tests of incomplete files).
 */
export async function writeJaxNpzFromSafetensors(src: string, dst: string, options: {compress?: boolean; heads?: number; omit?: string[]} = {}): Promise<void> {
  const hf = await openHfSafetensors(src)
  const zip = await ZipWriter.create(dst, {zip64: true})
  const method = options.compress ? 8 : 0
  try {
    const C = hf.shape('vit.embeddings.cls_token')[2]
    // JAX keeps the heads explicit; default to head_dim 64, as every standard ViT has.
    const H = options.heads ?? (C % 64 === 0 ? C / 64 : 1)
    const D = C / H
    const put = async (name: string, shape: number[], data: Float32Array): Promise<void> => {
      if (options.omit?.includes(name)) return
      await zip.add(`${name}.npy`, npyBytes('F32', shape, f32Bytes(data)), method)
    }
    const copy = async (name: string, from: string, shape?: number[]): Promise<void> => put(name, shape ?? hf.shape(from), await hf.read(from))
    const kernel = async (name: string, from: string, shape: number[]): Promise<void> => {
      const [rows, cols] = hf.shape(from)
      await put(name, shape, transpose2d(await hf.read(from), rows, cols))
    }
    await copy('cls', 'vit.embeddings.cls_token')
    await copy('Transformer/posembed_input/pos_embedding', 'vit.embeddings.position_embeddings')
    const [o, i, h, w] = hf.shape('vit.embeddings.patch_embeddings.projection.weight')
    await put('embedding/kernel', [h, w, i, o], oihwToHwio(await hf.read('vit.embeddings.patch_embeddings.projection.weight'), o, i, h, w))
    await copy('embedding/bias', 'vit.embeddings.patch_embeddings.projection.bias')
    for (let l = 0; l < layerCount(hf.names); l++) {
      const p = `vit.encoder.layer.${l}`
      const b = `Transformer/encoderblock_${l}`
      const att = `${b}/MultiHeadDotProductAttention_1`
      for (const n of ['query', 'key', 'value']) {
        await kernel(`${att}/${n}/kernel`, `${p}.attention.attention.${n}.weight`, [C, H, D])
        await copy(`${att}/${n}/bias`, `${p}.attention.attention.${n}.bias`, [H, D])
      }
      await kernel(`${att}/out/kernel`, `${p}.attention.output.dense.weight`, [H, D, C])
      await copy(`${att}/out/bias`, `${p}.attention.output.dense.bias`)
      await copy(`${b}/LayerNorm_0/scale`, `${p}.layernorm_before.weight`)
      await copy(`${b}/LayerNorm_0/bias`, `${p}.layernorm_before.bias`)
      await copy(`${b}/LayerNorm_2/scale`, `${p}.layernorm_after.weight`)
      await copy(`${b}/LayerNorm_2/bias`, `${p}.layernorm_after.bias`)
      const [I] = hf.shape(`${p}.intermediate.dense.weight`)
      await kernel(`${b}/MlpBlock_3/Dense_0/kernel`, `${p}.intermediate.dense.weight`, [C, I])
      await copy(`${b}/MlpBlock_3/Dense_0/bias`, `${p}.intermediate.dense.bias`)
      await kernel(`${b}/MlpBlock_3/Dense_1/kernel`, `${p}.output.dense.weight`, [I, C])
      await copy(`${b}/MlpBlock_3/Dense_1/bias`, `${p}.output.dense.bias`)
    }
    await copy('Transformer/encoder_norm/scale', 'vit.layernorm.weight')
    await copy('Transformer/encoder_norm/bias', 'vit.layernorm.bias')
    const [N] = hf.shape('classifier.weight')
    await kernel('head/kernel', 'classifier.weight', [C, N])
    await copy('head/bias', 'classifier.bias')
  } finally {
    await zip.close()
    await hf.close()
  }
}
