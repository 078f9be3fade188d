/**
 * The thread pool's control block: a SharedArrayBuffer the main thread and the workers both address. Defined once
 * here; ./index.ts uses it and hands it to every worker in its workerData, so the worker source (./worker-source.ts)
 * names the slots instead of repeating their numbers.
 *
 *   Int32Array [0, INT32_SLOTS): gen, done, fn, nargs, error
 *   Float64Array at ARGS_BYTE: the kernel's arguments (MAX_ARGS at most)
 */
export const CONTROL_BLOCK = {
  /** Int32 slot bumped for every job; workers wait on it. */
  GEN: 0,
  /** Int32 slot counting the workers that finished the current job. */
  DONE: 1,
  /** Int32 slot: index of the kernel to run (into THREADED_KERNELS), or FN_EXIT. */
  FN: 2,
  /** Int32 slot: how many arguments the kernel takes from the argument area. */
  NARGS: 3,
  /** Int32 slot set to 1 when a worker's share threw. */
  ERROR: 4,
  /** Int32 slots reserved at the start (the argument area follows them). */
  INT32_SLOTS: 16,
  /** The FN value that tells workers to leave their loop. */
  FN_EXIT: -1,
  /** Byte offset of the Float64Array of arguments. */
  ARGS_BYTE: 64,
  MAX_ARGS: 16,
  /** Size of the whole block in bytes. */
  BYTES: 64 + 8 * 16,
} as const

export type ControlBlockLayout = typeof CONTROL_BLOCK
