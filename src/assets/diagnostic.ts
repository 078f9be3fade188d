/**
 * What `vitrine validate` reports: one diagnostic per problem, with a stable rule id and the file, line and column
 * (1-based) of the YAML node to fix.
 */

export type Severity = 'error' | 'warning'

export interface Diagnostic {
  rule: RuleId
  severity: Severity
  message: string
  file: string
  line: number
  column: number
}

/** The stable rule ids, with the one-line description used in help, SARIF and the README. */
export const RULES = {
  'yaml-syntax': 'The file is not readable YAML: syntax error, duplicate key, binary content, excessive nesting or aliases.',
  schema: 'The file does not match its JSON Schema (asset.yaml, model.yaml, or the model spec in legacy or system_metadata form).',
  'name-format': "The asset name does not match the naming pattern (models: ^[A-Za-z][A-Za-z0-9_.-]{0,254}$, others lower case); a warning for a model name Azure ML's REST API refuses (^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$: no '.').",
  'name-forbidden-word': "The asset name contains a reserved word (azure, azureml, aml, the asset type; microsoft for non-models); models starting 'Azure-' are exempt.",
  'name-mismatch': 'asset.yaml and spec.yaml state different names.',
  'version-mismatch': 'asset.yaml and spec.yaml state different versions.',
  'missing-file': 'A file the asset refers to does not exist, or is outside the asset folder (spec, extra_config, description, release paths, local model path).',
  'task-missing': 'The model states no task (system_metadata.tasks.inferenceTasks or tags.task).',
  'license-missing': 'The model states no license (system_metadata.license or tags.license).',
  'shared-compute': 'Shared compute capacity is not enabled (system_metadata.sharedComputeCapacityEnabled, or the SharedComputeCapacityEnabled tag and property).',
  'sku-allow-list-missing': 'A scenario (inference always; evaluation/finetune when declared) has no compute allow list.',
  'sku-recommended-mismatch': "A scenario's recommended SKUs are not the same set as its compute allow list.",
  'sku-unsupported': 'An inference SKU is not in supported_inference_skus.json.',
  'sku-unknown': 'A SKU is not in the SKU catalog (misspelt, or missing from the catalog).',
  'min-sku-spec-format': 'A min-SKU spec is not "vCPUs|GPUs|memoryGB|diskGB" (four integers).',
  'min-sku-spec-mismatch': "A min-SKU spec is missing or differs from the per-field minimum over the scenario's allow list.",
  'finetune-tasks-missing': 'The finetune scenario is declared but no finetuning tasks are.',
  'duplicate-asset': 'Two asset folders in the tree define the same type and name.',
  'file-too-large': 'A file in an asset folder is larger than 1 MB (weights belong in blob storage).',
  'legacy-form': 'Warning: the model spec uses the legacy tags/properties form; azureml-assets now enforces system_metadata.',
} as const

export type RuleId = keyof typeof RULES
export const RULE_IDS = Object.keys(RULES) as RuleId[]

/** A change `--fix` can make to a YAML file (see ./fix.ts). */
export type FixEdit =
  | {kind: 'set-scalar'; path: Array<string | number>; value: string}
  | {kind: 'set-list'; path: Array<string | number>; values: string[]}
  | {kind: 'add-key'; parentPath: Array<string | number>; key: string; value: string | string[]}

/** A diagnostic as the validator produces it: maybe with the edit that fixes it. */
export interface FixableDiagnostic extends Diagnostic {
  fix?: FixEdit & {description: string}
}

/** The --json result of `vitrine validate` (schemas/validate-result.schema.json). */
export interface AssetResult {
  path: string
  type: string | null
  name: string | null
  version: string | null
  ok: boolean
  diagnostics: Diagnostic[]
}

export interface FixRecord {
  file: string
  line: number
  rule: RuleId
  message: string
}

export interface ValidateResult {
  ok: boolean
  assets: AssetResult[]
  summary: {assets: number; errors: number; warnings: number}
  /** Where the SKU figures came from. */
  skuCatalog: string
  /** With --fix: what was rewritten. */
  fixes?: FixRecord[]
}

export function toPlainDiagnostic(d: FixableDiagnostic): Diagnostic {
  return {rule: d.rule, severity: d.severity, message: d.message, file: d.file, line: d.line, column: d.column}
}

/** Errors first, then by file, line and column. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1
  return a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule)
}
