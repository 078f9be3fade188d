/**
 * `npm run bench -- engine`: vitrine's WebAssembly engine against its peers on vitrine's own ONNX export
 * (src/onnx/export.ts, what `vitrine package --onnx` writes), with seeded random weights:
 * - `families`: every family at the base geometry of its Azure ML catalog model (bench/lib/random-model.ts), one
 *   image, 2 threads: vitrine, onnxruntime-web's WebAssembly backend (SIMD, 2 threads: the same class of engine) and
 *   onnxruntime-node (native), alternated after a warm-up, medians of >= 5 runs; the target is vitrine <= 0.8x
 *   onnxruntime-web's time. How many threads each engine kept busy is measured per thread (bench/lib/thread-cpu.ts).
 * - `model`: ViT-B/16 against onnxruntime-node in detail: batch 1 and 8, 1 and 2 threads; load time and peak RSS
 *   scoring one image in fresh child processes (the built dist/ when present), for both engines.
 * - `kernels`: the four ViT-B/16 linears alone against onnxruntime-node's Gemm.
 * Ratios are vitrine/peer (below 1 = vitrine faster).
 *
 * Environment: VITRINE_BENCH_RUNS (default 5), VITRINE_BENCH_THREADS (default "1,2"), VITRINE_BENCH_BATCHES
 * (default "1,8"), VITRINE_BENCH_PARTS (default "kernels,model,families"), VITRINE_BENCH_FAMILIES (default
 * "vit,beit,swinv2,dinov2"), VITRINE_BENCH_WASM_VARIANT (families: "simd" for vitrine on plain SIMD128, as
 * onnxruntime-web; default relaxed SIMD where the runtime has it). The random models and their ONNX exports are cached in bench/out/engine/ (git-ignored;
 * 350-450 MB each, twice with the ONNX copy); an export is redone when its family's onnx-graph.ts is newer.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, rm, stat} from 'node:fs/promises'
import {loadavg} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {promisify} from 'node:util'

import {loadModel} from '../src/engine/classifier.js'
import {exportOnnx} from '../src/onnx/export.js'
import {type SimdVariant, createWasmBackend} from '../src/engine/wasm/index.js'
import {parseChildUsage, peakMemoryNodeArgs} from './lib/peak-memory.js'
import {type OrtModel, createOrtLinear, createOrtNodeModel, createOrtWebModel} from './lib/ort.js'
import {seededRandom} from '../src/core/random.js'
import {BASE_GEOMETRIES, type BaseGeometry, writeRandomModelFolder} from './lib/random-model.js'
import {VIT_B16} from './lib/random-vit.js'
import {ThreadCpuMeter} from './lib/thread-cpu.js'

const run = promisify(execFile)
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'bench/out/engine')
const VIT_BASE = BASE_GEOMETRIES.find((g) => g.key === 'vit')!
const MODEL_DIR = join(OUT, VIT_BASE.folder)
const ONNX_FILE = join(OUT, `${VIT_BASE.folder}.onnx`)
const CH = 3
const H = VIT_B16.image
const W = VIT_B16.image
const FLOATS_PER_IMAGE = CH * H * W

function envList(name: string, fallback: number[]): number[] {
  const v = process.env[name]
  return v ? v.split(',').map((s) => Number(s.trim())) : fallback
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const round = (x: number, digits = 1): number => Number(x.toFixed(digits))

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]))
  return d
}

function randomPixels(batch: number, seed: number, floatsPerImage = FLOATS_PER_IMAGE): Float32Array {
  const rnd = seededRandom(seed)
  const px = new Float32Array(batch * floatsPerImage)
  for (let i = 0; i < px.length; i++) px[i] = rnd() * 2 - 1
  return px
}

const mb = async (f: string) => round((await stat(f)).size / 1e6)

/**
 * The cached random model of a base geometry and its ONNX export; `onnx` is null with the reason when the family has
 * no ONNX export (yet). The export is redone when the family's onnx-graph.ts changed since it was written.
 */
