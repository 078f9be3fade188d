/**
 * `--set path=value`: changes one field of a generated document, as `az ml ... --set` does, but checked against the
 * bundled schema at once, so a misspelt path or a value of the wrong type is refused before anything is written.
 *
 * A path names a field of one of the kind's documents (`instance_count=2`); when several documents have that
 * field, or to be explicit, it starts with the document's role (`endpoint.name=x`, `deployment.name=y`). The value
 * is read as a YAML scalar or flow collection (`2`, `true`, `[a, b]`), falling back to the plain string when the
 * schema wants a string there.
 */
import {parse} from 'yaml'

import {InvalidInputError, UsageError} from '../core/errors.js'
import {checkAgainstAzureMlSchema, formatPath, topLevelProperties, type AzureMlSchemaName} from '../azureml/schemas.js'
import type {DocumentRole} from './context.js'

export interface SetAssignment {
  /** The argument as given. */
  raw: string
  path: string[]
  value: string
}

export interface SetTarget {
  role: DocumentRole
  schema: AzureMlSchemaName
  data: Record<string, unknown>
}

/** Splits `a.b.c=value` (the first '=' separates). */
export function parseSetAssignment(raw: string): SetAssignment {
  const eq = raw.indexOf('=')
  if (eq <= 0) throw new UsageError(`--set ${raw}: expected path=value, e.g. --set instance_count=2`)
  const path = raw.slice(0, eq).trim().split('.')
  if (path.some((p) => p.trim() === '')) throw new UsageError(`--set ${raw}: the path has an empty segment`)
  return {raw, path: path.map((p) => p.trim()), value: raw.slice(eq + 1)}
}

/** The document a path addresses, and the path inside it. */
export function resolveSetTarget(a: SetAssignment, targets: SetTarget[]): {target: SetTarget; path: string[]} {
  const [first, ...rest] = a.path
  const byRole = targets.filter((t) => t.role === first)
  if (byRole.length === 1 && rest.length > 0 && !topLevelProperties(byRole[0].schema).includes(first)) {
    return {target: byRole[0], path: rest}
  }
  const having = targets.filter((t) => topLevelProperties(t.schema).includes(first))
  if (having.length === 1) return {target: having[0], path: a.path}
  const roles = targets.map((t) => t.role)
  if (having.length > 1) {
    throw new UsageError(`--set ${a.raw}: '${first}' is a field of several documents; say which: ${having.map((t) => `${t.role}.${a.path.join('.')}`).join(' or ')}`)
  }
  const fields = [...new Set(targets.flatMap((t) => topLevelProperties(t.schema)))].filter((k) => k !== '$schema').sort()
  throw new UsageError(
    `--set ${a.raw}: '${first}' is not a field of ${targets.map((t) => t.schema).join(' or ')}` +
      (rest.length > 0 ? ` (nor a document: ${roles.join(', ')})` : ''),
    {hint: `Fields: ${fields.join(', ')}`},
  )
}

/** Puts `value` at `path`, creating maps on the way; says where a scalar stands in the way. */
function setIn(data: Record<string, unknown>, path: string[], value: unknown): string | undefined {
  let node: unknown = data
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]
    if (Array.isArray(node)) {
      const idx = Number(key)
      if (!Number.isInteger(idx) || idx < 0 || idx >= node.length) return path.slice(0, i + 1).join('.')
      node = node[idx]
      continue
    }
    const map = node as Record<string, unknown>
    if (map[key] === undefined) map[key] = {}
    else if (map[key] === null || typeof map[key] !== 'object') return path.slice(0, i + 1).join('.')
    node = map[key]
  }
  const last = path[path.length - 1]
  if (Array.isArray(node)) {
    const idx = Number(last)
    if (!Number.isInteger(idx) || idx < 0 || idx > node.length) return path.join('.')
    node[idx] = value
  } else {
    ;(node as Record<string, unknown>)[last] = value
  }
  return undefined
}

function startsWith(path: ReadonlyArray<string | number>, prefix: ReadonlyArray<string>): boolean {
  return prefix.every((p, i) => String(path[i]) === p)
}

/** The value candidates for a raw string: its YAML reading, then the string itself. */
function candidates(value: string): unknown[] {
  let parsed: unknown = value
  try {
    parsed = parse(value)
  } catch {
    parsed = value
  }
  if (parsed === null || parsed === undefined) parsed = value
  return parsed === value ? [value] : [parsed, value]
}

/**
 * Applies one assignment to its document in place. Throws UsageError for a path the schema does not have (exit 2)
 * and InvalidInputError for a value it refuses there (exit 1); the document is unchanged then.
 */
export function applySetAssignment(a: SetAssignment, targets: SetTarget[]): {target: SetTarget; path: string[]} {
  const {target, path} = resolveSetTarget(a, targets)
  // Each reading's complaint; a type error of one reading matters less than what the other reading violates.
  const complaints: Array<{keyword: string; text: string}> = []
  for (const value of candidates(a.value)) {
    const copy = structuredClone(target.data)
    const blocked = setIn(copy, path, value)
    if (blocked !== undefined) {
      throw new UsageError(`--set ${a.raw}: ${blocked} is a value in ${target.schema}, not a map or list to set a field in`)
    }
    const issues = checkAgainstAzureMlSchema(target.schema, copy)
    const unknown = issues.find((i) => i.unknownKey !== undefined && startsWith(path, i.path.map(String)))
    if (unknown) {
      const parent = unknown.path.slice(0, -1)
      throw new UsageError(
        `--set ${a.raw}: '${unknown.unknownKey}' is not a field of ${parent.length ? formatPath(parent) : 'the document'} in ${target.schema}`,
      )
    }
    const wrong = issues.find((i) => startsWith(i.path, path))
    if (!wrong) {
      for (const k of Object.keys(target.data)) delete target.data[k]
      Object.assign(target.data, copy)
      return {target, path}
    }
    complaints.push({keyword: wrong.keyword, text: `${formatPath(wrong.path)} ${wrong.message}`})
  }
  const best = complaints.find((c) => c.keyword !== 'type') ?? complaints[0]
  throw new InvalidInputError(`--set ${a.raw}: ${best.text} (${target.schema})`)
}
