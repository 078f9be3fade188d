/**
 * Hostile input, amplification (issue 13, finding 6): small files that declare or expand to far more than they hold.
 * Each is crafted here from the tiny ViT fixture, and `vitrine convert` runs on it as a separate process under
 * /usr/bin/time (a separate process because peak RSS is the measure): it must stay under 300 MB.
 */
import {execa} from 'execa'
import {copyFile, mkdir} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {type TorchStorageSpec, type TorchTensorSpec, ZipWriter, npyBytes, writeTorchSave} from '../../bench/lib/formats.js'
import {e2eBin} from '../helpers/e2e.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES, readSafetensorsPlain} from '../helpers/weight-writers.js'

const TINY = join(FIXTURES, 'vit-tiny')
/** Zeros a deflated entry declares beyond its real data: more than the 300 MB bound, a few hundred kB compressed. */
const BOMB_BYTES = 320 * 1024 * 1024

/** `vitrine ARGS` under /usr/bin/time -v: exit code, stderr, and peak resident set size in MB. */
async function convertRss(args: string[]): Promise<{exitCode: number; stderr: string; peakMb: number}> {
  const r = await execa('/usr/bin/time', ['-v', 'node', await e2eBin(), 'convert', ...args], {reject: false, env: {NO_COLOR: '1'}, timeout: 120_000})
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(String(r.stderr))
  if (!kb) throw new Error(`no peak RSS in /usr/bin/time's output:\n${r.stderr}`)
  return {exitCode: r.exitCode ?? -1, stderr: String(r.stderr), peakMb: Number(kb[1]) / 1024}
}

/** The tiny ViT as a torch.save zip; `storage(name, bytes)` may replace how a tensor's storage is laid out. */
async function tinyTorch(dir: string, change: (t: TorchTensorSpec, s: TorchStorageSpec) => void = () => undefined): Promise<string> {
  const model = join(dir, 'model')
  await mkdir(model)
  await copyFile(join(TINY, 'config.json'), join(model, 'config.json'))
  const tensors: TorchTensorSpec[] = []
  const storages: TorchStorageSpec[] = []
  for (const [name, t] of await readSafetensorsPlain(join(TINY, 'model.safetensors'))) {
    const spec: TorchTensorSpec = {name, shape: t.shape, storage: String(storages.length)}
    const storage: TorchStorageSpec = {key: spec.storage, dtype: t.dtype, numel: t.bytes.length / 4, data: () => t.bytes}
    change(spec, storage)
    tensors.push(spec)
    storages.push(storage)
  }
  await writeTorchSave(join(model, 'pytorch_model.bin'), tensors, storages)
  return model
}

describe('finding 6: amplification', () => {
  it('a .bin whose deflated storage declares 320 MB inflates only the bytes its tensor uses (peak RSS < 300 MB)', async () => {
    const dir = await tempDir()
    // classifier.bias: its 40 real bytes, then 320 MB of zeros the storage declares and the tensor never uses.
    const model = await tinyTorch(dir, (t, s) => {
      if (t.name !== 'classifier.bias') return
      const real = s.data() as Uint8Array
      s.numel = (real.length + BOMB_BYTES) / 4
      s.data = () => Buffer.concat([real, Buffer.alloc(BOMB_BYTES)])
    })
    // writeTorchSave stores entries; re-write this one deflated, as a hostile author would.
    const deflated = join(dir, 'bomb.bin')
    await rewriteDeflated(join(model, 'pytorch_model.bin'), deflated)
    await copyFile(deflated, join(model, 'pytorch_model.bin'))
    const r = await convertRss([model, '--out', join(dir, 'out')])
    console.log(`convert on the deflate bomb .bin: exit ${r.exitCode}, peak RSS ${r.peakMb.toFixed(0)} MB`)
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.peakMb).toBeLessThan(300)
  }, 120_000)

  it('an .npz entry declaring 320 MB is not inflated whole to read its header (peak RSS < 300 MB)', async () => {
    const dir = await tempDir()
    const npz = join(dir, 'bomb.npz')
    const zip = await ZipWriter.create(npz)
    await zip.add('big.npy', npyBytes('F32', [BOMB_BYTES / 4], new Uint8Array(BOMB_BYTES)), 8)
    await zip.close()
    const r = await convertRss([npz, '--out', join(dir, 'out')])
    console.log(`convert on the deflate bomb .npz: exit ${r.exitCode}, peak RSS ${r.peakMb.toFixed(0)} MB`)
    expect(r.exitCode).toBe(1)
    expect(r.peakMb).toBeLessThan(300)
  }, 120_000)

  it('a .bin whose tensors are stride-0 views of one element is refused, not expanded', async () => {
    const dir = await tempDir()
    const model = await tinyTorch(dir, (t, s) => {
      const one = (s.data() as Uint8Array).subarray(0, 4)
      s.numel = 1
      s.data = () => one
      t.stride = t.shape.map(() => 0)
    })
    const r = await convertRss([model, '--out', join(dir, 'out')])
    console.log(`convert on the stride-0 .bin: exit ${r.exitCode}, peak RSS ${r.peakMb.toFixed(0)} MB`)
    expect(r.exitCode).toBe(1)
    expect(r.stderr.replaceAll(/\s*›\s*/g, ' ').replaceAll(/\s+/g, ' ')).toMatch(/reaches some storage elements more than once/)
    expect(r.peakMb).toBeLessThan(300)
  }, 120_000)
})

/** Copies a zip, deflating every entry (ZipWriter deflates what it is given). */
async function rewriteDeflated(src: string, dst: string): Promise<void> {
  const {ZipReader} = await import('../../src/weights/zip.js')
  const {open} = await import('node:fs/promises')
  const fh = await open(src, 'r')
  try {
    const reader = await ZipReader.open(fh, src)
    const out = await ZipWriter.create(dst)
    for (const e of reader.entries.values()) await out.add(e.name, await reader.read(e), 8)
    await out.close()
  } finally {
    await fh.close()
  }
}
