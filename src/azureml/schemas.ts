/**
 * The bundled draft-07 subsets of Azure ML's CLI v2 YAML schemas (schemas/azureml/), and how a YAML names the one it
 * follows: its `$schema` URL (https://azuremlschemas.azureedge.net/latest/<name>.schema.json).
 *
 * These schemas reference each other (definitions.schema.json, the component input schemas), so they get their own
 * ajv instance with every file added up front; src/core/json-schema.ts compiles one self-contained file at a time.
 */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'
import addFormatsModule from 'ajv-formats'

import {assetPath} from '../core/paths.js'
import {pointerToPath} from '../core/schema-issues.js'

/** The Azure ML YAML kinds vitrine knows, named as Azure's schema files are. */
export const AZUREML_SCHEMA_NAMES = [
  'managedOnlineEndpoint',
  'managedOnlineDeployment',
  'batchEndpoint',
  'batchDeployment',
  'modelBatchDeployment',
  'pipelineJob',
  'model',
  'mltable',
] as const
export type AzureMlSchemaName = (typeof AZUREML_SCHEMA_NAMES)[number]

const SCHEMA_ID_BASE = 'https://vitrine.example/schemas/azureml/'
const AZURE_SCHEMA_HOSTS = ['azuremlschemas.azureedge.net', 'azuremlschemasprod.azureedge.net', 'azuremlsdk2.blob.core.windows.net']

/** The file name of a kind's schema on Azure's hosts (`managedOnlineDeployment.schema.json`). */
export function azureMlSchemaFileName(name: AzureMlSchemaName): string {
  return `${name === 'mltable' ? 'MLTable' : name}.schema.json`
}

/** The `$schema` URL vitrine writes into a generated YAML of this kind. */
export function azureMlSchemaUrl(name: AzureMlSchemaName): string {
  return `https://azuremlschemas.azureedge.net/latest/${azureMlSchemaFileName(name)}`
}

/** The bundled schema file (relative to schemas/) for a kind. */
export function azureMlSchemaFile(name: AzureMlSchemaName): string {
  return `azureml/${name}.schema.json`
}

/**
 * The kind a `$schema` URL names, or undefined when it is not an Azure ML schema URL vitrine knows. Accepts any
 * version folder (`latest`, `1.0.0`) on Azure's schema hosts; the file name is matched case-insensitively.
 */
export function schemaNameFromUrl(url: string): AzureMlSchemaName | undefined {
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    return undefined
  }
  if (!AZURE_SCHEMA_HOSTS.includes(parsed.hostname.toLowerCase())) return undefined
  const file = parsed.pathname.split('/').pop() ?? ''
  const m = /^(.+)\.schema\.json$/i.exec(file)
  if (!m) return undefined
  const wanted = m[1].toLowerCase()
  return AZUREML_SCHEMA_NAMES.find((n) => n.toLowerCase() === wanted)
}

/** Whether a URL is on one of Azure ML's schema hosts (known kind or not). */
export function isAzureMlSchemaHost(url: string): boolean {
  try {
    return AZURE_SCHEMA_HOSTS.includes(new URL(url.trim()).hostname.toLowerCase())
  } catch {
    return false
  }
}

// ajv-formats is CommonJS with a default export; under Node16 ESM its callable sits on `.default`.
type AddFormats = (ajv: Ajv) => Ajv
const addFormats: AddFormats =
  (addFormatsModule as unknown as {default?: AddFormats}).default ?? (addFormatsModule as unknown as AddFormats)

let ajv: Ajv | undefined
const validators = new Map<AzureMlSchemaName, ValidateFunction>()

function schemaFiles(dir: string, prefix = ''): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    if (entry.isDirectory()) out.push(...schemaFiles(join(dir, entry.name), `${prefix}${entry.name}/`))
    else if (entry.name.endsWith('.schema.json')) out.push(`${prefix}${entry.name}`)
  }
  return out.sort()
}

