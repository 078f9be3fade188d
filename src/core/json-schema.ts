import {readFileSync} from 'node:fs'

import {Ajv, type ValidateFunction} from 'ajv'
import addFormatsModule from 'ajv-formats'

import {assetPath} from './paths.js'
import {toIssues, type SchemaIssue} from './schema-issues.js'

export type SchemaResult<T> = {state: 'ok'; data: T} | {state: 'error'; issues: SchemaIssue[]}

// ajv-formats is CommonJS with a default export; under Node16 ESM its callable sits on `.default`.
type AddFormats = (ajv: Ajv) => Ajv
const addFormats: AddFormats =
  (addFormatsModule as unknown as {default?: AddFormats}).default ?? (addFormatsModule as unknown as AddFormats)

let ajv: Ajv | undefined
/** Built on first use: compiling is for the commands that read a user's JSON; importing this module stays cheap. */
function instance(): Ajv {
  if (!ajv) {
    ajv = new Ajv({allErrors: true, allowUnionTypes: true, strict: false, verbose: true})
    addFormats(ajv)
  }
  return ajv
}
const cache = new Map<string, ValidateFunction>()

/** The compiled validator for `schemas/<name>`, compiled once per process. */
export function schemaValidator(name: string): ValidateFunction {
  let fn = cache.get(name)
  if (!fn) {
    const schema = JSON.parse(readFileSync(assetPath('schemas', name), 'utf8')) as Record<string, unknown>
    const id = typeof schema.$id === 'string' ? schema.$id : undefined
    const existing = id ? instance().getSchema(id) : undefined
    fn = existing ?? instance().compile(schema)
    cache.set(name, fn)
  }
  return fn
}

/** Validates `data` against `schemas/<name>`; never throws for invalid data. */
export function validateWithSchema<T>(name: string, data: unknown): SchemaResult<T> {
  const fn = schemaValidator(name)
  if (fn(data)) return {state: 'ok', data: data as T}
  return {state: 'error', issues: toIssues(fn.errors)}
}
