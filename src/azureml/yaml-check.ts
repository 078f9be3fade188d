/**
 * Checks an Azure ML YAML (online/batch endpoint or deployment, pipeline job, model version, MLTable) against the
 * bundled schemas, recognised by its `$schema` URL, and points every problem at the line and column of the
 * offending node. `vitrine validate FILE.yaml` and `vitrine generate` use it.
 */
import {basename} from 'node:path'

import {isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node} from 'yaml'

import {
  azureMlSchemaFile,
  checkAgainstAzureMlSchema,
  formatPath,
  isAzureMlSchemaHost,
  schemaNameFromUrl,
  type AzureMlSchemaIssue,
  type AzureMlSchemaName,
} from './schemas.js'

export interface YamlDiagnostic {
  /** `yaml-syntax`, `schema` (a schema violation, or a warning that no bundled schema applies). */
  rule: string
  severity: 'error' | 'warning'
  message: string
  file: string
  line: number
  column: number
}

/** YAML aliases expanded per document before giving up: a generated file has none; a bomb has millions. */
const MAX_ALIAS_COUNT = 100

/** The node at `path` (keys and indices), or the deepest node on the way there. */
function nodeAt(doc: Document, path: ReadonlyArray<string | number>, wantKey: boolean): Node | undefined {
  let node: unknown = doc.contents
  for (let i = 0; i < path.length; i++) {
    const step = path[i]
    const last = i === path.length - 1
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step))
      if (!pair) return node
      if (last && wantKey && isScalar(pair.key)) return pair.key
      if (pair.value === null || pair.value === undefined) return isScalar(pair.key) ? pair.key : node
      node = pair.value
    } else if (isSeq(node) && typeof step === 'number' && node.items[step] !== undefined) {
      node = node.items[step]
    } else {
      return node as Node
    }
  }
  return node as Node
}

function position(doc: Document, lines: LineCounter, path: ReadonlyArray<string | number>, wantKey: boolean) {
  const node = nodeAt(doc, path, wantKey)
  const offset = node?.range?.[0] ?? doc.range?.[0] ?? 0
  const {line, col} = lines.linePos(offset)
  return {line, column: col}
}

/** The schema a document names, or why none applies. */
function schemaFor(
  data: unknown,
  file: string,
): {name: AzureMlSchemaName} | {unknown: string; severity: 'error' | 'warning'} {
  const url = data && typeof data === 'object' && !Array.isArray(data) ? (data as {$schema?: unknown}).$schema : undefined
  if (typeof url === 'string') {
    const name = schemaNameFromUrl(url)
    if (name) return {name}
    if (isAzureMlSchemaHost(url)) {
      return {unknown: `vitrine has no bundled schema for ${url}; only the YAML syntax was checked`, severity: 'warning'}
    }
    return {unknown: `$schema ${url} is not an Azure ML schema URL; only the YAML syntax was checked`, severity: 'warning'}
  }
  if (basename(file) === 'MLTable') return {name: 'mltable'}
  return {
    unknown: 'no $schema: not recognised as an Azure ML YAML (add e.g. $schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json); only the YAML syntax was checked',
    severity: 'warning',
  }
}

function issueToDiagnostic(
  issue: AzureMlSchemaIssue,
  name: AzureMlSchemaName,
  doc: Document,
  lines: LineCounter,
  file: string,
): YamlDiagnostic {
  const where = position(doc, lines, issue.path, issue.keyword === 'additionalProperties')
  const subject = issue.keyword === 'required' || issue.path.length === 0 ? '' : `${formatPath(issue.path)}: `
  return {
    rule: 'schema',
    severity: 'error',
    message: `${subject}${issue.message} (${azureMlSchemaFile(name)})`,
    file,
    ...where,
  }
}

/**
 * Checks every document of an Azure ML YAML file. Each document is matched to a bundled schema by its `$schema`
 * URL (a file named MLTable needs none). Never throws for bad input: syntax errors, duplicate keys and alias bombs
 * are diagnostics.
 */
export function checkAzureMlYaml(text: string, file: string): YamlDiagnostic[] {
  const lines = new LineCounter()
  const diagnostics: YamlDiagnostic[] = []
  const docs = parseAllDocuments(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true})
  const list = Array.isArray(docs) ? docs : []
  for (const doc of list) {
    const syntax = [...doc.errors, ...doc.warnings]
    for (const err of syntax) {
      const {line, col} = lines.linePos(err.pos[0])
      diagnostics.push({
        rule: 'yaml-syntax',
        severity: doc.errors.includes(err as never) ? 'error' : 'warning',
        message: err.message.split('\n')[0],
        file,
        line,
        column: col,
      })
    }
    if (doc.errors.length > 0) continue
    let data: unknown
    try {
      data = doc.toJS({maxAliasCount: MAX_ALIAS_COUNT})
    } catch (err) {
      const {line, col} = lines.linePos(doc.range?.[0] ?? 0)
      diagnostics.push({rule: 'yaml-syntax', severity: 'error', message: (err as Error).message, file, line, column: col})
      continue
    }
    if (data === null || data === undefined) continue
    const found = schemaFor(data, file)
    if ('unknown' in found) {
      const where = position(doc, lines, ['$schema'], false)
      diagnostics.push({rule: 'schema', severity: found.severity, message: found.unknown, file, ...where})
      continue
    }
    for (const issue of checkAgainstAzureMlSchema(found.name, data)) {
      diagnostics.push(issueToDiagnostic(issue, found.name, doc, lines, file))
    }
  }
  return diagnostics.sort((a, b) => a.line - b.line || a.column - b.column)
}
