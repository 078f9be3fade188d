import {formatChange} from '../src/azure/diff.js'
import type {ApplyResult} from '../src/azure/run-apply.js'
import {KIND_LABEL, type PlannedResource} from '../src/azure/types.js'

const MARK: Record<PlannedResource['action'], string> = {
  create: '+ create   ',
  update: '~ update   ',
  repair: '* repair   ',
  'no-change': '= no change',
  refused: '! refused  ',
}

/** The plan, one resource a line, each field change and note indented under it. */
export function renderPlan(resources: PlannedResource[]): string {
  const lines: string[] = []
  const kindWidth = Math.max(0, ...resources.map((r) => KIND_LABEL[r.kind].length))
  const nameWidth = Math.max(0, ...resources.map((r) => r.name.length))
  for (const r of resources) {
    lines.push(`  ${MARK[r.action]}  ${KIND_LABEL[r.kind].padEnd(kindWidth)}  ${r.name.padEnd(nameWidth)}  (${r.file})`)
    for (const c of r.changes) lines.push(`        ${formatChange(c)}`)
    if (r.reason) lines.push(`        ${r.action === 'refused' ? 'refused: ' : ''}${r.reason}`)
    for (const n of r.notes) lines.push(`        note: ${n}`)
  }
  return lines.join('\n')
}

export function renderSummary(result: ApplyResult): string {
  const s = result.summary
  const parts = [`${s.create} to create`, `${s.update} to update`, ...(s.repair ? [`${s.repair} to repair`] : []), `${s.noChange} unchanged`]
  if (s.refused) parts.push(`${s.refused} refused`)
  let text = `Plan: ${parts.join(', ')}.`
  if (s.create + s.update + s.repair + s.refused === 0) text = `No changes. ${text}`
  return text
}

/** After apply: what happened, and what is still running in Azure. */
export function renderOutcome(result: ApplyResult): string {
  const lines: string[] = []
  const applied = result.applied ?? []
  const count = (o: string) => applied.filter((a) => a.outcome === o).length
  const parts = ['created', 'updated', 'submitted', 'running', 'succeeded', 'failed', 'unchanged']
    .map((o) => [o, count(o)] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o === 'running' ? 'started' : o}`)
  if (result.uploaded && result.uploaded.files) lines.push(`Uploaded ${result.uploaded.files} files (${result.uploaded.bytes} bytes).`)
  lines.push(`Applied: ${parts.length ? parts.join(', ') : 'nothing'}.`)
  const running = result.stillRunning ?? []
  if (result.interrupted && !running.length) lines.push('Stopped (Ctrl-C). Nothing is left running in Azure.')
  if (running.length) {
    lines.push(
      result.timedOut
        ? 'Stopped waiting (--timeout). Still running in Azure:'
        : result.interrupted
          ? 'Stopped waiting (Ctrl-C). Still running in Azure:'
          : 'Still running in Azure (use --wait to follow):',
    )
    for (const r of running) {
      lines.push(`  ${KIND_LABEL[r.kind]} ${r.name}: ${r.status ?? 'Running'}${r.operation ? `  (operation ${r.operation})` : ''}`)
    }
  }
  return lines.join('\n')
}
