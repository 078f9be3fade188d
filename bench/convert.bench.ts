/**
 * `npm run bench -- convert`: `vitrine convert` on seeded random full-size ViT-B/16 weights (86.6 M parameters,
 * 346 MB in float32) from each source format: Hugging Face safetensors (bench/lib/random-vit.ts), and the same
 * numbers written as torch.save pytorch_model.bin, timm .pth (fused qkv) and Google JAX .npz (zip64) by
 * bench/lib/formats.ts. Each conversion runs the built CLI in a fresh child process, which reports its own peak
 * memory, VmHWM (bench/lib/peak-memory.ts, the one way every bench measures it). Target: < 600 MB everywhere.
 *
 * Peer, in the same run on the same file, right before each conversion: the same bytes streamed by Node (read 4 MB,
 * write 4 MB, no conversion: the I/O floor of any streaming converter); ratioToPeer = convert / peer throughput.
 * fs.copyFile (the kernel's copy) is reported once for scale. Throughput counts source bytes per second of wall time, process start included. The machine is
 * shared and its disk noisy: ratios mean more than MB/s. Files are cached in bench/out/convert/ (git-ignored, ~1.4 GB).
 */
import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {createReadStream, existsSync} from 'node:fs'
import {copyFile, mkdir, open, rm, stat} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {parseChildUsage, peakMemoryNodeArgs} from './lib/peak-memory.js'
import {writeHfTorchFromSafetensors, writeJaxNpzFromSafetensors, writeTimmFromSafetensors} from './lib/formats.js'
import {VIT_B16, writeRandomVitFolder} from './lib/random-vit.js'

const run = promisify(execFile)
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'bench/out/convert')
const HF_DIR = join(OUT, 'vit-b16-random')
const RSS_TARGET_MB = 600
const round = (x: number, digits = 1): number => Number(x.toFixed(digits))

/** Source files by format; each lives in its own folder (no config.json beside it), as a user's download would. */
async function ensureSources(): Promise<Record<string, string>> {
  await mkdir(OUT, {recursive: true})
  const hf = join(HF_DIR, 'model.safetensors')
  if (!existsSync(hf)) {
    await rm(HF_DIR, {recursive: true, force: true})
    await writeRandomVitFolder(HF_DIR, VIT_B16, 4321)
  }
  const files: Record<string, string> = {
    safetensors: hf,
    pytorch: join(OUT, 'pytorch/pytorch_model.bin'),
    timm: join(OUT, 'timm/vit_base_patch16_224.pth'),
    jax: join(OUT, 'jax/ViT-B_16.npz'),
  }
  const writers: Record<string, (src: string, dst: string) => Promise<void>> = {
    pytorch: writeHfTorchFromSafetensors,
    timm: writeTimmFromSafetensors,
    jax: (src, dst) => writeJaxNpzFromSafetensors(src, dst, {heads: VIT_B16.heads}),
  }
  for (const [format, write] of Object.entries(writers)) {
    if (existsSync(files[format])) continue
    await mkdir(dirname(files[format]), {recursive: true})
    process.stderr.write(`bench convert: writing ${files[format]}\n`)
    await write(hf, files[format] + '.part')
    await run('mv', [files[format] + '.part', files[format]])
  }
  return files
}

interface ChildRun {
  seconds: number
  peakRssMB: number
  sha256: string
}

async function convertInChild(src: string, out: string, extra: string[]): Promise<ChildRun> {
  await rm(out, {recursive: true, force: true})
  const t0 = performance.now()
  const {stdout, stderr} = await run('node', [...peakMemoryNodeArgs(), join(ROOT, 'bin/run.js'), 'convert', src, '--out', out, '--json', ...extra], {maxBuffer: 64 * 1024 * 1024})
  const seconds = (performance.now() - t0) / 1000
  const {peakMemoryMiB} = parseChildUsage(stderr)
  const result = JSON.parse(stdout) as {files: Array<{path: string; sha256: string}>}
  const weights = result.files.find((f) => f.path === 'model.safetensors')!
  // Check the reported hash against the bytes on disk (cheap insurance that the child wrote what it said).
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(join(out, 'model.safetensors'))) hash.update(chunk as Buffer)
  const onDisk = hash.digest('hex')
  if (onDisk !== weights.sha256) throw new Error(`${out}: model.safetensors does not match the sha256 the CLI reported`)
  return {seconds, peakRssMB: round(peakMemoryMiB), sha256: weights.sha256}
}

/** The I/O floor: read 4 MB, write 4 MB, as a converter that did nothing else would. */
async function streamCopy(src: string, dst: string): Promise<void> {
  const a = await open(src, 'r')
  const b = await open(dst, 'w')
  try {
    for (let pos = 0; ; ) {
      const buf = Buffer.alloc(4 << 20)
      const {bytesRead} = await a.read(buf, 0, buf.length, pos)
      if (bytesRead === 0) break
      pos += bytesRead
      await b.write(buf.subarray(0, bytesRead))
    }
  } finally {
    await a.close()
    await b.close()
  }
}

/** Throughput of the Node stream-copy peer on `src`, measured now (just before the conversion it is compared with). */
async function streamCopyMBps(src: string): Promise<number> {
  const target = join(OUT, 'copy-peer.bin')
  const t0 = performance.now()
  await streamCopy(src, target)
  const seconds = (performance.now() - t0) / 1000
  await rm(target, {force: true})
  return (await stat(src)).size / 1e6 / seconds
}

export default async function convertBench(): Promise<object> {
  const files = await ensureSources()
  const results: Record<string, object> = {}
  const hashes = new Map<string, string>()
  let worstRss = 0
  const runs: Array<[string, string, string[]]> = [
    ...Object.entries(files).map(([format, src]): [string, string, string[]] => [format, src, []]),
    // float16 output from the JAX checkpoint: the rounding path, same streaming.
    ['jax->float16', files.jax, ['--dtype', 'float16']],
  ]
  for (const [label, src, extra] of runs) {
    const mb = (await stat(src)).size / 1e6
    // The peer runs on the same file right before: the machine is shared, so only same-moment ratios mean much.
    const peer = await streamCopyMBps(src)
    const r = await convertInChild(src, join(OUT, `out-${label.replace('->', '-')}`), extra)
    if (extra.length === 0) hashes.set(label, r.sha256)
    worstRss = Math.max(worstRss, r.peakRssMB)
    const MBps = mb / r.seconds
    results[label] = {
      sourceMB: round(mb), seconds: round(r.seconds, 2), MBps: round(MBps), peakRssMB: r.peakRssMB, underTarget: r.peakRssMB < RSS_TARGET_MB,
      peerNodeStreamCopyMBps: round(peer), ratioToPeer: round(MBps / peer, 2),
    }
    process.stderr.write(`bench convert: ${label} ${JSON.stringify(results[label])}\n`)
  }
  const copyTarget = join(OUT, 'copy-peer.bin')
  const t0 = performance.now()
  await copyFile(files.safetensors, copyTarget)
  const copyMBps = (await stat(files.safetensors)).size / 1e6 / ((performance.now() - t0) / 1000)
  await rm(copyTarget, {force: true})
  return {
    model: 'ViT-B/16 geometry, seeded random float32 weights (86.6 M parameters)',
    formats: results,
    allFormatsByteIdentical: new Set(hashes.values()).size === 1,
    fsCopyFileMBps: round(copyMBps),
    peakRssTargetMB: RSS_TARGET_MB,
    worstPeakRssMB: worstRss,
    allUnderTarget: worstRss < RSS_TARGET_MB,
  }
}
