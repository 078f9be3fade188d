/**
 * The one way the benchmarks measure a child's peak memory: VmHWM, the high-water mark of the child's own resident
 * memory since exec, which the child reads from /proc/self/status as it exits and prints on stderr.
 *
 * Not process.resourceUsage().maxRSS (nor wait4's ru_maxrss): on Linux the kernel folds the memory of the process
 * before exec into it, so a child forked from a 600 MB parent reports at least 600 MB whatever it used itself
 * (bench/engine.bench.ts reported 642.3 MB for vitrine and onnxruntime alike before this).
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const MARK = 'BENCH_PEAK_MEMORY'
/** VmHWM in /proc/<pid>/status, in kB. The hook below repeats it as text: it runs in the child before any module. */
const VM_HWM = /VmHWM:\s+(\d+) kB/

/**
 * This process's own peak resident memory (VmHWM), MiB rounded, or null without Linux /proc: for a bench whose
 * subject runs in the bench process itself (the finetune bench's training state).
 */
export function ownPeakMemoryMiB(): number | null {
  try {
    const kb = VM_HWM.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    return kb ? Math.round(Number(kb) / 1024) : null
  } catch {
    return null
  }
}

/** A CommonJS preload that prints `BENCH_PEAK_MEMORY vmhwm_kb=N cpu_user_us=N cpu_system_us=N` on stderr at exit. */
const HOOK = `process.on('exit', () => {
  const fs = require('node:fs')
  let hwm = -1
  try { hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) } catch {}
  const cpu = process.cpuUsage()
  fs.writeSync(2, '\\n${MARK} vmhwm_kb=' + hwm + ' cpu_user_us=' + cpu.user + ' cpu_system_us=' + cpu.system + '\\n')
})
`

let hookFile: string | undefined

/** Node arguments that make a child report its own peak memory (and CPU time) on stderr as it exits. */
export function peakMemoryNodeArgs(): string[] {
  if (!hookFile) {
    const dir = join(tmpdir(), `vitrine-bench-${process.pid}`)
    mkdirSync(dir, {recursive: true})
    hookFile = join(dir, 'peak-memory-hook.cjs')
    writeFileSync(hookFile, HOOK)
  }
  return ['--require', hookFile]
}

export interface ChildUsage {
  /** The child's own peak resident memory (VmHWM), MiB. */
  peakMemoryMiB: number
  /** The child's CPU time, ms. */
  userMs: number
  systemMs: number
}

/** The report a child started with peakMemoryNodeArgs() printed on STDERR; throws when there is none. */
export function parseChildUsage(stderr: string): ChildUsage {
  const m = new RegExp(`${MARK} vmhwm_kb=(-?\\d+) cpu_user_us=(\\d+) cpu_system_us=(\\d+)`).exec(stderr)
  if (!m || Number(m[1]) < 0) throw new Error(`the child reported no VmHWM (Linux /proc needed): ${stderr.slice(-500)}`)
  return {peakMemoryMiB: Number(m[1]) / 1024, userMs: Number(m[2]) / 1000, systemMs: Number(m[3]) / 1000}
}

/** STDERR without the report line (for output shown to users or parsed further). */
export function withoutUsage(stderr: string): string {
  return stderr.replace(new RegExp(`\\n?${MARK} [^\\n]*\\n?`), '')
}
