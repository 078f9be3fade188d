/**
 * Reading an Azure ML YAML file (what `vitrine generate` writes, what `vitrine apply` sends) as plain data: one
 * object per document, every syntax error or duplicate key an InvalidInputError naming file:line:column.
 * `validate` does not use it: it reports problems as diagnostics (./yaml-check.ts) instead of stopping at the first.
 */
import {readFile} from 'node:fs/promises'

import {parseAllDocuments} from 'yaml'

import {describeFsError, InvalidInputError} from '../core/errors.js'

export type YamlMapping = Record<string, unknown>

function isMapping(v: unknown): v is YamlMapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Parses a YAML file (one or more documents, each a mapping); syntax errors and duplicate keys name the line. */
export async function readYamlDocuments(path: string): Promise<YamlMapping[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw describeFsError(error, path) ?? error
  }
  const docs = parseAllDocuments(text, {uniqueKeys: true, prettyErrors: true})
  const list = Array.isArray(docs) ? docs : [docs]
  const out: YamlMapping[] = []
  for (const doc of list) {
    const err = doc.errors[0]
    if (err) {
      const pos = err.linePos?.[0]
      throw new InvalidInputError(`${path}${pos ? `:${pos.line}:${pos.col}` : ''}: ${err.message.split('\n')[0]}`, {file: path})
    }
    const v = doc.toJS({maxAliasCount: 100}) as unknown
    if (v === null || v === undefined) continue
    if (!isMapping(v)) throw new InvalidInputError(`${path}: expected a mapping at the top level`, {file: path})
    out.push(v)
  }
  if (out.length === 0) throw new InvalidInputError(`${path}: empty YAML`, {file: path})
  return out
}
