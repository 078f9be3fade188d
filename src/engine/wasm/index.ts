/**
 * The WebAssembly SIMD backend: the kernels of assembly/kernels.ts (compiled by scripts/build-wasm.mjs into
 * ./generated/kernels-wasm.ts) running on every core.
 *
 * One shared WebAssembly.Memory holds the weights, the activations and the scratch; the calling thread and
 * `threads - 1` worker threads each instantiate the same compiled module on it. A kernel call writes its arguments to
 * a small shared control block, wakes the workers (Atomics.notify), does share 0 itself and waits until every
 * worker has done its share. Memory is handed out by a bump allocator and never freed before `dispose()`: the forward
 * pass allocates its weights and activations once.
 *
 * prepareLinear packs a weight into 16-column panels. A weight that lives in this backend's memory (allocated with
 * `alloc`) is packed IN PLACE, so the model is held once: the caller's view then holds the packed layout and must
 * not be read as [N, K] any more. A weight from elsewhere is copied (the caller may drop it). Biases in this
 * backend's memory are referenced, others copied.
 */
import {availableParallelism} from 'node:os'
import {setFlagsFromString} from 'node:v8'
import {Worker} from 'node:worker_threads'

import type {Backend, Epilogue, Linear} from '../backend.js'
import {RELAXED_WASM_BASE64, SIMD_WASM_BASE64} from './generated/kernels-wasm.js'
import {CONTROL_BLOCK} from './control-block.js'
import {WORKER_SOURCE} from './worker-source.js'

export type SimdVariant = 'relaxed' | 'simd'

// The parts of the WebAssembly JS API used here (lib ES2023 + @types/node 20 do not declare them all).
type WasmModule = object
interface WasmMemory {
  readonly buffer: ArrayBufferLike
  grow(pages: number): number
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  compile(bytes: Uint8Array): Promise<WasmModule>
  instantiate(module: WasmModule, imports: object): Promise<{exports: object}>
  Memory: new (descriptor: {initial: number; maximum: number; shared: boolean}) => WasmMemory
}
const wasmApi = (globalThis as unknown as {WebAssembly?: WasmApi}).WebAssembly

export interface WasmBackendOptions {
  /** Threads the kernels use, the calling one included. Default: every core (os.availableParallelism()). */
  threads?: number
  /** Force a variant (tests); default the fastest this runtime validates. */
  variant?: SimdVariant
}

/** The kernels' exports, as the TypeScript side calls them (pointers are byte offsets). */
interface KernelExports {
  heapBase(): number
  attentionScratch(T: number, C: number, NH: number): number
  attentionBiasScratch(T: number, C: number, NH: number): number
  fmaPeak(iters: number): number
  [name: string]: (...args: number[]) => number | void
}

/** Kernels run by every thread, by index in the control block; the worker source resolves the same names. */
export const THREADED_KERNELS = [
  'packLinear',
  'linear',
  'layerNorm',
  'attention',
  'gelu',
  'softmax',
  'attentionBias',
  'gatherRows',
  'scatterAddRows',
  'addInto',
  // training (./train.ts)
  'layerNormStats',
  'attentionKeep',
  'packPanels',
  'transposeSum',
  'geluBackward',
  'layerNormBackward',
  'attentionBackward',
  'sumSquares',
  'optimizerUpdate',
] as const
export type ThreadedKernel = (typeof THREADED_KERNELS)[number]

/**
 * The linear kernel's blocking (see `linear` in assembly/kernels.ts): K in blocks of KC, rows in blocks of MC.
 * 768 x 200 measured best here: KC 256 and 384 were slower; MC 200 (an A block of 200 x 768 floats = 600 KiB fits
 * the 1 MiB L2) streams each weight once per 197-token image where MC 96 streamed it three times, 7-10% faster over
 * the whole model. The environment variables exist for tuning on other CPUs.
 */
const KC = positiveIntFromEnv('VITRINE_WASM_KC', 768)
const MC = positiveIntFromEnv('VITRINE_WASM_MC', 200)

function positiveIntFromEnv(name: string, fallback: number): number {
  const v = Number(process.env[name])
  return Number.isSafeInteger(v) && v > 0 ? v : fallback
}
const PAGE = 65536
/** The modules declare a 4 GiB maximum; the memory is created with the same maximum (shared memories must). */
const MAX_PAGES = 65536
const ALIGN = 64

