import {readFileSync} from 'node:fs'

import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'
import addFormatsModule from 'ajv-formats'

import {assetPath} from './paths.js'

/** One schema violation, with the JSON path of the offending value (as keys and indices). */
export interface SchemaIssue {
  path: Array<string | number>
  message: string
  /** The ajv keyword that failed (`required`, `enum`, `type`, ...). */
  keyword: string
}

export type SchemaResult<T> = {state: 'ok'; data: T} | {state: 'error'; issues: SchemaIssue[]}

// ajv-formats is CommonJS with a default export; under Node16 ESM its callable sits on `.default`.
type AddFormats = (ajv: Ajv) => Ajv
const addFormats: AddFormats =
  (addFormatsModule as unknown as {default?: AddFormats}).default ?? (addFormatsModule as unknown as AddFormats)

const ajv = new Ajv({allErrors: true, allowUnionTypes: true, strict: false, verbose: true})
addFormats(ajv)
const cache = new Map<string, ValidateFunction>()

/** The compiled validator for `schemas/<name>`, compiled once per process. */
export function schemaValidator(name: string): ValidateFunction {
  let fn = cache.get(name)
  if (!fn) {
    const schema = JSON.parse(readFileSync(assetPath('schemas', name), 'utf8')) as Record<string, unknown>
    const id = typeof schema.$id === 'string' ? schema.$id : undefined
    const existing = id ? ajv.getSchema(id) : undefined
    fn = existing ?? ajv.compile(schema)
    cache.set(name, fn)
  }
  return fn
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

/** Validates `data` against `schemas/<name>`; never throws for invalid data. */
export function validateWithSchema<T>(name: string, data: unknown): SchemaResult<T> {
  const fn = schemaValidator(name)
  if (fn(data)) return {state: 'ok', data: data as T}
  return {state: 'error', issues: toIssues(fn.errors)}
}
