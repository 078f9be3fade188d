/**
 * `validate --fix`: rewrites min-SKU specs and recommended-SKU lists in place. Edits are spliced into the original
 * text at the ranges the YAML Document API reports for the nodes, so everything else in the file — comments, key
 * order, quoting, blank lines — stays byte for byte as it was. Each edited file is re-parsed before it is written.
 */
import {isMap, isScalar, isSeq, LineCounter, parseDocument, type Node} from 'yaml'

import type {FixableDiagnostic, FixEdit} from './diagnostic.js'
import {locate, nodeAt, type YamlFile} from './yaml-file.js'

type Edit = NonNullable<FixableDiagnostic['fix']>

interface Splice {
  start: number
  end: number
  text: string
}

export interface FileFixResult {
  text: string
  applied: Array<{edit: Edit; line: number; description: string}>
  skipped: Array<{edit: Edit; reason: string}>
}

const PLAIN_SAFE = /^[A-Za-z0-9_][A-Za-z0-9_.|\-/ ]*$/

function renderScalar(value: string, style: string | undefined): string {
  if (style === 'QUOTE_SINGLE') return `'${value.replaceAll("'", "''")}'`
  if (style === 'QUOTE_DOUBLE' || !PLAIN_SAFE.test(value) || /^\d+$/.test(value)) return JSON.stringify(value)
  return value
}

function renderItem(value: string): string {
  return PLAIN_SAFE.test(value) && !/^\d+$/.test(value) ? value : JSON.stringify(value)
}

/** The column (0-based) of the character at `offset`. */
function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1)
}

/** A comma-separated list as a plain scalar, wrapped at `width` with continuation lines at `indent`. */
function wrapCommaList(values: string[], firstColumn: number, indent: number, width = 100): string {
  const lines: string[] = []
  let line = ''
  let col = firstColumn
  values.forEach((v, i) => {
    const piece = v + (i < values.length - 1 ? ',' : '')
    if (line !== '' && col + 1 + piece.length > width) {
      lines.push(line)
      line = piece
      col = indent + piece.length
    } else {
      line = line === '' ? piece : `${line} ${piece}`
      col += (line === piece ? 0 : 1) + piece.length
    }
  })
  lines.push(line)
  return lines.join('\n' + ' '.repeat(indent))
}

function spliceFor(yf: YamlFile, edit: FixEdit): Splice | string {
  const text = yf.text
  if (edit.kind === 'set-scalar') {
    const node = nodeAt(yf, edit.path)
    if (!node || !isScalar(node) || !node.range) return 'the value is not a scalar'
    return {start: node.range[0], end: node.range[1], text: renderScalar(edit.value, node.type)}
  }
  if (edit.kind === 'set-list') {
    const node = nodeAt(yf, edit.path)
    if (!node?.range) return 'the value is not there'
    const [start, end] = node.range
    if (isScalar(node)) {
      // Legacy property: one comma-separated string.
      if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') {
        return {start, end, text: renderScalar(edit.values.join(', '), node.type)}
      }
      const keyColumn = locate(yf, edit.path, 'key').column - 1
      return {start, end, text: wrapCommaList(edit.values.map(renderItem), columnOf(text, start), keyColumn + 2)}
    }
    if (isSeq(node)) {
      if (node.flow) {
        const original = text.slice(start, end)
        if (!original.includes('\n')) return {start, end, text: `[${edit.values.map(renderItem).join(', ')}]`}
        const first = node.items[0] as Node | undefined
        const itemCol = first?.range ? columnOf(text, first.range[0]) : columnOf(text, start) + 2
        const closeCol = columnOf(text, end - 1)
        const body = edit.values.map((v) => ' '.repeat(itemCol) + renderItem(v)).join(',\n')
        return {start, end, text: `[\n${body}\n${' '.repeat(closeCol)}]`}
      }
      const indent = ' '.repeat(columnOf(text, start))
      const trailing = text.slice(start, end).endsWith('\n') ? '\n' : ''
      return {start, end, text: edit.values.map((v, i) => `${i === 0 ? '' : indent}- ${renderItem(v)}`).join('\n') + trailing}
    }
    return 'the value is neither a list nor a comma-separated string'
  }
  // add-key: append to the end of a block mapping, at its keys' indentation.
  const parent = edit.parentPath.length ? nodeAt(yf, edit.parentPath) : (yf.doc?.contents as Node | undefined)
  if (!parent || !isMap(parent) || parent.flow || !parent.range || parent.items.length === 0) {
    return `there is no block mapping ${edit.parentPath.join('.') || '(top level)'} to add ${edit.key} to`
  }
  const firstKey = parent.items[0].key as Node | null
  if (!firstKey?.range) return 'cannot find the indentation'
  const indent = ' '.repeat(columnOf(text, firstKey.range[0]))
  const end = parent.range[1]
  const lead = text.slice(0, end).endsWith('\n') ? '' : '\n'
  const value = Array.isArray(edit.value)
    ? `${edit.key}:\n` + edit.value.map((v) => `${indent}- ${renderItem(v)}`).join('\n')
    : `${edit.key}: ${renderScalar(edit.value, undefined)}`
  return {start: end, end, text: `${lead}${indent}${value}\n`}
}

/** Applies `edits` to the file's text; edits that overlap an earlier one or cannot be placed are skipped. */
export function applyFixes(yf: YamlFile, edits: Edit[]): FileFixResult {
  const planned: Array<{edit: Edit; splice: Splice}> = []
  const skipped: FileFixResult['skipped'] = []
  for (const edit of edits) {
    const s = spliceFor(yf, edit)
    if (typeof s === 'string') {
      skipped.push({edit, reason: s})
      continue
    }
    if (planned.some((p) => s.start < p.splice.end && p.splice.start < s.end || (s.start === s.end && s.start === p.splice.start))) {
      skipped.push({edit, reason: 'overlaps another fix'})
      continue
    }
    planned.push({edit, splice: s})
  }
  let text = yf.text
  for (const p of [...planned].sort((a, b) => b.splice.start - a.splice.start)) {
    text = text.slice(0, p.splice.start) + p.splice.text + text.slice(p.splice.end)
  }
  const check = parseDocument(text, {uniqueKeys: true, lineCounter: new LineCounter()})
  if (check.errors.length) {
    return {text: yf.text, applied: [], skipped: [...skipped, ...planned.map((p) => ({edit: p.edit, reason: `the result would not parse (${check.errors[0].message.split('\n')[0]})`}))]}
  }
  const applied = planned.map((p) => {
    // Registry properties are immutable per version (publish_utils): say so where a fix changed one.
    const path = p.edit.kind === 'add-key' ? p.edit.parentPath : p.edit.path
    const note = path[0] === 'properties' ? ' (a registry property: publishing the change needs a version bump)' : ''
    return {edit: p.edit, line: yf.lineCounter.linePos(p.splice.start).line, description: p.edit.description + note}
  })
  return {text, applied, skipped}
}
