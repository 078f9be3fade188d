/**
 * Reading an Azure ML YAML file (what `vitrine generate` writes, what `vitrine apply` sends) as plain data: one
 * object per document, every syntax error or duplicate key an InvalidInputError naming file:line:column.
 * `validate` does not use it: it reports problems as diagnostics (./yaml-check.ts) instead of stopping at the first.
 */
import {parseAllDocuments} from 'yaml'

import {InvalidInputError} from '../core/errors.js'
import {MAX_JSON_FILE_BYTES, readUserTextFile} from '../core/user-file.js'

export type YamlMapping = Record<string, unknown>

function isMapping(v: unknown): v is YamlMapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Parses a YAML file (one or more documents, each a mapping); syntax errors and duplicate keys name the line. */
export async function readYamlDocuments(path: string): Promise<YamlMapping[]> {
  // A regular, size-capped file (a YAML linked to /dev/zero is refused, not read forever); fs errors name the path.
  const text = await readUserTextFile(path, {maxBytes: MAX_JSON_FILE_BYTES})
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