async function ensureBaseModel(g: BaseGeometry): Promise<{dir: string; onnx: string | null; noOnnx?: string; safetensorsMB: number; onnxMB?: number}> {
  await mkdir(OUT, {recursive: true})
  const dir = join(OUT, g.folder)
  const onnx = join(OUT, `${g.folder}.onnx`)
  if (!existsSync(join(dir, 'model.safetensors'))) {
    await rm(dir, {recursive: true, force: true})
    await rm(onnx, {force: true})
    await writeRandomModelFolder(dir, g.config, g.labels, 1234)
  }
  const graphSource = join(ROOT, 'src/models', g.key, 'onnx-graph.ts')
  if (existsSync(onnx) && existsSync(graphSource) && (await stat(graphSource)).mtimeMs > (await stat(onnx)).mtimeMs) await rm(onnx)
  const safetensorsMB = await mb(join(dir, 'model.safetensors'))
  if (!existsSync(onnx)) {
    try {
      await exportOnnx(dir, onnx)
    } catch (error) {
      return {dir, onnx: null, noOnnx: (error as Error).message, safetensorsMB}
    }
  }
  return {dir, onnx, safetensorsMB, onnxMB: await mb(onnx)}
}

async function ensureModel(): Promise<{safetensorsMB: number; onnxMB: number}> {
  const m = await ensureBaseModel(VIT_BASE)
  if (!m.onnx) throw new Error(`ViT ONNX export failed: ${m.noOnnx}`)
  return {safetensorsMB: m.safetensorsMB, onnxMB: m.onnxMB!}
}

/** Code of a child process that loads one engine, scores one image and prints load and score time (its peak memory: bench/lib/peak-memory.ts). */
function childCode(engine: 'vitrine' | 'ort', threads: number): {args: string[]; runtime: string} {
  const dist = join(ROOT, 'dist/src/engine/classifier.js')
  const useDist = existsSync(dist) && existsSync(join(ROOT, 'dist/src/engine/wasm/index.js'))
  const src = (p: string) => pathToFileURL(join(ROOT, useDist ? 'dist/src' : 'src', p)).href
  const common = `
    const px = new Float32Array(${FLOATS_PER_IMAGE}); for (let i = 0; i < px.length; i++) px[i] = Math.sin(i) ;
    const rssBefore = process.memoryUsage().rss
    const t0 = performance.now()`
  const report = `
    console.log(JSON.stringify({loadMs: t1 - t0, scoreMs: t2 - t1, baselineRssMB: rssBefore / 1048576}))
    process.exit(0)`
  const body =
    engine === 'vitrine'
      ? `
    const {loadModel} = await import(${JSON.stringify(src('engine/classifier.js'))})
    const {createWasmBackend} = await import(${JSON.stringify(src('engine/wasm/index.js'))})
    ${common}
    const backend = await createWasmBackend({threads: ${threads}})
    const model = await loadModel(${JSON.stringify(MODEL_DIR)}, {backend})
    const t1 = performance.now()
    model.forward(px, 1)
    const t2 = performance.now()
    ${report}`
      : `
    const {createOrtNodeModel} = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'bench/lib/ort.ts')).href)})
    ${common}
    const vit = await createOrtNodeModel(${JSON.stringify(ONNX_FILE)}, ${threads})
    const t1 = performance.now()
    await vit.run(px, 1, ${CH}, ${H}, ${W})
    const t2 = performance.now()
    ${report}`
  // ORT's helper is TypeScript: tsx loads it; vitrine runs from dist/ (what users run) when it is built.
  const needsTsx = engine === 'ort' || !useDist
  return {args: [...peakMemoryNodeArgs(), ...(needsTsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', body], runtime: needsTsx ? 'tsx' : 'dist'}
}

async function child(engine: 'vitrine' | 'ort', threads: number): Promise<Record<string, number | string>> {
  const {args, runtime} = childCode(engine, threads)
  const {stdout, stderr} = await run(process.execPath, args, {cwd: ROOT, maxBuffer: 1 << 20})
  const r = {...(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>), peakRssMB: parseChildUsage(stderr).peakMemoryMiB}
  return {runtime, ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]))}
}

/**
 * Kernel level: the four ViT-B/16 linears at batch 1 (M = 197 tokens), vitrine's packed 2x16 SIMD kernel against
 * ORT's Gemm, alternated, median of `runs`; plus the ceiling of 128-bit WebAssembly SIMD on this CPU (register-only
 * multiply-adds per CPU-second, best of 5).
 */