let relaxedFlagSet = false

/** Lets V8 compile relaxed SIMD: on by default from Node 22, behind a flag on Node 20 (settable before compiling). */
function enableRelaxedSimdFlag(): void {
  if (relaxedFlagSet) return
  relaxedFlagSet = true
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd')
  } catch {
    // A runtime without the flag: validation below decides.
  }
}

const bytesCache = new Map<SimdVariant, Uint8Array>()
function moduleBytes(variant: SimdVariant): Uint8Array {
  let bytes = bytesCache.get(variant)
  if (!bytes) {
    bytes = new Uint8Array(Buffer.from(variant === 'relaxed' ? RELAXED_WASM_BASE64 : SIMD_WASM_BASE64, 'base64'))
    bytesCache.set(variant, bytes)
  }
  return bytes
}

/** Whether this runtime can compile the given kernel variant (SIMD128, threads, and relaxed SIMD for 'relaxed'). */
export function wasmVariantSupported(variant: SimdVariant): boolean {
  if (!wasmApi || typeof SharedArrayBuffer !== 'function') return false
  if (variant === 'relaxed') enableRelaxedSimdFlag()
  try {
    return wasmApi.validate(moduleBytes(variant))
  } catch {
    return false
  }
}

/** The fastest variant this runtime supports, or null when WebAssembly SIMD is unavailable. */
export function bestWasmVariant(): SimdVariant | null {
  if (wasmVariantSupported('relaxed')) return 'relaxed'
  if (wasmVariantSupported('simd')) return 'simd'
  return null
}

const compiled = new Map<SimdVariant, Promise<WasmModule>>()
function compileVariant(api: WasmApi, variant: SimdVariant): Promise<WasmModule> {
  let p = compiled.get(variant)
  if (p === undefined) {
    p = api.compile(moduleBytes(variant))
    compiled.set(variant, p)
  }
  return p
}

// The control block's slots (./control-block.ts); the workers get the same layout in their workerData.
const {GEN: CTL_GEN, DONE: CTL_DONE, FN: CTL_FN, NARGS: CTL_NARGS, ERROR: CTL_ERROR, FN_EXIT, INT32_SLOTS, ARGS_BYTE: CTL_ARGS_BYTE, MAX_ARGS} = CONTROL_BLOCK

/** Spins before sleeping on a futex: kernels follow each other closely, and a wake-up costs tens of microseconds. */
const SPIN = 20000

class ThreadPool {
  private readonly ctl: Int32Array
  private readonly args: Float64Array
  private readonly workers: Worker[] = []
  private workerError: Error | null = null
  private stopped = false

  private constructor(
    readonly nth: number,
    private readonly exports: KernelExports,
    control: SharedArrayBuffer,
  ) {
    this.ctl = new Int32Array(control, 0, INT32_SLOTS)
    this.args = new Float64Array(control, CTL_ARGS_BYTE, MAX_ARGS)
  }

  static async start(nth: number, module: WasmModule, memory: WasmMemory, exports: KernelExports): Promise<ThreadPool> {
    const control = new SharedArrayBuffer(CONTROL_BLOCK.BYTES)
    const pool = new ThreadPool(nth, exports, control)
    const ready: Array<Promise<void>> = []
    for (let tid = 1; tid < nth; tid++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // The source is CommonJS: without this a parent started with --input-type=module would run it as ESM.
        execArgv: [],
        workerData: {module, memory, control, layout: CONTROL_BLOCK, tid, nth, names: THREADED_KERNELS, spin: SPIN},
      })
      pool.workers.push(worker)
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve())
          worker.once('error', reject)
        }),
      )
      worker.on('error', (error: Error) => {
        pool.workerError = error
      })
    }
    try {
      await Promise.all(ready)
    } catch (error) {
      await pool.stop()
      throw error
    }
    for (const w of pool.workers) w.unref()
    return pool
  }

  /** Runs kernel `name(...args, tid, nth)` on every thread and returns when all shares are done. */
  run(name: ThreadedKernel, args: number[]): void {
    if (this.stopped) throw new Error('wasm backend: used after dispose()')
    const fn = this.exports[name]
    if (this.nth === 1) {
      fn(...args, 0, 1)
      return
    }
    this.checkWorkers()
    const ctl = this.ctl
    for (let i = 0; i < args.length; i++) this.args[i] = args[i]
    Atomics.store(ctl, CTL_DONE, 0)
    Atomics.store(ctl, CTL_FN, THREADED_KERNELS.indexOf(name))
    Atomics.store(ctl, CTL_NARGS, args.length)
    Atomics.add(ctl, CTL_GEN, 1)
    Atomics.notify(ctl, CTL_GEN)
    let ownError: unknown = null
    try {
      fn(...args, 0, this.nth)
    } catch (error) {
      ownError = error
    }
    const want = this.nth - 1
    let spins = 0
    for (;;) {
      const done = Atomics.load(ctl, CTL_DONE)
      if (done === want) break
      this.checkWorkers()
      if (spins < SPIN) spins++
      else Atomics.wait(ctl, CTL_DONE, done, 100)
    }
    if (ownError) throw ownError
    if (Atomics.load(ctl, CTL_ERROR) !== 0) throw new Error(`wasm backend: kernel ${name} failed in a worker thread`)
  }

  private checkWorkers(): void {
    const error = this.workerError
    if (error) throw new Error(`wasm backend: a worker thread failed: ${error.message}`)
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    Atomics.store(this.ctl, CTL_FN, FN_EXIT)
    Atomics.add(this.ctl, CTL_GEN, 1)
    Atomics.notify(this.ctl, CTL_GEN)
    await Promise.all(this.workers.map((w) => w.terminate()))
    this.workers.length = 0
  }
}

