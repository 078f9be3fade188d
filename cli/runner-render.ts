/**
 * Rendering and shared flags of the local runner commands (score, serve, batch).
 */
import {Flags} from '@oclif/core'

import type {BatchResult} from '../src/runner/run-batch.js'
import type {ScoreResponse} from '../src/runner/request.js'
import {BACKEND_CHOICES, DEFAULT_TOP_K} from '../src/runner/scorer.js'
import {printable} from '../src/core/printable.js'

/** The flags every runner command takes: the model and how to run it. */
export const runnerFlags = {
  model: Flags.string({char: 'm', description: 'Model folder: Hugging Face (config.json + model.safetensors), MLflow, or a `vitrine package` output', required: true}),
  threads: Flags.integer({description: 'Kernel threads (default: every core)', min: 1, max: 256}),
  backend: Flags.option({description: 'Kernels: wasm (WebAssembly SIMD, falls back to ts where unsupported) or ts', options: BACKEND_CHOICES, default: 'wasm'})(),
  'top-k': Flags.integer({char: 'k', description: 'Labels per image, best first', min: 1, default: DEFAULT_TOP_K}),
}

/** A bar of `width` cells for a score in [0, 1], with eighth-cell resolution. */
export function scoreBar(score: number, width = 20): string {
  const eighths = Math.round(Math.max(0, Math.min(1, score)) * width * 8)
  const full = Math.floor(eighths / 8)
  const part = eighths % 8
  return '█'.repeat(full) + (part ? '▏▎▍▌▋▊▉'[part - 1] ?? '' : '')
}

/** One block per image: its name, then its top-k labels with scores and bars. */
export function renderScoreTable(ids: readonly string[], response: ScoreResponse): string {
  const labelWidth = Math.max(5, ...response.flat().map((p) => printable(p.label).length))
  const blocks = response.map((predictions, i) => {
    const rows = predictions.map((p) => `  ${printable(p.label).padEnd(labelWidth)}  ${p.score.toFixed(4)}  ${scoreBar(p.score)}`)
    return [printable(ids[i]), ...rows].join('\n')
  })
  return blocks.join('\n\n')
}

/** The summary `vitrine batch` prints. */
export function renderBatchResult(r: BatchResult): string {
  const lines = [
    `${printable(r.out)}: ${r.scored} rows written (${r.failed} errors)${r.skipped ? `, ${r.skipped} done by an earlier run` : ''}, ${r.total} inputs`,
    `${r.imagesPerSecond.toFixed(1)} images/s on ${r.backend} x ${r.threads} thread${r.threads === 1 ? '' : 's'}, ${r.seconds.toFixed(1)}s`,
  ]
  for (const e of r.errors) lines.push(`  error ${printable(e.error.startsWith(e.id) ? e.error : `${e.id}: ${e.error}`)}`)
  if (r.failed > r.errors.length) lines.push(`  ... and ${r.failed - r.errors.length} more errors (see the error column)`)
  return lines.join('\n')
}
