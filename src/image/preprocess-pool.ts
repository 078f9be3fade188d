/**
 * Decoding and preprocessing off the event loop: a few worker threads each run `preprocessImage` on one image at a
 * time, so `vitrine serve` answers `/` and `/ready` while large images are decoded, resized and normalised (libvips
 * decodes off the loop already; the 16-bit and CMYK conversions, the resize and the normalisation are JavaScript).
 * Only from the compiled package (dist/), where the worker script exists as JavaScript; from the TypeScript sources
 * (tests) `preprocessInPool` runs in-process, like src/assets/pool.ts.
 */
import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'

import {InvalidInputError} from '../core/errors.js'
import {preprocessImage} from './index.js'
import type {PreprocessorConfig} from './preprocessor-config.js'

export interface PreprocessJob {
  id: number
  bytes: Uint8Array
  pre: PreprocessorConfig
  source: string
  maxPixels?: number
}

export type PreprocessReply = {id: number; values: Float32Array} | {id: number; error: {name: string; message: string; user: boolean}}

const WORKER_URL = new URL('./preprocess-worker.js', import.meta.url)

/** True when the compiled worker script exists (running from dist/). */
export function preprocessWorkersAvailable(): boolean {
  return import.meta.url.endsWith('.js')
}

export class PreprocessPool {
  private readonly workers: Worker[] = []
  private readonly idle: Worker[] = []
  private readonly queue: Array<() => void> = []
  private readonly pending = new Map<number, {resolve: (v: Float32Array) => void; reject: (e: Error) => void}>()
  private nextId = 0
  private closed = false

  constructor(size = Math.max(1, Math.min(2, availableParallelism()))) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL)
      worker.unref()
      worker.on('message', (reply: PreprocessReply) => this.settle(worker, reply))
      worker.on('error', (error) => this.failAll(error))
      this.workers.push(worker)
      this.idle.push(worker)
    }
  }

  /** preprocessImage on a worker thread; user errors (bad bytes, over-size) come back as InvalidInputError. */
  async run(bytes: Uint8Array, pre: PreprocessorConfig, source: string, maxPixels?: number): Promise<Float32Array> {
    if (this.closed) throw new Error('internal: PreprocessPool used after close()')
    const worker = this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.queue.push(() => resolve(this.idle.pop()!))))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      const job: PreprocessJob = {id, bytes, pre, source, maxPixels}
      worker.postMessage(job)
    })
  }

  private settle(worker: Worker, reply: PreprocessReply): void {
    const p = this.pending.get(reply.id)
    this.pending.delete(reply.id)
    this.idle.push(worker)
    this.queue.shift()?.()
    if (!p) return
    if ('values' in reply) p.resolve(reply.values)
    else p.reject(reply.error.user ? new InvalidInputError(reply.error.message) : new Error(`preprocess worker: ${reply.error.message}`))
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error)
    this.pending.clear()
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

/**
 * Images up to this many pixels are preprocessed in-process even when there is a pool: they cost the event loop a
 * millisecond or two, and must not wait in the pool's queue behind large ones.
 */
export const POOL_MIN_PIXELS = 512 * 512

/** Preprocesses on `pool` when there is one and the image is large (`pixels`, from its header), else in-process. */
export function preprocessInPool(pool: PreprocessPool | undefined, pixels: number, bytes: Uint8Array, pre: PreprocessorConfig, source: string, maxPixels?: number): Promise<Float32Array> {
  return pool && pixels > POOL_MIN_PIXELS ? pool.run(bytes, pre, source, maxPixels) : preprocessImage(bytes, pre, source, {maxPixels})
}