/** Bump allocator over the shared memory; tells whether an array is a view into it. */
class Arena {
  private top: number
  private readonly buffers = new Set<ArrayBufferLike>()

  constructor(readonly memory: WasmMemory, heapBase: number) {
    this.top = Math.ceil(heapBase / ALIGN) * ALIGN
    this.buffers.add(memory.buffer)
  }

  /** A fresh, zeroed, 64-byte aligned block of `bytes` bytes; returns its byte offset. */
  allocBytes(bytes: number): number {
    const ptr = this.top
    const end = ptr + Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN
    const have = this.memory.buffer.byteLength
    if (end > have) {
      const needed = Math.ceil((end - have) / PAGE)
      if (have / PAGE + needed > MAX_PAGES) throw new RangeError(`wasm backend: out of memory (${end} bytes wanted, 4 GiB at most)`)
      // Grow by at least 16 MiB at a time: a model allocates hundreds of tensors, and untouched pages cost nothing.
      this.memory.grow(Math.min(MAX_PAGES - have / PAGE, Math.max(needed, 256)))
      this.buffers.add(this.memory.buffer)
    }
    this.top = end
    return ptr
  }

  f32(n: number): Float32Array {
    const ptr = this.allocBytes(n * 4)
    return new Float32Array(this.memory.buffer, ptr, n)
  }

  view(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n)
  }

  owns(a: ArrayBufferView): boolean {
    return this.buffers.has(a.buffer)
  }

  get bytesUsed(): number {
    return this.top
  }
}

/** A scratch block reused across calls, replaced by a bigger one when a call needs more. */
export class Scratch {
  private ptr = 0
  private floats = 0
  constructor(private readonly arena: Arena) {}
  /** The byte offset of a block of at least `floats` floats (its contents are whatever the last user left). */
  get(floats: number): number {
    if (floats > this.floats) {
      this.ptr = this.arena.allocBytes(floats * 4)
      this.floats = floats
    }
    return this.ptr
  }
  /** The same block as a Float32Array of `floats` floats. */
  view(floats: number): Float32Array {
    return this.arena.view(this.get(floats), floats)
  }
}

interface WasmLinear extends Linear {
  readonly packed: number
  readonly bias: number
}

/** The byte offset of `a` for a kernel: a view into the memory as is, anything else copied into a staging block. */
class Staging {
  private used = 0
  private block = 0
  private floats = 0
  private readonly copyBack: Array<{from: number; to: Float32Array}> = []
  constructor(private readonly arena: Arena) {}

  private take(n: number): number {
    if (this.used + n > this.floats) {
      // Earlier staged pointers of this call stay valid: the old block is not reused.
      this.floats = Math.max(2 * this.floats, n, 1 << 16)
      this.block = this.arena.allocBytes(this.floats * 4)
      this.used = 0
    }
    const ptr = this.block + this.used * 4
    this.used += Math.ceil(n / 16) * 16
    return ptr
  }

