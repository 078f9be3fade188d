/** Human output of `vitrine finetune`: per-epoch metrics, skipped rows with their lines, notes, where the files went. */
import type {FinetuneResult} from '../src/finetune/finetune.js'
import {printable} from '../src/core/printable.js'

const MAX_BAD_SHOWN = 20

export function renderFinetuneResult(r: FinetuneResult): string {
  const lines: string[] = []
  const h = r.hyperparameters
  lines.push(
    `${r.task}: ${r.totalSteps} steps (${r.stepsPerEpoch} per epoch) on ${r.trainData.rows} images, batch ${h.batchSize}` +
      `${h.gradientAccumulation > 1 ? ` x ${h.gradientAccumulation}` : ''}, ${h.optimizer} lr ${h.learningRate} ${h.scheduler}, ${r.backend} kernels x ${r.threads} thread${r.threads === 1 ? '' : 's'}, ${r.seconds.toFixed(1)}s`,
  )
  lines.push(`labels: ${r.newHead ? 'new head for' : 'the model\'s head,'} ${r.labels.length} classes (${r.labels.slice(0, 8).map(printable).join(', ')}${r.labels.length > 8 ? ', ...' : ''})`)
  if (r.resumedAtStep !== undefined) lines.push(`resumed after step ${r.resumedAtStep}`)
  for (const m of r.metrics) {
    const val = m.validation_loss === undefined ? '' : `  validation loss ${m.validation_loss.toFixed(4)}  accuracy ${(m.validation_accuracy ?? 0).toFixed(4)}`
    lines.push(`  epoch ${String(m.epoch).padStart(3)}  train loss ${m.train_loss.toFixed(4)}${val}`)
  }
  if (r.skipped.length) {
    lines.push('', `Skipped ${r.skipped.length} row${r.skipped.length === 1 ? '' : 's'}:`)
    for (const b of r.skipped.slice(0, MAX_BAD_SHOWN)) lines.push(`  ${printable(b.source)}: ${printable(b.reason)}`)
    if (r.skipped.length > MAX_BAD_SHOWN) lines.push(`  ... and ${r.skipped.length - MAX_BAD_SHOWN} more (--json lists all)`)
  }
  if (r.notes.length) {
    lines.push('', 'Not as on Azure:')
    for (const n of r.notes) lines.push(`  - ${printable(n)}`)
  }
  lines.push('', `Wrote ${printable(r.out)}: pytorch_model_folder/, mlflow_model_folder/, metrics.json, steps.jsonl`)
  return lines.join('\n')
}
