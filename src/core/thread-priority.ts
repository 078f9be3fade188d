/**
 * Background threads of a server yield the CPU to its event loop: `serve`'s preprocessing workers (decoding large
 * images, seconds of CPU for a 16-bit 9-megapixel PNG) lower their own scheduling priority, so that on a busy machine
 * the thread answering `/` and `/ready` is the one the kernel runs first when it wakes (issue 13: they must answer
 * within 100 ms under any load). On an idle machine nothing changes: a niced thread still takes every free cycle.
 * The inference thread keeps its priority: niced, it lost most of its CPU to other processes on a shared machine
 * (serve-load.e2e.test.ts: 64 of 500 requests answered 200 at nice 10, 174 at nice 5, 442-493 at 0).
 */
import {setPriority} from 'node:os'

/** The nice value serve's worker threads run at (the main thread keeps its own, usually 0). */
export const WORKER_NICE = 10

/**
 * Lowers the calling thread's priority to `nice`. Linux only: there setpriority(PRIO_PROCESS, 0) changes the calling
 * thread alone (threads it starts inherit it), where other systems would change the whole process, main thread too.
 */
export function lowerThisThreadPriority(nice = WORKER_NICE): void {
  if (process.platform !== 'linux') return
  try {
    setPriority(nice)
  } catch {
    // Not permitted or not supported: the thread keeps its priority, which is only slower to yield.
  }
}