  input(a: Float32Array, n: number): number {
    if (a.length < n) throw new RangeError(`wasm backend: array of ${a.length} floats where ${n} are needed`)
    if (this.arena.owns(a)) return a.byteOffset
    const ptr = this.take(n)
    this.arena.view(ptr, n).set(a.subarray(0, n))
    return ptr
  }

  output(a: Float32Array, n: number, initial = false): number {
    if (a.length < n) throw new RangeError(`wasm backend: array of ${a.length} floats where ${n} are needed`)
    if (this.arena.owns(a)) return a.byteOffset
    const ptr = initial ? this.input(a, n) : this.take(n)
    this.copyBack.push({from: ptr, to: a.subarray(0, n)})
    return ptr
  }

  /** The byte offset of an index table for a kernel: a view into the memory as is, anything else staged. */
  index(rows: Int32Array, n: number): number {
    if (rows.length < n) throw new RangeError(`wasm backend: index table of ${rows.length} entries where ${n} are needed`)
    if (this.arena.owns(rows)) return rows.byteOffset
    // a Float32Array over the same bytes: a copy between arrays of one type copies the bytes as they are
    return this.input(new Float32Array(rows.buffer, rows.byteOffset, n), n)
  }

  /** Copies staged outputs back and frees the staging space for the next call. */
  finish(): void {
    for (const {from, to} of this.copyBack) to.set(this.arena.view(from, to.length))
    this.copyBack.length = 0
    this.used = 0
  }
}

export class WasmBackend implements Backend {
  readonly name: string
  private readonly staging: Staging
  private readonly packScratch: Scratch
  private readonly partialScratch: Scratch
  private readonly attnScratch: Scratch
  private readonly counters: Int32Array
  private readonly linearCounter: number
  private readonly attentionCounter: number

  constructor(
    variant: SimdVariant,
    private readonly arena: Arena,
    private readonly exports: KernelExports,
    private readonly pool: ThreadPool,
  ) {
    this.name = variant === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd'
    this.staging = new Staging(arena)
    this.packScratch = new Scratch(arena)
    this.partialScratch = new Scratch(arena)
    this.attnScratch = new Scratch(arena)
    // Work counters of the linear and attention kernels, on cache lines of their own.
    const counters = arena.allocBytes(128)
    this.counters = new Int32Array(arena.memory.buffer, counters, 32)
    this.linearCounter = counters
    this.attentionCounter = counters + 64
  }

  get threads(): number {
    return this.pool.nth
  }

  /** Bytes of WebAssembly memory handed out so far (weights, activations, scratch). */
  get memoryBytes(): number {
    return this.arena.bytesUsed
  }

  alloc(n: number): Float32Array {
    return this.arena.f32(n)
  }

  // --- for the training kernels (./train.ts), which drive kernels of their own on this backend's memory and threads

  /** Runs a threaded kernel (`tid, nth` appended) on every thread of this backend. */
  runKernel(name: ThreadedKernel, args: number[]): void {
    this.pool.run(name, args)
  }

  /** The byte offset of `a` (at least `n` floats) in this backend's memory; a RangeError for an array from elsewhere. */
  pointer(a: Float32Array, n: number): number {
    if (!this.arena.owns(a)) throw new RangeError('wasm backend: an array that was not allocated with alloc()')
    if (a.length < n) throw new RangeError(`wasm backend: array of ${a.length} floats where ${n} are needed`)
    return a.byteOffset
  }

  /** A scratch block of this backend's memory, reused from call to call. */
  scratch(): Scratch {
    return new Scratch(this.arena)
  }

  /** Floats of per-thread scratch a kernel needs, from the module's sizing export (e.g. attentionBackwardScratch). */
  scratchFloats(sizer: 'attentionScratch' | 'attentionBackwardScratch', T: number, C: number, NH: number): number {
    return this.exports[sizer](T, C, NH) as number
  }

  /** The attention kernels' work counter, zeroed for the next call; returns its byte offset. */
  jobCounter(): number {
    Atomics.store(this.counters, 16, 0)
    return this.attentionCounter
  }

  /** A Linear over an already packed weight at byte offset `packed` (packPanels' layout), for `linear`. */
  packedLinear(packed: number, bias: Float32Array | null, N: number, K: number): Linear {
    const lin: WasmLinear = {outFeatures: N, inFeatures: K, packed, bias: bias ? this.pointer(bias, N) : 0}
    return lin
  }