async function kernelBench(threads: number, runs: number): Promise<object> {
  const backend = await createWasmBackend({threads})
  const rnd = seededRandom(7)
  const fill = (a: Float32Array) => {
    for (let i = 0; i < a.length; i++) a[i] = rnd() * 2 - 1
    return a
  }
  const M = 197
  const linears: object[] = []
  try {
    let peak = 0
    for (let i = 0; i < 5; i++) peak = Math.max(peak, backend.fmaPeakGflops())
    for (const [name, N, K] of [['qkv', 2304, 768], ['attn.out', 768, 768], ['fc1', 3072, 768], ['fc2', 768, 3072]] as const) {
      const w = fill(new Float32Array(N * K))
      const b = fill(new Float32Array(N))
      const x = fill(backend.alloc(M * K))
      const out = backend.alloc(M * N)
      const ortLin = await createOrtLinear(w, b, M, N, K, threads)
      const lin = backend.prepareLinear(w, b, N, K)
      const v: number[] = []
      const o: number[] = []
      const vc: number[] = []
      const oc: number[] = []
      const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000
      let ortOut: Float32Array = new Float32Array(0)
      for (let r = -2; r < runs; r++) {
        const xs = x.slice()
        let s = performance.now()
        let c = process.cpuUsage()
        backend.linear(out, x, lin, M, 'none')
        if (r >= 0) v.push(performance.now() - s)
        if (r >= 0) vc.push(cpuMs(process.cpuUsage(c)))
        s = performance.now()
        c = process.cpuUsage()
        ortOut = await ortLin.run(xs)
        if (r >= 0) o.push(performance.now() - s)
        if (r >= 0) oc.push(cpuMs(process.cpuUsage(c)))
      }
      await ortLin.release()
      const gflop = (2 * M * N * K) / 1e9
      linears.push({
        name,
        shape: `${M}x${K} @ ${K}x${N}`,
        vitrineGflops: round(gflop / (median(v) / 1000)),
        ortGflops: round(gflop / (median(o) / 1000)),
        ratio: round(median(v) / median(o), 3),
        // GFLOP per CPU-second (all threads): what each engine gets out of the cores it actually ran on
        vitrineGflopsPerCpuSecond: round(gflop / (median(vc) / 1000)),
        ortGflopsPerCpuSecond: round(gflop / (median(oc) / 1000)),
        cpuRatio: round(median(vc) / median(oc), 3),
        maxAbsDiff: Number(maxAbsDiff(out, ortOut).toExponential(2)),
      })
    }
    return {threads, backend: backend.name, wasmSimd128CeilingGflopsPerCpuSecond: round(peak), linears}
  } finally {
    backend.dispose()
  }
}

interface BatchResult {
  threads: number
  batch: number
  vitrineMs: number
  ortMs: number
  /** vitrine/ORT median latency (= ORT/vitrine throughput); target <= 1.5. */
  ratio: number
  /**
   * The same for the CPU time the process used (all its threads): steadier than wall time on a shared machine,
   * where either engine may lose its cores to other processes mid-run.
   */
  vitrineCpuMs: number
  ortCpuMs: number
  cpuRatio: number
  vitrineImagesPerSec: number
  ortImagesPerSec: number
  maxAbsDiffLogits: number
  vitrineRunsMs: number[]
  ortRunsMs: number[]
}

/**
 * VITRINE_BENCH_WASM_VARIANT=simd runs vitrine on plain SIMD128 (mul then add), the instruction set of
 * onnxruntime-web 1.30's only WebAssembly build; default the fastest the runtime has (relaxed SIMD's fused multiply-add).
 */
function wasmVariantFromEnv(): SimdVariant | undefined {
  const v = process.env.VITRINE_BENCH_WASM_VARIANT
  if (v === undefined || v === '') return undefined
  if (v !== 'simd' && v !== 'relaxed') throw new Error(`VITRINE_BENCH_WASM_VARIANT: simd or relaxed, not ${v}`)
  return v
}

/** Threads of the per-family comparison (the target's setting: 2 threads for every engine). */
const FAMILY_THREADS = 2
/** vitrine's time over onnxruntime-web's that each family must stay at or below. */
const FAMILY_TARGET = 0.8

type Engine = 'vitrine' | 'ortWeb' | 'ortNode'

/**
 * One family at its base geometry, one image, FAMILY_THREADS threads: vitrine, onnxruntime-web and onnxruntime-node
 * on the same pixels, the order rotated run by run (none always runs first, on a cooler or hotter machine).
 */
