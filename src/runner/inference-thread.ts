/**
 * The network on a worker thread of its own (`vitrine serve`): the worker loads the model and its backend (the
 * WebAssembly kernels and their threads) and runs every forward pass; the main thread, which answers HTTP, decodes
 * on the preprocessing pool, posts the pixels and awaits the outcomes. A forward pass of a large batch takes
 * hundreds of milliseconds; on the main thread it held `/` and `/ready` that long (issue 13: they must answer
 * within 100 ms under any load).
 *
 *   const engine = await InferenceThread.load('examples/models/vit-digits', {threads: 2, preprocessWorkers: 1})
 *   const outcomes = await engine.run(await engine.prepare(items), {topK: 5})
 *   engine.dispose()
 *
 * Only from the compiled package (dist/), where the worker script exists as JavaScript, like the preprocessing
 * pool; `loadScoringEngine` falls back to an in-process Scorer from the TypeScript sources (tests).
 */
import {Worker} from 'node:worker_threads'

import {ExitCode, InvalidInputError, RemoteError, UsageError, VitrineError, isVitrineError} from '../core/errors.js'
import type {PreprocessorConfig} from '../image/preprocessor-config.js'
import {PreprocessPool, preprocessWorkersAvailable} from '../image/preprocess-pool.js'
import {
  type PreparedImages, type ScoreInput, type ScoreOptions, type ScoreOutcome, Scorer, type ScorerOptions, type ScoringEngine, prepareImages,
} from './scorer.js'

/** An error as it crosses the thread boundary: enough to rebuild the user error (and its exit code) or the bug. */
export interface ThreadError {
  message: string
  /** A VitrineError's exit code; undefined for a bug. */
  exitCode?: number
  file?: string
  hint?: string
}

/** Main thread to worker. */
export type InferenceRequest =
  | {kind: 'load'; dir: string; options: ScorerOptions}
  | {kind: 'run'; id: number; ids: string[]; outcomes: ScoreOutcome[]; pixels: Array<Float32Array | undefined>; options: ScoreOptions}

/** Worker to main thread. */
export type InferenceReply =
  | {kind: 'loaded'; labels: string[]; backendName: string; threads: number; preprocessor: PreprocessorConfig}
  | {kind: 'load-failed'; error: ThreadError}
  | {kind: 'ran'; id: number; outcomes: ScoreOutcome[]}
  | {kind: 'run-failed'; id: number; error: ThreadError}

const WORKER_URL = new URL('./inference-worker.js', import.meta.url)

export function toThreadError(error: unknown): ThreadError {
  if (isVitrineError(error)) return {message: error.message, exitCode: error.exitCode, file: error.file, hint: error.hint}
  return {message: error instanceof Error ? (error.stack ?? error.message) : String(error)}
}

/** The error a ThreadError stands for: the same user-error class (and exit code), or an Error for a bug. */
export function fromThreadError(e: ThreadError): Error {
  const options = {file: e.file, hint: e.hint}
  if (e.exitCode === ExitCode.InvalidInput) return new InvalidInputError(e.message, options)
  if (e.exitCode === ExitCode.Usage) return new UsageError(e.message, options)
  if (e.exitCode === ExitCode.Remote) return new RemoteError(e.message, options)
  if (e.exitCode !== undefined) return new VitrineError(e.message, e.exitCode as ExitCode, options)
  return new Error(`inference thread: ${e.message}`)
}

export class InferenceThread implements ScoringEngine {
  private readonly pending = new Map<number, {resolve: (o: ScoreOutcome[]) => void; reject: (e: Error) => void}>()
  private nextId = 0
  private disposed = false
  private failed: Error | undefined