  prepareLinear(weight: Float32Array, bias: Float32Array | null, N: number, K: number): Linear {
    const n = N * K
    if (weight.length < n) throw new RangeError(`prepareLinear: weight holds ${weight.length} floats, [${N}, ${K}] needs ${n}`)
    if (bias && bias.length < N) throw new RangeError(`prepareLinear: bias holds ${bias.length} floats, ${N} needed`)
    // A weight in this memory is packed where it is; any other is copied in first (the caller may drop it).
    let packed: number
    if (this.arena.owns(weight)) packed = weight.byteOffset
    else {
      const copy = this.arena.f32(n)
      copy.set(weight.subarray(0, n))
      packed = copy.byteOffset
    }
    this.pool.run('packLinear', [packed, N, K, this.packScratch.get(16 * K * this.pool.nth)])
    let biasPtr = 0
    if (bias) {
      if (this.arena.owns(bias)) biasPtr = bias.byteOffset
      else {
        const copy = this.arena.f32(N)
        copy.set(bias.subarray(0, N))
        biasPtr = copy.byteOffset
      }
    }
    const lin: WasmLinear = {outFeatures: N, inFeatures: K, packed, bias: biasPtr}
    return lin
  }

  linear(out: Float32Array, inp: Float32Array, lin: Linear, M: number, epilogue: Epilogue, residual?: Float32Array): void {
    const {packed, bias, outFeatures: N, inFeatures: K} = lin as WasmLinear
    if (packed === undefined) throw new TypeError('linear: this Linear was not prepared by the wasm backend')
    if (M === 0) return
    const s = this.staging
    const inPtr = s.input(inp, M * K)
    const outPtr = s.output(out, M * N, residual === out)
    const resPtr = residual === undefined ? 0 : residual === out ? outPtr : s.input(residual, M * N)
    const partial = K > KC ? this.partialScratch.get(M * N) : 0
    try {
      Atomics.store(this.counters, 0, 0)
      this.pool.run('linear', [outPtr, inPtr, packed, bias, resPtr, partial, M, N, K, epilogue === 'gelu' ? 1 : 0, KC, MC, this.linearCounter])
    } finally {
      s.finish()
    }
  }

  layerNorm(out: Float32Array, inp: Float32Array, gamma: Float32Array, beta: Float32Array, M: number, C: number, eps: number): void {
    const s = this.staging
    const args = [s.output(out, M * C), s.input(inp, M * C), s.input(gamma, C), s.input(beta, C), M, C, eps]
    try {
      this.pool.run('layerNorm', args)
    } finally {
      s.finish()
    }
  }

  attention(out: Float32Array, qkv: Float32Array, B: number, T: number, C: number, NH: number): void {
    if (C % NH !== 0) throw new RangeError(`attention: hidden size ${C} is not a multiple of the ${NH} heads`)
    const s = this.staging
    const scratch = this.attnScratch.get(this.exports.attentionScratch(T, C, NH) * this.pool.nth)
    const args = [s.output(out, B * T * C), s.input(qkv, B * T * 3 * C), scratch, B, T, C, NH, this.attentionCounter]
    Atomics.store(this.counters, 16, 0)
    try {
      this.pool.run('attention', args)
    } finally {
      s.finish()
    }
  }

