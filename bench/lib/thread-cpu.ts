/**
 * CPU time per thread of this process (Linux /proc/self/task), to check how many threads an engine really keeps busy:
 * process.cpuUsage() sums every thread, so it cannot tell two busy threads from one busy thread on a loaded machine.
 */
import {readFileSync, readdirSync} from 'node:fs'

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

/** CPU ms (user + system) of each thread of this process, by thread id; empty where /proc is missing. */
export function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>()
  let tids: string[]
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      // after "pid (comm) ": state is field 3, utime field 14, stime field 15
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(tid, ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND)
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out
}

/** Accumulates each thread's CPU time over measured intervals (begin/end pairs). */
export class ThreadCpuMeter {
  private readonly total = new Map<string, number>()
  private start = new Map<string, number>()
  private wall = 0
  private t0 = 0

  begin(): void {
    this.start = threadCpuMs()
    this.t0 = performance.now()
  }

  end(): void {
    this.wall += performance.now() - this.t0
    for (const [tid, ms] of threadCpuMs()) this.total.set(tid, (this.total.get(tid) ?? 0) + ms - (this.start.get(tid) ?? 0))
  }

  /**
   * busyThreads: the threads that did at least `share` of the CPU time spent in the measured intervals (a count that
   * holds on a loaded machine, where no thread gets a whole core); cpuPerWall: that CPU time over the wall time
   * (2 = two cores busy throughout).
   */
  summary(share = 0.2): {busyThreads: number; cpuPerWall: number} {
    let cpu = 0
    for (const ms of this.total.values()) cpu += Math.max(0, ms)
    let busy = 0
    for (const ms of this.total.values()) if (cpu > 0 && ms >= share * cpu) busy++
    return {busyThreads: busy, cpuPerWall: this.wall > 0 ? Number((cpu / this.wall).toFixed(2)) : 0}
  }
}
