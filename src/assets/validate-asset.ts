/**
 * The per-asset rules of the azureml-assets tooling (validate_assets.py, config.py, validate_model_spec), run on
 * one asset folder: asset.yaml, its spec and extra_config, the files they name, the name rules, and for mlflow
 * models the task/license/shared-compute/SKU rules. Tree-wide rules (duplicate assets, file sizes) are in
 * ./validate.ts.
 */
import {existsSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'

import type {ErrorObject} from 'ajv'

import {ASSETS_MODEL_NAME_RE, azureModelNameProblem} from '../core/model-name.js'
import {toIssues} from '../core/schema-issues.js'
import {formatMinSkuSpec, minimumOverAllowList, parseMinSkuSpec, shortfalls} from '../skus/catalog.js'
import type {SkuCatalog} from '../skus/types.js'
import {assetRef, loadAssetFiles} from './asset.js'
import {walkFolders} from './discover.js'
import type {FixableDiagnostic, RuleId} from './diagnostic.js'
import {SCENARIOS, type Scenario} from './facts.js'
import {isRecord, resolveSpec, type ResolvedScenario} from './resolve.js'
import * as generated from './schema-validators.js'
import {locate, type Position, type YamlFile, type YamlPath} from './yaml-file.js'

export interface ValidateContext {
  catalog: SkuCatalog
  supportedInference: ReadonlySet<string>
}

export interface AssetValidation {
  /** The asset folder as the user named it. */
  path: string
  type: string | null
  name: string | null
  version: string | null
  diagnostics: FixableDiagnostic[]
  /** Where the effective name is stated (for duplicate-asset). */
  nameAt?: Position & {file: string}
}

export const ASSET_NAME_RE = /^[a-z][a-z0-9_.-]{0,254}$/
const TEMPLATE_RE = /\{\{.*\}\}/

/** No file in an asset folder may be larger than this (validate_tree.py): weights belong in blob storage. */
export const MAX_ASSET_FILE_BYTES = 1024 * 1024

/** Reserved words in a name (validate_name): models starting with "Azure-" are exempt (#4528). */
export function forbiddenWords(name: string, type: string): string[] {
  if (type === 'model' && name.startsWith('Azure-')) return []
  const lower = name.toLowerCase()
  const words = ['azureml', 'azure', 'aml', type]
  if (type !== 'model' && type !== 'evaluationresult') words.push('microsoft')
  const found = words.filter((w) => w !== '' && lower.includes(w))
  // "azureml" contains "azure" and "aml": name the longest match only.
  return found.filter((w) => !found.some((o) => o !== w && o.includes(w)))
}

class Reporter {
  readonly diagnostics: FixableDiagnostic[] = []

  at(yf: YamlFile, path: YamlPath, rule: RuleId, message: string, opts: {prefer?: 'key' | 'value'; severity?: 'error' | 'warning'; fix?: FixableDiagnostic['fix']} = {}): void {
    const pos = locate(yf, path, opts.prefer ?? 'value')
    this.diagnostics.push({rule, severity: opts.severity ?? 'error', message, file: yf.file, line: pos.line, column: pos.column, ...(opts.fix ? {fix: opts.fix} : {})})
  }

  /** For a key that is absent: point at the deepest ancestor that exists (its key), or the top of the file. */
  missing(yf: YamlFile, path: YamlPath, rule: RuleId, message: string, fix?: FixableDiagnostic['fix']): void {
    const data = yf.data
    let prefix: YamlPath = []
    let node: unknown = data
    for (const seg of path) {
      if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, seg)) {
        prefix = [...prefix, seg]
        node = node[seg as string]
      } else break
    }
    if (prefix.length === 0) {
      this.diagnostics.push({rule, severity: 'error', message, file: yf.file, line: 1, column: 1, ...(fix ? {fix} : {})})
    } else this.at(yf, prefix, rule, message, {prefer: 'key', fix})
  }

  fileLevel(file: string, rule: RuleId, message: string): void {
    this.diagnostics.push({rule, severity: 'error', message, file, line: 1, column: 1})
  }
}

type StandaloneValidator = ((data: unknown) => boolean) & {errors?: ErrorObject[] | null}

/**
 * The schemas' ajv validators, generated ahead of time (./schema-validators.ts, kept equal to schemas/ by a test):
 * compiling them at every start cost more than validating a hundred assets.
 */
