/**
 * ajv's error objects as issues a person can act on, without loading ajv: `validate` checks asset files with
 * precompiled validators (src/assets/schema-validators.ts) and needs only this translation at start-up.
 */
import type {ErrorObject} from 'ajv'

/** One schema violation, with the JSON path of the offending value (as keys and indices). */
export interface SchemaIssue {
  path: Array<string | number>
  message: string
  /** The ajv keyword that failed (`required`, `enum`, `type`, ...). */
  keyword: string
}

/** A JSON pointer (`/a/0/b`) as path segments, indices as numbers. */
export function pointerToPath(pointer: string): Array<string | number> {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p))
}

/** Turns ajv's raw errors into `{path, message}` issues; `required` points at the missing key itself. */
export function toIssues(errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  const issues: SchemaIssue[] = []
  const seen = new Set<string>()
  for (const e of errors ?? []) {
    const path = pointerToPath(e.instancePath)
    let message = e.message ?? 'is invalid'
    if (e.keyword === 'required') {
      const missing = (e.params as {missingProperty: string}).missingProperty
      message = `required property '${missing}' is missing`
    } else if (e.keyword === 'additionalProperties') {
      const extra = (e.params as {additionalProperty: string}).additionalProperty
      path.push(extra)
      message = `unknown property '${extra}'`
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as {allowedValues: unknown[]}).allowedValues
      message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`
    }
    const where = path.length ? path.join('.') : '(root)'
    const key = `${where}|${message}`
    if (seen.has(key)) continue
    seen.add(key)
    issues.push({path, message, keyword: e.keyword})
  }
  return issues
}
