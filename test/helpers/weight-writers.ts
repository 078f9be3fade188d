import {readdir, readFile} from 'node:fs/promises'
import {dirname} from 'node:path'
import {fileURLToPath} from 'node:url'

import {expect} from 'vitest'

/** Test fixture folders (copies of ../shared/fixtures: real torch/numpy files, see test/fixtures/FIXTURES.md). */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url))
export const FIXTURE_FOLDERS = ['vit-tiny', 'vit-geom'] as const
export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin', 'timm.pth', 'vit_jax.npz'] as const

/** A safetensors file from a header object and data, with no checks (for malformed-input tests). */
export function rawSafetensors(header: Record<string, unknown>, data: Uint8Array, headerLength?: number): Buffer {
  const json = Buffer.from(JSON.stringify(header))
  const out = Buffer.alloc(8 + json.length + data.length)
  out.writeBigUInt64LE(BigInt(headerLength ?? json.length), 0)
  json.copy(out, 8)
  Buffer.from(data).copy(out, 8 + json.length)
  return out
}

/** Every tensor of a safetensors file as {name: {dtype, shape, bytes}}, parsed here with no vitrine code. */
export async function readSafetensorsPlain(path: string): Promise<Map<string, {dtype: string; shape: number[]; bytes: Buffer}>> {
  const buf = await readFile(path)
  const n = Number(buf.readBigUInt64LE(0))
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, {dtype: string; shape: number[]; data_offsets: [number, number]}>
  const out = new Map<string, {dtype: string; shape: number[]; bytes: Buffer}>()
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue
    out.set(name, {dtype: t.dtype, shape: t.shape, bytes: buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1])})
  }
  return out
}

/** Asserts a failed conversion left nothing: no output folder and no temp sibling. */
export async function expectNothingWritten(outDir: string): Promise<void> {
  const siblings = await readdir(dirname(outDir))
  const base = outDir.split('/').pop()!
  expect(siblings.filter((s) => s === base || s.includes('.vitrine-tmp-'))).toEqual([])
}
