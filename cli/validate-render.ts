import {relative} from 'node:path'

import type {Diagnostic, ValidateResult} from '../src/assets/diagnostic.js'
import {printable} from '../src/core/printable.js'

const paint = (on: boolean, code: number, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s)

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** A diagnostic line: file:line:col relative to the asset folder when inside it. */
function line(d: Diagnostic, assetPath: string, color: boolean): string {
  const rel = relative(assetPath, d.file)
  const where = printable(rel.startsWith('..') || rel === '' ? d.file : rel)
  const sev = d.severity === 'error' ? paint(color, 31, 'error  ') : paint(color, 33, 'warning')
  return `  ${where}:${d.line}:${d.column}  ${sev}  ${paint(color, 2, d.rule)}  ${printable(d.message)}`
}

/** Human output of `vitrine validate`: one block per asset, fixes, then a summary line. */
export function renderValidateResult(r: ValidateResult, color: boolean): string {
  const out: string[] = []
  for (const a of r.assets) {
    const what = printable(a.type ? `${a.type}${a.name ? ` ${a.name}` : ''}${a.version ? ` v${a.version}` : ''}` : '')
    const mark = a.ok ? paint(color, 32, '✓') : paint(color, 31, '✗')
    const warnings = a.diagnostics.filter((d) => d.severity === 'warning').length
    const tail = a.ok && warnings ? `  (${plural(warnings, 'warning')})` : ''
    out.push(`${mark} ${printable(a.path)}${what ? `  ${paint(color, 2, what)}` : ''}${tail}`)
    for (const d of a.diagnostics) out.push(line(d, a.path, color))
  }
  if (r.fixes?.length) {
    out.push('', `Fixed ${plural(r.fixes.length, 'value')}:`)
    for (const f of r.fixes) out.push(`  ${printable(f.file)}:${f.line}  ${paint(color, 2, f.rule)}  ${printable(f.message)}`)
  }
  const s = r.summary
  const failed = r.assets.filter((a) => !a.ok).length
  const verdict = r.ok ? paint(color, 32, 'ok') : paint(color, 31, `${failed} of ${s.assets} failed`)
  out.push('', `${plural(s.assets, 'asset')} validated: ${verdict}; ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')} (SKU figures: ${r.skuCatalog})`)
  return out.join('\n')
}