const VALIDATORS = generated as unknown as Record<'asset' | 'modelConfig' | 'modelSpec', StandaloneValidator>
const SCHEMA_OF = {'asset.schema.json': 'asset', 'model-config.schema.json': 'modelConfig', 'model-spec.schema.json': 'modelSpec'} as const

function schemaCheck(r: Reporter, yf: YamlFile, schema: keyof typeof SCHEMA_OF, data: unknown, label: string): void {
  const validate = VALIDATORS[SCHEMA_OF[schema]]
  if (validate(data)) return
  for (const issue of toIssues(validate.errors)) {
    // if/then and allOf wrappers repeat what their inner keyword already said.
    if (issue.keyword === 'if' || issue.keyword === 'allOf') continue
    const where = issue.path.length ? issue.path.join('.') : '(top level)'
    const prefer = issue.keyword === 'additionalProperties' ? 'key' : 'value'
    const message = issue.keyword === 'not' && schema === 'asset.schema.json' ? 'conda_environment and pip_requirements are mutually exclusive' : issue.message
    r.at(yf, issue.path, 'schema', `${label} ${where}: ${message}`, {prefer})
  }
}

const SCENARIO_LABEL: Record<Scenario, string> = {inference: 'inference', evaluation: 'evaluation', finetune: 'finetune'}