async function familyBench(g: BaseGeometry, runs: number): Promise<object> {
  const loadBefore = loadavg().map((x) => round(x, 2))
  const m = await ensureBaseModel(g)
  const backend = await createWasmBackend({threads: FAMILY_THREADS, variant: wasmVariantFromEnv()})
  const model = await loadModel(m.dir, {backend, maxBatch: 1})
  const ch = model.config.numChannels
  const H = model.inputHeight
  const W = model.inputWidth
  const peers: Partial<Record<Engine, OrtModel>> = {}
  try {
    if (m.onnx) {
      peers.ortWeb = await createOrtWebModel(m.onnx, FAMILY_THREADS)
      peers.ortNode = await createOrtNodeModel(m.onnx, FAMILY_THREADS)
    }
    const px = randomPixels(1, 43, ch * H * W)
    const engines: Engine[] = ['vitrine', ...(Object.keys(peers) as Engine[])]
    const runOnce = async (e: Engine): Promise<Float32Array> => (e === 'vitrine' ? model.forward(px, 1) : peers[e]!.run(px, 1, ch, H, W))
    for (let w = 0; w < 2; w++) for (const e of engines) await runOnce(e)
    const wall: Record<string, number[]> = {}
    const cpu: Record<string, number[]> = {}
    const meters: Record<string, ThreadCpuMeter> = {}
    const logits: Record<string, Float32Array> = {}
    for (const e of engines) {
      wall[e] = []
      cpu[e] = []
      meters[e] = new ThreadCpuMeter()
    }
    for (let r = 0; r < runs; r++) {
      const order = engines.map((_, i) => engines[(i + r) % engines.length])
      for (const e of order) {
        const c = process.cpuUsage()
        meters[e].begin()
        const s = performance.now()
        logits[e] = (await runOnce(e)).slice()
        wall[e].push(performance.now() - s)
        meters[e].end()
        const used = process.cpuUsage(c)
        cpu[e].push((used.user + used.system) / 1000)
      }
    }
    const per = Object.fromEntries(
      engines.map((e) => [e, {ms: round(median(wall[e])), cpuMs: round(median(cpu[e])), ...meters[e].summary(), runsMs: wall[e].map((x) => round(x))}]),
    )
    const ratio = (peer: Engine) => (peers[peer] ? round(median(wall.vitrine) / median(wall[peer]), 3) : null)
    const vsWeb = ratio('ortWeb')
    const result = {
      family: g.key,
      geometry: `${g.model}, input ${ch}x${H}x${W}, ${g.labels} labels (seeded random weights)`,
      threads: FAMILY_THREADS,
      batch: 1,
      vitrineBackend: backend.name,
      safetensorsMB: m.safetensorsMB,
      ...(m.onnx ? {onnxMB: m.onnxMB} : {onnx: `not measured against onnxruntime: ${m.noOnnx}`}),
      machineLoadAvg: {before: loadBefore, after: loadavg().map((x) => round(x, 2))},
      msPerImage: per,
      ratioVsOrtWeb: vsWeb,
      ratioVsOrtNode: ratio('ortNode'),
      target: {value: vsWeb, target: FAMILY_TARGET, met: vsWeb === null ? null : vsWeb <= FAMILY_TARGET},
      maxAbsDiffLogits: Object.fromEntries(Object.keys(peers).map((e) => [e, Number(maxAbsDiff(logits.vitrine, logits[e]).toExponential(2))])),
    }
    process.stderr.write(`engine: ${g.key}: vitrine ${per.vitrine.ms} ms` + (vsWeb === null ? ' (no ONNX export)\n' : `, onnxruntime-web ${per.ortWeb.ms} ms (${vsWeb}x), onnxruntime-node ${per.ortNode.ms} ms\n`))
    return result
  } finally {
    model.dispose()
    backend.dispose()
    for (const p of Object.values(peers)) await p.release()
  }
}

