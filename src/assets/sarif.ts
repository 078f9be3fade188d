/**
 * `validate --format sarif`: the result as SARIF 2.1.0, for code-scanning upload (GitHub
 * `github/codeql-action/upload-sarif`, Azure DevOps). One rule per rule id, one result per diagnostic.
 */
import {RULES, RULE_IDS, type ValidateResult} from './diagnostic.js'

export interface SarifLog {
  $schema: string
  version: '2.1.0'
  runs: Array<{
    tool: {driver: {name: string; version: string; informationUri: string; rules: Array<{id: string; shortDescription: {text: string}; defaultConfiguration: {level: 'error' | 'warning'}}>}}
    results: Array<{
      ruleId: string
      ruleIndex: number
      level: 'error' | 'warning'
      message: {text: string}
      locations: Array<{physicalLocation: {artifactLocation: {uri: string}; region: {startLine: number; startColumn: number}}}>
    }>
  }>
}

/** SARIF artifact URIs are relative URIs with forward slashes. */
function toUri(file: string): string {
  return file.split(/[\\/]/).map(encodeURIComponent).join('/')
}

export function toSarif(result: ValidateResult, toolVersion: string): SarifLog {
  const rules = RULE_IDS.map((id) => ({
    id,
    shortDescription: {text: RULES[id]},
    defaultConfiguration: {level: id === 'legacy-form' ? ('warning' as const) : ('error' as const)},
  }))
  const results = result.assets.flatMap((a) =>
    a.diagnostics.map((d) => ({
      ruleId: d.rule,
      ruleIndex: RULE_IDS.indexOf(d.rule),
      level: d.severity,
      message: {text: d.message},
      locations: [{physicalLocation: {artifactLocation: {uri: toUri(d.file)}, region: {startLine: d.line, startColumn: d.column}}}],
    })),
  )
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{tool: {driver: {name: 'vitrine', version: toolVersion, informationUri: 'https://github.com/Azure/azureml-assets/wiki/Asset-naming-convention', rules}}, results}],
  }
}
