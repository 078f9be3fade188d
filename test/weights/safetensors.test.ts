import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

import {loadSafetensors, parseSafetensorsHeader, serializeSafetensorsHeader, tensorBytes, tensorToFloat32} from '../../src/weights/safetensors.js'

const FIXTURE = new URL('../fixtures/vit-geom/model.safetensors', import.meta.url).pathname

function build(entries: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(entries))
  const out = Buffer.alloc(8 + json.length + data.length)
  out.writeBigUInt64LE(BigInt(json.length), 0)
  json.copy(out, 8)
  Buffer.from(data).copy(out, 8 + json.length)
  return out
}

describe('safetensors header', () => {
  it('reads the fixture and re-serialises the same header layout', async () => {
    const f = await loadSafetensors(FIXTURE)
    const cls = f.header.tensors.find((t) => t.name === 'vit.embeddings.cls_token')!
    expect(cls.shape).toEqual([1, 1, 32])
    const values = tensorToFloat32(tensorBytes(f, cls), cls.dtype, cls.name, FIXTURE)
    expect(values.length).toBe(32)
    const {offsets} = serializeSafetensorsHeader(f.header.tensors)
    expect(offsets.at(-1)![1]).toBe(f.bytes.length - f.header.dataStart)
  })

  it.each([
    ['truncated', new Uint8Array([1, 2, 3]), /truncated safetensors/],
    ['header length past the end', (() => { const b = Buffer.alloc(16); b.writeBigUInt64LE(1000n); return b })(), /runs past the end/],
    ['unknown dtype', build({a: {dtype: 'Q4', shape: [1], data_offsets: [0, 4]}}, new Uint8Array(4)), /unknown dtype "Q4"/],
    ['out of range', build({a: {dtype: 'F32', shape: [2], data_offsets: [0, 8]}}, new Uint8Array(4)), /run past the end/],
    ['overlap', build({a: {dtype: 'F32', shape: [2], data_offsets: [0, 8]}, b: {dtype: 'F32', shape: [1], data_offsets: [4, 8]}}, new Uint8Array(8)), /overlap/],
    ['size mismatch', build({a: {dtype: 'F32', shape: [3], data_offsets: [0, 8]}}, new Uint8Array(8)), /needs 12 bytes/],
  ])('refuses %s with the file name', (_name, bytes, pattern) => {
    expect(() => parseSafetensorsHeader(bytes, bytes.length, 'bad.safetensors')).toThrow(pattern)
    expect(() => parseSafetensorsHeader(bytes, bytes.length, 'bad.safetensors')).toThrow(/^bad\.safetensors: /)
  })

  it('agrees with the raw fixture bytes', () => {
    const raw = readFileSync(FIXTURE)
    const h = parseSafetensorsHeader(raw, raw.length, FIXTURE)
    expect(h.dataStart % 8).toBe(0)
  })
})
