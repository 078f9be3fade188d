/**
 * Validating a big tree on every core: asset folders are independent (YAML parsing dominates), so they are
 * split over worker threads, each with its own catalog and compiled schemas. Only used from the compiled package
 * (dist/), where the worker script exists as JavaScript.
 */
import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'

import type {Progress} from '../core/progress.js'
import type {FoundAsset} from './discover.js'
import type {AssetValidation} from './validate-asset.js'

export interface WorkerInput {
  assets: FoundAsset[]
  skuCatalog?: string
  supportedInferenceSkus: string[]
}

export type WorkerMessage = {done: number} | {results: AssetValidation[]} | {error: string}

const WORKER_URL = new URL('./validate-worker.js', import.meta.url)

/**
 * How many workers to use for `count` assets: `requested` (--threads), else VITRINE_WORKERS, else none. Measured on
 * the 2-core machine this was built on, one thread beat two for 500 assets (each worker loads and JIT-warms its
 * own yaml/ajv, ~0.4 s of CPU): so threads are opt-in, for machines with cores to spare.
 */
export function workersFor(count: number, requested?: number): number {
  if (!import.meta.url.endsWith('.js')) return 1 // running from TypeScript sources (tests): no compiled worker
  const env = process.env.VITRINE_WORKERS
  const wanted = requested ?? (env !== undefined && env !== '' ? Number(env) : undefined)
  if (wanted === undefined || !Number.isFinite(wanted) || count < 2) return 1
  return Math.max(1, Math.min(Math.floor(wanted), count, availableParallelism() * 2))
}

function runWorker(input: WorkerInput, progress: Progress): Promise<AssetValidation[]> {
  return new Promise((resolve, reject) => {
    // A bigger young generation: parsing YAML allocates many short-lived nodes, and scavenges dominate otherwise.
    const worker = new Worker(WORKER_URL, {workerData: input, resourceLimits: {maxYoungGenerationSizeMb: 48}})
    let settled = false
    worker.on('message', (m: WorkerMessage) => {
      if ('done' in m) progress.advance(m.done)
      else if ('results' in m) {
        settled = true
        resolve(m.results)
      } else {
        settled = true
        reject(new Error(`validate worker: ${m.error}`))
      }
    })
    worker.on('error', (err) => {
      settled = true
      reject(err)
    })
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`validate worker exited with code ${code}`))
    })
  })
}

/** Validates `assets` over `workers` threads; results come back in the order of `assets`. */
export async function validateInWorkers(
  assets: FoundAsset[],
  options: {skuCatalog?: string; supportedInferenceSkus: string[]},
  workers: number,
  progress: Progress,
): Promise<AssetValidation[]> {
  // Contiguous chunks keep each worker in one part of the tree (directory caches); sizes differ by at most one.
  const chunks: FoundAsset[][] = []
  const per = Math.ceil(assets.length / workers)
  for (let i = 0; i < assets.length; i += per) chunks.push(assets.slice(i, i + per))
  const parts = await Promise.all(chunks.map((chunk) => runWorker({assets: chunk, ...options}, progress)))
  return parts.flat()
}
