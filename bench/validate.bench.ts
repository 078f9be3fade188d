/**
 * `vitrine validate` on a generated tree of 312 asset folders (the size of azureml-assets' model tree: copies of the
 * real ViT asset in both spec forms, with their description.md, model.yaml and MLmodel, each with its own name),
 * run as a user runs it: the built CLI in a fresh process, so the wall time includes Node and oclif start-up.
 * Target: under 1 s wall on a 2-core machine. The load average is reported beside it: on a shared machine the wall
 * time is mostly waiting for a core, and the CPU time (user + sys) is the figure to compare between runs. Peers in the same run: `vitrine --version`
 * (start-up alone), one asset (so the per-asset cost can be read off) and the same tree on two worker threads.
 * Wall times are medians of 3 runs; CPU times (user + sys) and peak memory (VmHWM) are the child's own, reported
 * by the child as it exits (bench/lib/peak-memory.ts); CPU times are less disturbed by a busy machine.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {parseChildUsage, peakMemoryNodeArgs} from './lib/peak-memory.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'run.js')
const ASSETS = 312
const RUNS = 3

function makeTree(dir: string): void {
  const forms = ['current', 'legacy']
  for (let i = 0; i < ASSETS; i++) {
    const form = forms[i % 2]
    const src = join(ROOT, 'test', 'fixtures', 'azureml-assets', `google-vit-base-patch16-224-${form}`)
    const dst = join(dir, 'assets', 'models', `family-${Math.floor(i / 50)}`, `vit-${i}`)
    cpSync(src, dst, {recursive: true})
    const spec = join(dst, 'spec.yaml')
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('name: google-vit-base-patch16-224', `name: google-vit-${i}`))
  }
}

interface Timed {
  wallMs: number
  userMs: number
  sysMs: number
  maxRssMiB: number
  exitCode: number | null
  stdout: string
}

/** Runs node BIN ARGS; the child reports its CPU time and peak memory (wall time measured here). */
function timed(args: string[]): Timed {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [...peakMemoryNodeArgs(), BIN, ...args], {encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: {...process.env, NO_COLOR: '1', CI: '1'}})
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  const usage = parseChildUsage(r.stderr)
  return {wallMs, userMs: usage.userMs, sysMs: usage.systemMs, maxRssMiB: usage.peakMemoryMiB, exitCode: r.status, stdout: r.stdout}
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function summarize(runs: Timed[]) {
  return {
    wallMs: Math.round(median(runs.map((r) => r.wallMs))),
    cpuMs: Math.round(median(runs.map((r) => r.userMs + r.sysMs))),
    maxRssMiB: Math.round(Math.max(...runs.map((r) => r.maxRssMiB))),
    wallMsAll: runs.map((r) => Math.round(r.wallMs)),
  }
}

export default async function (): Promise<object> {
  execFileSync('git', ['--version']) // fail early if the machine lacks git (validate --changed-since needs it)
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-bench-validate-'))
  try {
    makeTree(dir)
    const tree = join(dir, 'assets')
    const one = join(tree, 'models', 'family-0', 'vit-0')
    const startup: Timed[] = []
    const single: Timed[] = []
    const full: Timed[] = []
    const threads: Timed[] = []
    for (let i = 0; i < RUNS; i++) {
      startup.push(timed(['--version']))
      single.push(timed(['validate', one, '--json']))
      full.push(timed(['validate', tree, '--json']))
      threads.push(timed(['validate', tree, '--json', '--threads', '2']))
    }
    const result = JSON.parse(full[0].stdout) as {ok: boolean; summary: {assets: number; errors: number}}
    if (result.summary.assets !== ASSETS || !result.ok) throw new Error(`unexpected result: ${JSON.stringify(result.summary)}`)
    const f = summarize(full)
    const s = summarize(startup)
    const o = summarize(single)
    const t = summarize(threads)
    return {
      assets: ASSETS,
      targetWallMs: 1000,
      meetsTarget: f.wallMs < 1000,
      loadAverage1m: Number(loadavg()[0].toFixed(2)),
      validate312: f,
      validate312Jobs2: t,
      ratioJobs2ToOneThread: Number((t.wallMs / f.wallMs).toFixed(2)),
      validate1: o,
      startupOnly: s,
      ratioWall312ToStartup: Number((f.wallMs / s.wallMs).toFixed(2)),
      ratioCpu312ToStartup: Number((f.cpuMs / s.cpuMs).toFixed(2)),
      perAssetCpuMs: Number(((f.cpuMs - o.cpuMs) / (ASSETS - 1)).toFixed(2)),
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