  biasedAttention(
    out: Float32Array,
    qkv: Float32Array,
    bias: Float32Array | null,
    nBias: number,
    scale: number,
    headScale: Float32Array | null,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void {
    if (C % NH !== 0) throw new RangeError(`biasedAttention: hidden size ${C} is not a multiple of the ${NH} heads`)
    if (bias && bias.length < nBias * NH * T * T) throw new RangeError(`biasedAttention: bias holds ${bias.length} floats, ${nBias}x${NH}x${T}x${T} needed`)
    const s = this.staging
    const scratch = this.attnScratch.get(this.exports.attentionBiasScratch(T, C, NH) * this.pool.nth)
    const args = [
      s.output(out, B * T * C),
      s.input(qkv, B * T * 3 * C),
      bias ? s.input(bias, nBias * NH * T * T) : 0,
      nBias,
      scale,
      headScale ? s.input(headScale, NH) : 0,
      scratch,
      B,
      T,
      C,
      NH,
      this.attentionCounter,
    ]
    Atomics.store(this.counters, 16, 0)
    try {
      this.pool.run('attentionBias', args)
    } finally {
      s.finish()
    }
  }

  /** out[n] = gelu(inp[n]), the epilogue's vector GELU on its own (tests, benchmarks). */
  gelu(out: Float32Array, inp: Float32Array, n: number): void {
    const s = this.staging
    const args = [s.output(out, n), s.input(inp, n), n]
    try {
      this.pool.run('gelu', args)
    } finally {
      s.finish()
    }
  }

  /** out[M, N] = row-wise softmax of inp[M, N] (the attention kernel's softmax on its own). */
  softmax(out: Float32Array, inp: Float32Array, M: number, N: number): void {
    const s = this.staging
    const args = [s.output(out, M * N), s.input(inp, M * N), M, N]
    try {
      this.pool.run('softmax', args)
    } finally {
      s.finish()
    }
  }

  allocIndex(n: number): Int32Array {
    return new Int32Array(this.arena.memory.buffer, this.arena.allocBytes(n * 4), n)
  }

  gatherRows(out: Float32Array, inp: Float32Array, rows: Int32Array, R: number, C: number): void {
    const s = this.staging
    try {
      this.pool.run('gatherRows', [s.output(out, R * C), s.input(inp, inp.length), s.index(rows, R), R, C])
    } finally {
      s.finish()
    }
  }

  scatterAddRows(out: Float32Array, inp: Float32Array, rows: Int32Array, R: number, C: number): void {
    const s = this.staging
    try {
      this.pool.run('scatterAddRows', [s.output(out, out.length, true), s.input(inp, R * C), s.index(rows, R), R, C])
    } finally {
      s.finish()
    }
  }

  addInto(out: Float32Array, inp: Float32Array, n: number): void {
    const s = this.staging
    try {
      this.pool.run('addInto', [s.output(out, n, true), s.input(inp, n), n])
    } finally {
      s.finish()
    }
  }

  /**
   * GFLOP per CPU-second of register-only f32x4 multiply-adds on the calling thread: the ceiling of 128-bit
   * WebAssembly SIMD on this CPU, against which the kernels' rates are read (benchmarks). CPU time, not wall time,
   * so a shared machine does not pull it down (the process's other threads are idle meanwhile).
   */
  fmaPeakGflops(): number {
    const iters = 2_000_000
    this.exports.fmaPeak(iters / 10)
    const c = process.cpuUsage()
    this.exports.fmaPeak(iters)
    const used = process.cpuUsage(c)
    return (iters * 96) / ((used.user + used.system) * 1e3)
  }

  dispose(): void {
    void this.pool.stop()
  }
}

/** Every core this process may use. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism())
}

function checkThreads(threads: number): number {
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > 256) throw new RangeError(`threads must be an integer from 1 to 256, got ${threads}`)
  return threads
}

/**
 * The WebAssembly SIMD backend on `threads` threads (default: every core). Throws when this runtime has no
 * WebAssembly SIMD (see selectBackend for the fallback).
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const threads = checkThreads(options.threads ?? defaultThreads())
  const variant = options.variant ?? bestWasmVariant()
  if (!wasmApi || variant === null || !wasmVariantSupported(variant)) {
    throw new Error(`this runtime cannot run the WebAssembly ${variant ?? 'SIMD'} kernels (Node ${process.version})`)
  }
  const module = await compileVariant(wasmApi, variant)
  const memory = new wasmApi.Memory({initial: 1, maximum: MAX_PAGES, shared: true})
  const instance = await wasmApi.instantiate(module, {env: {memory}})
  const exports = instance.exports as unknown as KernelExports
  const arena = new Arena(memory, exports.heapBase())
  const pool = await ThreadPool.start(threads, module, memory, exports)
  return new WasmBackend(variant, arena, exports, pool)
}

export interface SelectBackendOptions {
  /** Threads for the wasm backend (default every core); the TypeScript backend is single-threaded. */
  threads?: number
  /** 'wasm' (default) falls back to 'ts' when WebAssembly SIMD is unavailable; 'ts' forces the TypeScript kernels. */
  prefer?: 'wasm' | 'ts'
}

/** The backend to score with: the wasm one when this runtime runs it, else the plain TypeScript kernels. */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<Backend> {
  if (options.threads !== undefined) checkThreads(options.threads)
  if (options.prefer !== 'ts' && bestWasmVariant() !== null) return createWasmBackend({threads: options.threads})
  const {createTsBackend} = await import('../backend-ts.js')
  return createTsBackend()
}