function instance(): Ajv {
  if (ajv) return ajv
  const made = new Ajv({allErrors: true, allowUnionTypes: true, strict: false, verbose: true})
  addFormats(made)
  const dir = assetPath('schemas', 'azureml')
  for (const file of schemaFiles(dir)) {
    const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>
    made.addSchema(schema)
  }
  ajv = made
  return made
}

function validator(name: AzureMlSchemaName): ValidateFunction {
  let fn = validators.get(name)
  if (!fn) {
    const found = instance().getSchema(`${SCHEMA_ID_BASE}${name}.schema.json`)
    if (!found) throw new Error(`bundled schema schemas/azureml/${name}.schema.json is missing`)
    fn = found
    validators.set(name, fn)
  }
  return fn
}

/** One violation of an Azure ML schema, at a path of keys and indices into the YAML document. */
export interface AzureMlSchemaIssue {
  path: Array<string | number>
  message: string
  keyword: string
  /** For `additionalProperties`: the unknown key (already the last element of `path`). */
  unknownKey?: string
}


function customMessage(e: ErrorObject): string | undefined {
  const parent = e.parentSchema as {'x-vitrine-message'?: unknown} | undefined
  return typeof parent?.['x-vitrine-message'] === 'string' ? parent['x-vitrine-message'] : undefined
}

/**
 * ajv's errors as issues a person can act on. An `anyOf` that failed because the value had the right shape but a
 * wrong field reports that field's error; one that failed on the shape reports the schema's own message
 * (`x-vitrine-message`), not ajv's "must match a schema in anyOf" and every branch's complaint.
 */
function toIssues(errors: ErrorObject[]): AzureMlSchemaIssue[] {
  const raw = errors.filter((e) => e.keyword !== 'if')
  const deeper = (place: string) => raw.some((e) => e.keyword !== 'anyOf' && e.instancePath.startsWith(`${place}/`))
  const anyOfPlaces = new Set(raw.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath))
  const issues: AzureMlSchemaIssue[] = []
  const seen = new Set<string>()
  for (const e of raw) {
    const path = pointerToPath(e.instancePath)
    let message: string
    let unknownKey: string | undefined
    if (e.keyword === 'anyOf') {
      if (deeper(e.instancePath)) continue
      message = customMessage(e) ?? 'is not any of the allowed forms'
    } else if (anyOfPlaces.has(e.instancePath)) {
      // A branch's complaint about the value as a whole: the anyOf (or a deeper error) says it better.
      continue
    } else if (e.keyword === 'required') {
      message = `required property '${(e.params as {missingProperty: string}).missingProperty}' is missing`
    } else if (e.keyword === 'additionalProperties') {
      unknownKey = (e.params as {additionalProperty: string}).additionalProperty
      path.push(unknownKey)
      message = `unknown property '${unknownKey}'`
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as {allowedValues: unknown[]}).allowedValues
      message = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`
    } else if (e.keyword === 'pattern') {
      message = customMessage(e) ?? `must match ${(e.params as {pattern: string}).pattern}`
    } else {
      message = e.message ?? 'is invalid'
    }
    const key = `${JSON.stringify(path)}|${message}`
    if (seen.has(key)) continue
    seen.add(key)
    issues.push({path, message, keyword: e.keyword, ...(unknownKey === undefined ? {} : {unknownKey})})
  }
  return issues
}

/** Checks a parsed YAML document against the bundled schema of `name`; never throws for invalid data. */
export function checkAgainstAzureMlSchema(name: AzureMlSchemaName, data: unknown): AzureMlSchemaIssue[] {
  const fn = validator(name)
  if (fn(data)) return []
  return toIssues(fn.errors ?? [])
}

/** "jobs.x.inputs.task" for a path; "(root)" for the document itself. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return '(root)'
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

/** The top-level field names a schema allows (for `--set` and "fields:" hints). */
export function topLevelProperties(name: AzureMlSchemaName): string[] {
  const schema = validator(name).schema as {properties?: Record<string, unknown>}
  return Object.keys(schema.properties ?? {})
}