export default async function engineBench(): Promise<object> {
  const runs = Math.max(5, Number(process.env.VITRINE_BENCH_RUNS ?? 5))
  const threadCounts = envList('VITRINE_BENCH_THREADS', [1, 2])
  const batches = envList('VITRINE_BENCH_BATCHES', [1, 8])
  const parts = (process.env.VITRINE_BENCH_PARTS ?? 'kernels,model,families').split(',')
  const familyKeys = (process.env.VITRINE_BENCH_FAMILIES ?? BASE_GEOMETRIES.map((g) => g.key).join(',')).split(',')
  const loadBefore = loadavg().map((x) => round(x, 2))
  const families: object[] = []
  if (parts.includes('families')) {
    for (const key of familyKeys) {
      const g = BASE_GEOMETRIES.find((x) => x.key === key)
      if (!g) throw new Error(`VITRINE_BENCH_FAMILIES: no family ${key} (${BASE_GEOMETRIES.map((x) => x.key).join(', ')})`)
      families.push(await familyBench(g, runs))
    }
  }
  const familyTargets = families.map((f) => ({family: (f as {family: string}).family, ...(f as {target: object}).target}))
  const kernels: object[] = []
  if (parts.includes('kernels')) for (const threads of threadCounts) kernels.push(await kernelBench(threads, runs))
  if (!parts.includes('model')) return {machineLoadAvg: {before: loadBefore, after: loadavg().map((x) => round(x, 2))}, runs, families, kernels, targets: {familiesVsOrtWeb: familyTargets}}
  const sizes = await ensureModel()
  const maxBatch = Math.max(...batches)

  const results: BatchResult[] = []
  const loads: Array<Record<string, number | string>> = []
  for (const threads of threadCounts) {
    const t0 = performance.now()
    const backend = await createWasmBackend({threads})
    const model = await loadModel(MODEL_DIR, {backend, maxBatch})
    const vitrineLoadMs = performance.now() - t0
    const t1 = performance.now()
    const ortVit = await createOrtNodeModel(ONNX_FILE, threads)
    const ortLoadMs = performance.now() - t1
    loads.push({threads, backend: backend.name, vitrineLoadMs: round(vitrineLoadMs), ortLoadMs: round(ortLoadMs)})
    try {
      for (const batch of batches) {
        const px = randomPixels(batch, 42 + batch)
        const vitrine = () => model.forward(px, batch)
        const ortRun = () => ortVit.run(px, batch, CH, H, W)
        // warm-up: compiles ORT's kernels, faults in both engines' memory
        for (let w = 0; w < (batch === 1 ? 3 : 1); w++) {
          vitrine()
          await ortRun()
        }
        const vMs: number[] = []
        const oMs: number[] = []
        const vCpu: number[] = []
        const oCpu: number[] = []
        let vLogits = new Float32Array(0)
        let oLogits = new Float32Array(0)
        for (let r = 0; r < runs; r++) {
          // alternate which engine goes first, so neither always runs on a cooler (or hotter) machine
          for (const which of r % 2 === 0 ? ['v', 'o'] : ['o', 'v']) {
            const s = performance.now()
            const c = process.cpuUsage()
            if (which === 'v') vLogits = vitrine().slice()
            else oLogits = (await ortRun()).slice()
            ;(which === 'v' ? vMs : oMs).push(performance.now() - s)
            const used = process.cpuUsage(c)
            ;(which === 'v' ? vCpu : oCpu).push((used.user + used.system) / 1000)
          }
        }
        const vitrineMs = median(vMs)
        const ortMs = median(oMs)
        results.push({
          threads,
          batch,
          vitrineMs: round(vitrineMs),
          ortMs: round(ortMs),
          ratio: round(vitrineMs / ortMs, 3),
          vitrineCpuMs: round(median(vCpu)),
          ortCpuMs: round(median(oCpu)),
          cpuRatio: round(median(vCpu) / median(oCpu), 3),
          vitrineImagesPerSec: round((1000 * batch) / vitrineMs, 2),
          ortImagesPerSec: round((1000 * batch) / ortMs, 2),
          maxAbsDiffLogits: Number(maxAbsDiff(vLogits, oLogits).toExponential(2)),
          vitrineRunsMs: vMs.map((x) => round(x)),
          ortRunsMs: oMs.map((x) => round(x)),
        })
        process.stderr.write(`engine: threads ${threads} batch ${batch}: vitrine ${round(vitrineMs)} ms, ORT ${round(ortMs)} ms\n`)
      }
    } finally {
      model.dispose()
      backend.dispose()
      await ortVit.release()
    }
  }

  // Peak RSS and load time in fresh processes, two threads (the default on this machine), one image.
  const scoreOneImage = {vitrine: await child('vitrine', 2), ort: await child('ort', 2)}

  const find = (t: number, b: number) => results.find((r) => r.threads === t && r.batch === b)
  const b1t2 = find(2, 1)
  const b8 = results.filter((r) => r.batch === 8)
  return {
    model: {geometry: 'ViT-B/16 224 (seeded random weights)', ...sizes},
    machineLoadAvg: {before: loadBefore, after: loadavg().map((x) => round(x, 2))},
    runs,
    families,
    kernels,
    results,
    loads,
    scoreOneImage,
    targets: {
      familiesVsOrtWeb: familyTargets,
      batch1Threads2LatencyRatio: b1t2 ? {value: b1t2.ratio, target: 1.5, met: b1t2.ratio <= 1.5} : null,
      batch8ThroughputRatio: b8.map((r) => ({threads: r.threads, value: r.ratio, target: 1.5, met: r.ratio <= 1.5})),
      loadMs: {value: scoreOneImage.vitrine.loadMs, target: 1000, met: Number(scoreOneImage.vitrine.loadMs) <= 1000},
      peakRssMB: {value: scoreOneImage.vitrine.peakRssMB, target: 700, met: Number(scoreOneImage.vitrine.peakRssMB) <= 700},
    },
  }
}
