/**
 * Hostile input, amplification (issue 13, finding 6) and unbounded geometry (finding 5), measured: small files that
 * declare or expand to far more than they hold, each crafted here from the tiny ViT fixture. `vitrine convert` and
 * `vitrine score` run on each as separate processes (peak RSS is the measure) and report their own peak resident
 * memory (VmHWM, bench/lib/peak-memory.ts): every one must stay under 300 MB. The figures are printed.
 */
import {execa} from 'execa'
import {copyFile, mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {type TorchStorageSpec, type TorchTensorSpec, ZipWriter, npyBytes, writeTorchSave} from '../../bench/lib/formats.js'
import {parseChildUsage, peakMemoryNodeArgs, withoutUsage} from '../../bench/lib/peak-memory.js'
import {e2eBin} from '../helpers/e2e.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES, rawSafetensors, readSafetensorsPlain} from '../helpers/weight-writers.js'
import {tinyWithConfig} from './tiny-model.js'

const TINY = join(FIXTURES, 'vit-tiny')
/** Zeros a deflated entry declares beyond its real data: more than the 300 MB bound, a few hundred kB compressed. */
const BOMB_BYTES = 320 * 1024 * 1024
/** The bound on a child's peak resident memory. */
const PEAK_MB = 300
const IMAGE = join(FIXTURES, 'images', 'block.png')

/** `vitrine VERB ARGS` as a child that reports its own peak memory: exit code, stderr, VmHWM in MB. */
async function vitrineRss(verb: 'convert' | 'score', args: string[]): Promise<{exitCode: number; stderr: string; peakMb: number}> {
  const r = await execa('node', [...peakMemoryNodeArgs(), await e2eBin(), verb, ...args], {reject: false, env: {NO_COLOR: '1'}, timeout: 120_000})
  const stderr = String(r.stderr)
  return {exitCode: r.exitCode ?? -1, stderr: withoutUsage(stderr), peakMb: parseChildUsage(stderr).peakMemoryMiB}
}

const convertRss = (args: string[]) => vitrineRss('convert', args)

/** `vitrine score -m MODEL` on one small image, with the figure printed and the 300 MB bound asserted. */
async function scoreRss(what: string, model: string): Promise<{exitCode: number; stderr: string; peakMb: number}> {
  const r = await vitrineRss('score', ['-m', model, IMAGE, '--backend', 'ts'])
  console.log(`score on ${what}: exit ${r.exitCode}, peak RSS ${r.peakMb.toFixed(0)} MB`)
  expect(r.exitCode, r.stderr).not.toBe(4)
  expect(r.peakMb).toBeLessThan(PEAK_MB)
  return r
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
    expect(r.peakMb).toBeLessThan(PEAK_MB)
    // score reads only model.safetensors: on the folder holding the bomb it says to convert (exit 1); on the output
    // it scores.
    expect((await scoreRss('the deflate bomb .bin folder', model)).exitCode).toBe(1)
    expect((await scoreRss('the deflate bomb .bin, converted', join(dir, 'out'))).exitCode).toBe(0)
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
    expect(r.peakMb).toBeLessThan(PEAK_MB)
    const model = join(dir, 'model')
    await mkdir(model)
    for (const f of ['config.json', 'preprocessor_config.json']) await copyFile(join(TINY, f), join(model, f))
    await copyFile(npz, join(model, 'vit_jax.npz'))
    expect((await scoreRss('the deflate bomb .npz folder', model)).exitCode).toBe(1)
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
    expect(r.peakMb).toBeLessThan(PEAK_MB)
    expect((await scoreRss('the stride-0 .bin folder', model)).exitCode).toBe(1)
  }, 120_000)
})

describe('finding 5: unbounded geometry, measured (peak RSS of convert and score < 300 MB)', () => {
  const configs: Array<[string, (c: Record<string, unknown>) => void]> = [
    ['num_hidden_layers 1000000', (c) => (c.num_hidden_layers = 1_000_000)],
    ['num_labels 1e9 without id2label', (c) => {
      c.num_labels = 1_000_000_000
      delete c.id2label
      delete c.label2id
    }],
    ['hidden_size 65536', (c) => (c.hidden_size = 65_536)],
    ['intermediate_size 1e9', (c) => (c.intermediate_size = 1_000_000_000)],
    ['num_channels 1e6', (c) => (c.num_channels = 1_000_000)],
  ]
  for (const [what, edit] of configs) {
    it(`a config with ${what}: convert and score exit 1, each under 300 MB`, async () => {
      const {root, model} = await tinyWithConfig(edit)
      const c = await convertRss([model, '--out', join(root, 'out')])
      console.log(`convert on ${what}: exit ${c.exitCode}, peak RSS ${c.peakMb.toFixed(0)} MB`)
      expect(c.exitCode, c.stderr).toBe(1)
      expect(c.peakMb).toBeLessThan(PEAK_MB)
      expect((await scoreRss(what, model)).exitCode).toBe(1)
    }, 120_000)
  }

  it('a safetensors file with one tensor named ...layer.99999999...: convert without a config exits 1, score (with the tiny config) ignores it; each under 300 MB', async () => {
    const dir = await tempDir()
    const model = join(dir, 'model')
    await mkdir(model)
    const header: Record<string, unknown> = {}
    const parts: Buffer[] = []
    let at = 0
    for (const [name, t] of await readSafetensorsPlain(join(TINY, 'model.safetensors'))) {
      header[name] = {dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.bytes.length]}
      parts.push(t.bytes)
      at += t.bytes.length
    }
    header['vit.encoder.layer.99999999.output.dense.bias'] = {dtype: 'F32', shape: [1], data_offsets: [at, at + 4]}
    parts.push(Buffer.alloc(4))
    await writeFile(join(model, 'model.safetensors'), rawSafetensors(header, Buffer.concat(parts)))
    const c = await convertRss([join(model, 'model.safetensors'), '--out', join(dir, 'out')])
    console.log(`convert on the layer.99999999 tensor: exit ${c.exitCode}, peak RSS ${c.peakMb.toFixed(0)} MB`)
    expect(c.exitCode, c.stderr).toBe(1)
    expect(c.peakMb).toBeLessThan(PEAK_MB)
    // score: the same tensors under the tiny config, which reads the tensors its layers name and ignores the extra
    // one (as transformers does, with a warning): it scores, allocating nothing for layer 99999999.
    for (const f of ['config.json', 'preprocessor_config.json']) await copyFile(join(TINY, f), join(model, f))
    expect((await scoreRss('the layer.99999999 tensor', model)).exitCode).toBe(0)
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