  private constructor(
    private readonly worker: Worker,
    readonly labels: string[],
    readonly backendName: string,
    readonly threads: number,
    private readonly preprocessor: PreprocessorConfig,
    private readonly pool: PreprocessPool | undefined,
    private readonly maxPixels: number | undefined,
  ) {
    worker.unref()
    worker.on('message', (reply: InferenceReply) => {
      if (reply.kind !== 'ran' && reply.kind !== 'run-failed') return
      const p = this.pending.get(reply.id)
      this.pending.delete(reply.id)
      if (this.pending.size === 0) worker.unref()
      if (!p) return
      if (reply.kind === 'ran') p.resolve(reply.outcomes)
      else p.reject(fromThreadError(reply.error))
    })
    const fail = (error: Error): void => {
      this.failed ??= error
      for (const p of this.pending.values()) p.reject(error)
      this.pending.clear()
    }
    worker.on('error', (error) => fail(new Error(`inference thread failed: ${error.message}`)))
    worker.on('exit', (code) => {
      if (!this.disposed) fail(new Error(`inference thread exited (code ${code})`))
    })
  }

  /** Starts the worker and loads the model there; rejects with the load's own error (a user error keeps its class). */
  static async load(dir: string, options: ScorerOptions = {}): Promise<InferenceThread> {
    // Referenced while it has work (the load, a run), so that awaiting it keeps the process alive; unreferenced
    // when idle, so that an engine nobody disposed never holds the process open.
    const worker = new Worker(WORKER_URL)
    let reply: InferenceReply
    // Removed one by one after the load: removeAllListeners() would also drop Node's own, and no message came again.
    let onMessage: ((r: InferenceReply) => void) | undefined
    let onError: ((e: Error) => void) | undefined
    let onExit: ((code: number) => void) | undefined
    try {
      reply = await new Promise<InferenceReply>((resolve, reject) => {
        onMessage = resolve
        onError = reject
        onExit = (code) => reject(new Error(`inference thread exited (code ${code}) while loading the model`))
        worker.once('message', onMessage).once('error', onError).once('exit', onExit)
        const request: InferenceRequest = {kind: 'load', dir, options: {...options, preprocessWorkers: 0}}
        worker.postMessage(request)
      })
    } catch (error) {
      await worker.terminate()
      throw error
    } finally {
      if (onMessage) worker.off('message', onMessage)
      if (onError) worker.off('error', onError)
      if (onExit) worker.off('exit', onExit)
    }
    if (reply.kind !== 'loaded') {
      await worker.terminate()
      throw reply.kind === 'load-failed' ? fromThreadError(reply.error) : new Error(`inference thread: unexpected ${reply.kind} while loading`)
    }
    const workers = options.preprocessWorkers ?? 0
    const pool = workers > 0 && preprocessWorkersAvailable() ? new PreprocessPool(workers) : undefined
    return new InferenceThread(worker, reply.labels, reply.backendName, reply.threads, reply.preprocessor, pool, options.maxPixels)
  }

  /** Decoding and preprocessing, on this (main) thread's pool: see Scorer.prepare. */
  prepare(items: readonly ScoreInput[]): Promise<PreparedImages> {
    if (this.disposed) throw new Error('internal: prepare() called on a disposed InferenceThread')
    return prepareImages(items, this.preprocessor, this.pool, this.maxPixels)
  }

  /** The network on the worker thread: Scorer.run there, on the prepared pixels. */
  run(prepared: PreparedImages, options: ScoreOptions = {}): Promise<ScoreOutcome[]> {
    if (this.disposed) return Promise.reject(new Error('internal: run() called on a disposed InferenceThread'))
    if (this.failed) return Promise.reject(this.failed)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref()
      this.pending.set(id, {resolve, reject})
      // Only the ids cross: the encoded bytes stay here (the worker names images in errors, nothing more).
      const request: InferenceRequest = {kind: 'run', id, ids: prepared.items.map((i) => i.id), outcomes: prepared.outcomes, pixels: prepared.pixels, options}
      this.worker.postMessage(request)
    })
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    void this.pool?.close()
    void this.worker.terminate()
  }
}

/**
 * The scoring engine `serve` runs on: the network on its own thread (InferenceThread) from the compiled package, an
 * in-process Scorer from the TypeScript sources, where no worker script exists.
 */
export function loadScoringEngine(dir: string, options: ScorerOptions = {}): Promise<ScoringEngine> {
  return preprocessWorkersAvailable() ? InferenceThread.load(dir, options) : Scorer.load(dir, options)
}
