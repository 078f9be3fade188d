/**
 * `vitrine validate FILE.yaml` for a file that is not part of an asset folder: an Azure ML YAML (endpoint,
 * deployment, pipeline job, ...) as `vitrine generate` writes it, checked by the Azure ML YAML library
 * (src/azureml/yaml-check.ts) against the schema its `$schema` names. That module is loaded only when such a file
 * is given, so validating asset folders does not pay for compiling its schemas.
 */
import {statSync} from 'node:fs'

import {RULES, type FixableDiagnostic, type RuleId} from './diagnostic.js'
import {MAX_YAML_BYTES, readYamlText} from './yaml-file.js'

/** Checks one YAML file's text; returns diagnostics with rule ids of RULES (others are mapped to `schema`). */
export type YamlFileChecker = (text: string, file: string) => Promise<FixableDiagnostic[]>

async function generateChecker(text: string, file: string): Promise<FixableDiagnostic[]> {
  const {checkAzureMlYaml} = await import('../azureml/yaml-check.js')
  return checkAzureMlYaml(text, file).map((d) => ({
    ...d,
    rule: (d.rule in RULES ? d.rule : 'schema') as RuleId,
  }))
}

let checker: YamlFileChecker = generateChecker

/** Replaces the checker (tests; or a future module). Returns the previous one. */
export function setYamlFileChecker(next: YamlFileChecker): YamlFileChecker {
  const prev = checker
  checker = next
  return prev
}

/**
 * Validates a standalone YAML file. The guards of ./yaml-file.ts (size, binary content) run first, so the checker
 * only ever sees bounded text.
 */
export async function checkStandaloneYaml(path: string, display: string): Promise<FixableDiagnostic[]> {
  const size = statSync(path).size
  if (size > MAX_YAML_BYTES) {
    return [{rule: 'file-too-large', severity: 'error', message: `${display} is ${size} bytes; YAML files over ${MAX_YAML_BYTES} bytes are not parsed`, file: display, line: 1, column: 1}]
  }
  const read = readYamlText(path, display)
  if (read.text === undefined) return read.problems
  return checker(read.text, display)
}
