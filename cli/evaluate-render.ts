/**
 * Human output of `vitrine evaluate`: the headline metrics, per-class figures, what the local run does differently
 * from the job, skipped rows with their lines, and where the files went.
 */
import type {EvaluateResult} from '../src/evaluate/result.js'
import {printable} from '../src/core/printable.js'

const HEADLINE = ['accuracy', 'precision_score_macro', 'recall_score_macro', 'f1_score_macro', 'f1_score_weighted', 'AUC_macro', 'log_loss', 'iou']
const MAX_BAD_SHOWN = 20

const fmt = (v: unknown): string => (typeof v === 'number' ? v.toFixed(4) : 'n/a')

export function renderEvaluateResult(result: EvaluateResult): string {
  const m = result.metrics
  const lines: string[] = []
  lines.push(`${result.task}: ${m.rows_scored} rows scored, ${m.rows_skipped} skipped (${result.data.format} ${printable(result.data.path)}) in ${result.seconds.toFixed(1)}s`)
  const present = HEADLINE.filter((n) => n in m.metrics)
  const width = Math.max(...present.map((n) => n.length), 8)
  for (const n of present) lines.push(`  ${n.padEnd(width)}  ${fmt(m.metrics[n])}`)
  const others = Object.keys(m.metrics).filter((n) => !present.includes(n))
  if (others.length) lines.push(`  (+ ${others.join(', ')} in metrics.json)`)
  if (m.per_class.length <= 30) {
    const lw = Math.max(5, ...m.per_class.map((c) => printable(c.label).length))
    lines.push('', `  ${'class'.padEnd(lw)}  precision  recall  f1      support`)
    for (const c of m.per_class) {
      lines.push(`  ${printable(c.label).padEnd(lw)}  ${c.precision.toFixed(4).padStart(9)}  ${c.recall.toFixed(4)}  ${c.f1_score.toFixed(4)}  ${String(c.support).padStart(7)}`)
    }
  }
  if (m.not_computed.length) lines.push('', `Not computed: ${m.not_computed.map((n) => `${n.metric} (${n.reason})`).join('; ')}`)
  if (result.job) {
    lines.push('', `From ${printable(result.job.file)} (job ${printable(result.job.job)}); not as on Azure:`)
    for (const n of result.job.notes) lines.push(`  - ${printable(n)}`)
  }
  if (result.skipped.length) {
    lines.push('', `Skipped ${result.skipped.length} bad row(s) (--strict fails on them):`)
    for (const b of result.skipped.slice(0, MAX_BAD_SHOWN)) lines.push(`  ${printable(b.source)}: ${printable(b.reason)}`)
    if (result.skipped.length > MAX_BAD_SHOWN) lines.push(`  ... and ${result.skipped.length - MAX_BAD_SHOWN} more (see --json)`)
  }
  if (result.outputs) {
    lines.push('', `Wrote ${printable(result.outputs.metrics)}`, `      ${printable(result.outputs.predictions)}`, `      ${printable(result.outputs.report)}`)
  }
  return lines.join('\n')
}
