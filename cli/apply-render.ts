import {formatChange} from '../src/azure/diff.js'
import type {ApplyResult} from '../src/azure/run-apply.js'
import {KIND_LABEL, type PlannedResource} from '../src/azure/types.js'
import {printable} from '../src/core/printable.js'

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
  const nameWidth = Math.max(0, ...resources.map((r) => printable(r.name).length))
  for (const r of resources) {
    lines.push(`  ${MARK[r.action]}  ${KIND_LABEL[r.kind].padEnd(kindWidth)}  ${printable(r.name).padEnd(nameWidth)}  (${printable(r.file)})`)
    for (const c of r.changes) lines.push(`        ${printable(formatChange(c))}`)
    if (r.reason) lines.push(`        ${r.action === 'refused' ? 'refused: ' : ''}${printable(r.reason)}`)
    for (const n of r.notes) lines.push(`        note: ${printable(n)}`)
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
      lines.push(`  ${KIND_LABEL[r.kind]} ${printable(r.name)}: ${printable(r.status ?? 'Running')}${r.operation ? `  (operation ${printable(r.operation)})` : ''}`)
    }
  }
  return lines.join('\n')
}

/** Markdown: a table cell (pipes escaped, line breaks kept as <br>, other control characters shown as escapes). */
function cell(text: string): string {
  return printable(text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>'))
}

/** Markdown: inline code that survives backticks inside (a longer fence), for use inside a table cell too. */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length))
  const fence = '`'.repeat(longest + 1)
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : ''
  return cell(`${fence}${pad}${text}${pad}${fence}`)
}

const ACTION_WORD: Record<PlannedResource['action'], string> = {
  create: '**create**',
  update: '**update**',
  repair: '**repair**',
  'no-change': 'no change',
  refused: '**refused**',
}

function targetLine(result: ApplyResult): string {
  const t = result.target
  const parts = [`subscription ${code(t.subscription)}`, `resource group ${code(t.resourceGroup)}`]
  if (t.workspace) parts.push(`workspace ${code(t.workspace)}`)
  if (t.registry) parts.push(`registry ${code(t.registry)}`)
  return `Target: ${parts.join(', ')}; credential: ${result.auth}.`
}

/**
 * The plan (and, after apply, what happened) as GitHub-flavoured Markdown, for a CI job summary or a pull-request
 * comment: the summary line, one table row per resource, and each resource's field changes and notes folded.
 */
export function renderMarkdown(result: ApplyResult): string {
  const out: string[] = [`### vitrine apply${result.mode === 'plan' ? ' --plan' : ''}`, '', `**${renderSummary(result)}**`, '', targetLine(result), '']
  if (result.resources.length) {
    out.push('| action | kind | name | file |', '| --- | --- | --- | --- |')
    for (const r of result.resources) out.push(`| ${ACTION_WORD[r.action]} | ${KIND_LABEL[r.kind]} | ${code(r.name)} | ${code(r.file)} |`)
    out.push('')
  }
  for (const r of result.resources) {
    const details = r.changes.length + (r.reason ? 1 : 0) + r.notes.length
    if (!details) continue
    const count = r.changes.length === 1 ? '1 field change' : `${r.changes.length} field changes`
    out.push(`<details><summary>${KIND_LABEL[r.kind]} ${code(r.name)}: ${count}${r.reason || r.notes.length ? ', notes' : ''}</summary>`, '')
    if (r.changes.length) {
      out.push('| field | now | after apply |', '| --- | --- | --- |')
      const show = (v: unknown) => (v === undefined ? '(none)' : code(JSON.stringify(v)))
      // A hidden change (an environment variable, a secret-named field) shows that it changed, never a value.
      for (const c of r.changes) out.push(c.hidden ? `| ${code(c.path)} | changed | (value not shown) |` : `| ${code(c.path)} | ${show(c.from)} | ${show(c.to)} |`)
      out.push('')
    }
    if (r.reason) out.push(`- ${r.action === 'refused' ? 'refused: ' : ''}${cell(r.reason)}`)
    for (const n of r.notes) out.push(`- note: ${cell(n)}`)
    out.push('', '</details>', '')
  }
  if (result.mode === 'apply' && result.applied) {
    out.push('#### Applied', '', ...renderOutcome(result).split('\n').map((line) => (line.startsWith('  ') ? `- ${line.trim()}` : line)), '')
    if (result.applied.length) {
      out.push('| kind | name | outcome | status |', '| --- | --- | --- | --- |')
      for (const a of result.applied) out.push(`| ${KIND_LABEL[a.kind]} | ${code(a.name)} | ${a.outcome} | ${cell(a.status ?? '')} |`)
      out.push('')
    }
  }
  if (result.summary.refused) out.push('Nothing was applied: the plan holds refused changes.', '')
  if (result.error) out.push(`**Apply stopped:** ${cell(result.error.message)}`, '')
  return out.join('\n').trimEnd()
}