function checkScenario(r: Reporter, spec: YamlFile, s: Scenario, sc: ResolvedScenario, ctx: ValidateContext): void {
  const label = SCENARIO_LABEL[s]
  const allow = sc.allowList?.value ?? []
  if (allow.length === 0) {
    const msg = `${label}: no compute allow list (${sc.homes.allowList.join('.')})${s === 'inference' ? ': the inference scenario is always validated' : ': the scenario is declared by its other keys'}`
    if (sc.allowList) r.at(spec, sc.allowList.path, 'sku-allow-list-missing', msg, {prefer: 'key'})
    else r.missing(spec, sc.homes.allowList, 'sku-allow-list-missing', msg)
    return
  }
  const allowItemPath = (i: number): YamlPath => sc.allowList?.itemPaths?.[i] ?? sc.allowList!.path

  // Recommended SKUs: the same set as the allow list (order does not matter).
  const rec = sc.recommended?.value ?? []
  const recPath = sc.recommended?.path ?? sc.homes.recommended
  if (rec.length === 0) {
    const fix = sc.recommended
      ? {kind: 'set-list' as const, path: recPath, values: allow, description: `${label} recommended SKUs := the ${allow.length} allow-list SKUs`}
      : {kind: 'add-key' as const, parentPath: recPath.slice(0, -1), key: String(recPath[recPath.length - 1]), value: allow, description: `added ${recPath.join('.')} = the ${allow.length} allow-list SKUs`}
    const msg = `${label}: no recommended SKUs (${recPath.join('.')}); they must be the same set as the compute allow list`
    if (sc.recommended) r.at(spec, recPath, 'sku-recommended-mismatch', msg, {prefer: 'key', fix})
    else r.missing(spec, recPath, 'sku-recommended-mismatch', msg, fix)
  } else {
    const recSet = new Set(rec)
    const allowSet = new Set(allow)
    const notRecommended = allow.filter((x) => !recSet.has(x))
    const notAllowed = rec.filter((x) => !allowSet.has(x))
    if (notRecommended.length || notAllowed.length) {
      const parts: string[] = []
      if (notRecommended.length) parts.push(`in the allow list but not recommended: ${notRecommended.join(', ')}`)
      if (notAllowed.length) parts.push(`recommended but not in the allow list: ${notAllowed.join(', ')}`)
      r.at(spec, recPath, 'sku-recommended-mismatch', `${label}: recommended SKUs differ from the compute allow list (${parts.join('; ')})`, {
        prefer: 'key',
        fix: {kind: 'set-list', path: recPath, values: allow, description: `${label} recommended SKUs := the ${allow.length} allow-list SKUs`},
      })
    }
  }

  if (s === 'inference') {
    allow.forEach((name, i) => {
      if (!ctx.supportedInference.has(name)) {
        r.at(spec, allowItemPath(i), 'sku-unsupported', `inference: ${name} is not a supported inference SKU (supported_inference_skus.json)`)
      }
    })
  }
  const unknownSeen = new Set<string>()
  allow.forEach((name, i) => {
    if (ctx.catalog.get(name) || unknownSeen.has(name)) return
    unknownSeen.add(name)
    const near = ctx.catalog.suggest(name)
    const hint = near.length ? `; did you mean ${near.join(' or ')}?` : ''
    r.at(spec, allowItemPath(i), 'sku-unknown', `${label}: unknown SKU ${name} (not in the SKU catalog ${ctx.catalog.origin})${hint}`)
  })

  // Min-SKU spec: the per-field minimum over the allow list.
  const {minimum, unknown} = minimumOverAllowList(allow, ctx.catalog)
  const expected = unknown.length === 0 && minimum ? formatMinSkuSpec(minimum) : undefined
  const stated = sc.minSkuSpec?.value.trim() ?? ''
  const minPath = sc.minSkuSpec?.path ?? sc.homes.minSkuSpec
  if (stated === '') {
    const should = expected ? `; the allow list's minimum is ${expected}` : ''
    const msg = `${label}: no min-SKU spec (${minPath.join('.')})${should}`
    if (sc.minSkuSpec) {
      r.at(spec, minPath, 'min-sku-spec-mismatch', msg, {prefer: 'key', fix: expected ? {kind: 'set-scalar', path: minPath, value: expected, description: `${label} min-SKU spec := ${expected}`} : undefined})
    } else {
      const fix = expected ? {kind: 'add-key' as const, parentPath: minPath.slice(0, -1), key: String(minPath[minPath.length - 1]), value: expected, description: `added ${minPath.join('.')} = ${expected}`} : undefined
      r.missing(spec, minPath, 'min-sku-spec-mismatch', msg, fix)
    }
    return
  }
  const figures = parseMinSkuSpec(stated)
  if (!figures) {
    r.at(spec, minPath, 'min-sku-spec-format', `${label}: min-SKU spec ${JSON.stringify(stated)} is not "vCPUs|GPUs|memoryGB|diskGB" (four integers)${expected ? `; the allow list's minimum is ${expected}` : ''}`)
    return
  }
  if (!expected) return // unknown SKUs: sku-unknown said so; the minimum cannot be trusted.
  if (formatMinSkuSpec(figures) !== expected) {
    const below = allow
      .map((n) => ctx.catalog.get(n)!)
      .filter((sku) => shortfalls(sku, figures).length > 0)
      .map((sku) => `${sku.name} (${shortfalls(sku, figures).join(', ')})`)
    const belowText = below.length ? `; below the stated spec: ${below.join(', ')}` : '; no allowed SKU falls below it (the spec understates the minimum)'
    r.at(spec, minPath, 'min-sku-spec-mismatch', `${label}: min-SKU spec states ${stated}, the allow list's minimum is ${expected}${belowText}`, {
      fix: {kind: 'set-scalar', path: minPath, value: expected, description: `${label} min-SKU spec ${stated} -> ${expected}`},
    })
  }
}



/** Validates the asset folder `dir` (named `display` in diagnostics). */
export function validateAssetFolder(dir: string, display: string, ctx: ValidateContext): AssetValidation {
  const r = new Reporter()
  const sizes = listAssetFiles(dir)
  const fileExists = (base: string, rel: string) => sizes.has(join(base, rel)) || existsSync(join(base, rel))
  r.diagnostics.push(...oversizedFiles(dir, display, sizes))
  const files = loadAssetFiles(dir, display, sizes)
  const out: AssetValidation = {path: display, type: null, name: null, version: null, diagnostics: r.diagnostics}
  const asset = files.asset
  r.diagnostics.push(...asset.problems)
  if (!files.assetData) {
    if (asset.data !== undefined) r.fileLevel(asset.file, 'schema', `${asset.file}: must be a YAML mapping`)
    return out
  }
  const a = files.assetData
  schemaCheck(r, asset, 'asset.schema.json', a, 'asset.yaml')
  const type = typeof a.type === 'string' ? a.type : null
  out.type = type

  // Files asset.yaml names.
  for (const key of ['spec', 'extra_config', 'description_file'] as const) {
    const ref = assetRef(a, key)
    if (ref && !fileExists(dir, ref)) r.at(asset, [key], 'missing-file', `${key} names ${ref}, which does not exist in ${display}`)
  }
  if (Array.isArray(a.release_paths)) {
    a.release_paths.forEach((p, i) => {
      if (typeof p !== 'string') return
      const rel = p.startsWith('!') ? p.slice(1) : p
      if (rel && !fileExists(dir, rel)) r.at(asset, ['release_paths', i], 'missing-file', `release path ${rel} does not exist`)
    })
  }

  const spec = files.spec
  if (spec) r.diagnostics.push(...spec.problems)
  if (spec && spec.data !== undefined && !files.specData) r.fileLevel(spec.file, 'schema', `${spec.file}: must be a YAML mapping`)
  const specData = files.specData
  const config = files.config
  if (config) r.diagnostics.push(...config.problems)
  if (config && config.data !== undefined && !files.configData) r.fileLevel(config.file, 'schema', `${config.file}: must be a YAML mapping`)

  // Name and version: asset.yaml may state them, else the spec does; when both do they must agree.
  const assetName = typeof a.name === 'string' ? a.name : undefined
  const specName = specData && typeof specData.name === 'string' ? specData.name : undefined
  const name = assetName ?? specName
  const nameYaml = assetName !== undefined ? asset : spec
  out.name = name ?? null
  const assetVersion = a.version !== undefined && a.version !== null ? String(a.version) : undefined
  const specVersion = specData && specData.version !== undefined && specData.version !== null ? String(specData.version) : undefined
  out.version = assetVersion ?? specVersion ?? null
  if (assetName !== undefined && specName !== undefined && assetName !== specName && !TEMPLATE_RE.test(specName)) {
    r.at(asset, ['name'], 'name-mismatch', `asset and spec name mismatch: asset.yaml says ${assetName}, ${spec!.file} says ${specName}`)
  }
  if (assetVersion !== undefined && specVersion !== undefined && assetVersion !== specVersion && assetVersion !== 'auto' && !TEMPLATE_RE.test(specVersion)) {
    r.at(asset, ['version'], 'version-mismatch', `asset and spec version mismatch: asset.yaml says ${assetVersion}, ${spec!.file} says ${specVersion}`)
  }
  if (name !== undefined && nameYaml && type) {
    const pos = locate(nameYaml, ['name'])
    out.nameAt = {...pos, file: nameYaml.file}
    if (!TEMPLATE_RE.test(name)) {
      const re = type === 'model' ? ASSETS_MODEL_NAME_RE : ASSET_NAME_RE
      if (!re.test(name)) {
        r.at(nameYaml, ['name'], 'name-format', `name ${JSON.stringify(name)} does not match ${re.source}${type === 'model' ? '' : ' (lower case for non-model assets)'}`)
      } else if (type === 'model') {
        // The azureml-assets CI accepts it; Azure's REST API will not (a dot): a warning, so validate still agrees with the CI.
        const refused = azureModelNameProblem(name)
        if (refused) r.at(nameYaml, ['name'], 'name-format', refused, {severity: 'warning'})
      }
      const words = forbiddenWords(name, type)
      if (words.length) {
        const exempt = type === 'model' && /^azure-/i.test(name) ? " (only the exact prefix 'Azure-' is exempt)" : ''
        r.at(nameYaml, ['name'], 'name-forbidden-word', `name ${JSON.stringify(name)} contains the reserved word${words.length > 1 ? 's' : ''} ${words.map((w) => `"${w}"`).join(', ')}${exempt}`)
      }
    }
  } else if (specData && type !== 'model' && name === undefined && spec) {
    r.missing(spec, ['name'], 'schema', `${spec.file}: the asset has no name (neither asset.yaml nor the spec states one)`)
  }

  if (type !== 'model') return out

  // model.yaml: schema, the files it names.
  const cfg = files.configData
  let publishType: string | undefined
  if (cfg && config) {
    schemaCheck(r, config, 'model-config.schema.json', cfg, config.file.replace(/^.*[/\\]/, ''))
    const publish = isRecord(cfg.publish) ? cfg.publish : undefined
    if (publish && typeof publish.description === 'string' && publish.description !== '' && !fileExists(dir, publish.description)) {
      r.at(config, ['publish', 'description'], 'missing-file', `publish.description names ${publish.description}, which does not exist in ${display}`)
    }
    if (publish && typeof publish.type === 'string') publishType = publish.type
    const path = isRecord(cfg.path) ? cfg.path : undefined
    if (path && path.type === 'local' && typeof path.uri === 'string' && path.uri !== '' && !fileExists(dir, path.uri)) {
      r.at(config, ['path', 'uri'], 'missing-file', `local model path ${path.uri} does not exist in ${display}`)
    }
  }
  if (!specData || !spec) return out
  schemaCheck(r, spec, 'model-spec.schema.json', specData, spec.file.replace(/^.*[/\\]/, ''))

  // The model spec rules apply to mlflow models only (validate_model_spec bypasses the others).
  if (publishType !== undefined && publishType !== 'mlflow_model') return out
  const res = resolveSpec(specData)
  if (res.form === 'legacy') {
    const legacyKeys = ['task', 'license', 'inference_compute_allow_list'].some((k) => k in res.tags) || Object.keys(res.properties).some((k) => /-sku|SharedComputeCapacityEnabled|finetuning-tasks/.test(k))
    if (legacyKeys) {
      r.at(spec, ['tags'], 'legacy-form', 'legacy tags/properties form: azureml-assets now enforces system_metadata (validate_model_schema --enforce-migration); see https://aka.ms/azureml/model-system-metadata', {prefer: 'key', severity: 'warning'})
    }
  }
  const taskHome: YamlPath = res.form === 'current' ? ['system_metadata', 'tasks', 'inferenceTasks'] : ['tags', 'task']
  if (!res.task || res.task.value.trim() === '') {
    const msg = `task missing: set ${taskHome.join('.')}`
    if (res.task) r.at(spec, res.task.path, 'task-missing', msg, {prefer: 'key'})
    else r.missing(spec, taskHome, 'task-missing', msg)
  }
  const licenseHome: YamlPath = res.form === 'current' ? ['system_metadata', 'license'] : ['tags', 'license']
  if (!res.license || res.license.value.trim() === '') {
    const msg = `license missing: set ${licenseHome.join('.')}`
    if (res.license) r.at(spec, res.license.path, 'license-missing', msg, {prefer: 'key'})
    else r.missing(spec, licenseHome, 'license-missing', msg)
  }
  if (!res.sharedCompute.enabled) {
    const msg = `shared compute capacity is not enabled: ${res.sharedCompute.reason ?? ''}`.trim()
    if (res.sharedCompute.path.length) r.at(spec, res.sharedCompute.path, 'shared-compute', msg, {prefer: 'key'})
    else r.missing(spec, res.form === 'current' ? ['system_metadata'] : ['properties'], 'shared-compute', msg)
  }
  for (const s of SCENARIOS) {
    if (res.scenarios[s].declared) checkScenario(r, spec, s, res.scenarios[s], ctx)
  }
  if (res.scenarios.finetune.declared && (res.finetuningTasks?.value.length ?? 0) === 0) {
    const home: YamlPath = res.form === 'current' ? ['system_metadata', 'tasks', 'fineTuningTasks'] : ['properties', 'finetuning-tasks']
    const msg = `finetune scenario declared but no finetuning tasks (${home.join('.')})`
    if (res.finetuningTasks) r.at(spec, res.finetuningTasks.path, 'finetune-tasks-missing', msg, {prefer: 'key'})
    else r.missing(spec, home, 'finetune-tasks-missing', msg)
  }
  return out
}

/**
 * Every regular file of an asset folder with its size, walked iteratively; nested asset folders are theirs.
 * The sizes serve the 1 MB rule, spare loadYamlFile a second stat, and answer "does this referenced file exist".
 */
export function listAssetFiles(assetDir: string): Map<string, number> {
  const sizes = new Map<string, number>()
  walkFolders(assetDir, (dir, entries) => {
    if (dir !== assetDir && entries.some((e) => e.isFile() && e.name === 'asset.yaml')) return []
    for (const e of entries) {
      if (!e.isFile()) continue
      const abs = join(dir, e.name)
      try {
        sizes.set(abs, statSync(abs).size)
      } catch {
        // vanished while walking: not there
      }
    }
    return entries.filter((e) => e.isDirectory() && e.name !== '.git' && e.name !== 'node_modules').map((e) => e.name)
  })
  return sizes
}

/** file-too-large for every file of the listing over the limit. */
export function oversizedFiles(assetDir: string, display: string, sizes: ReadonlyMap<string, number>): FixableDiagnostic[] {
  const out: FixableDiagnostic[] = []
  for (const [abs, size] of sizes) {
    if (size <= MAX_ASSET_FILE_BYTES) continue
    const file = join(display, relative(assetDir, abs))
    out.push({rule: 'file-too-large', severity: 'error', message: `${file} is ${(size / 1048576).toFixed(1)} MB; files in an asset folder must be at most 1 MB (weights belong in blob storage, referenced by model.yaml)`, file, line: 1, column: 1})
  }
  return out.sort((a, b) => a.file.localeCompare(b.file))
}
