/**
 * One asset folder through the rules of the azureml-assets tooling (validate_assets.py, config.py,
 * validate_model_spec). Each family of rules has its own file under ./rules/:
 *   rules/schema.ts      schema                      asset.yaml, model.yaml and the spec against their JSON Schemas
 *   rules/names.ts       name-format, name-forbidden-word, name-mismatch, version-mismatch
 *   rules/files.ts       file-too-large, missing-file
 *   rules/model-spec.ts  legacy-form, task-missing, license-missing, shared-compute, finetune-tasks-missing
 *   rules/skus.ts        sku-allow-list-missing, sku-recommended-mismatch, sku-unsupported, sku-unknown,
 *                        min-sku-spec-format, min-sku-spec-mismatch
 * yaml-syntax comes from reading the files (./yaml-file.ts); the tree rules (duplicate-asset, a spec.yaml without
 * asset.yaml, asset.yml) are in ./validate.ts and ./discover.ts.
 */
import type {SkuCatalog} from '../skus/types.js'
import {loadAssetFiles} from './asset.js'
import type {FixableDiagnostic} from './diagnostic.js'
import {SCENARIOS} from './facts.js'
import {resolveSpec} from './resolve.js'
import {checkAssetYamlFiles, checkModelYamlFiles, fileExistsIn, listAssetFiles, oversizedFiles} from './rules/files.js'
import {checkModelSpec} from './rules/model-spec.js'
import {checkNameAndVersion} from './rules/names.js'
import {Reporter} from './rules/reporter.js'
import {schemaCheck} from './rules/schema.js'
import {checkScenario} from './rules/skus.js'
import type {Position} from './yaml-file.js'

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

/** Validates the asset folder `dir` (named `display` in diagnostics). */
export function validateAssetFolder(dir: string, display: string, ctx: ValidateContext): AssetValidation {
  const r = new Reporter()
  const sizes = listAssetFiles(dir)
  const fileExists = fileExistsIn(sizes)
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
  checkAssetYamlFiles(r, asset, a, dir, display, fileExists)

  const spec = files.spec
  if (spec) r.diagnostics.push(...spec.problems)
  if (spec && spec.data !== undefined && !files.specData) r.fileLevel(spec.file, 'schema', `${spec.file}: must be a YAML mapping`)
  const specData = files.specData
  const config = files.config
  if (config) r.diagnostics.push(...config.problems)
  if (config && config.data !== undefined && !files.configData) r.fileLevel(config.file, 'schema', `${config.file}: must be a YAML mapping`)

  const identity = checkNameAndVersion(r, files, a, type)
  out.name = identity.name
  out.version = identity.version
  if (identity.nameAt) out.nameAt = identity.nameAt

  if (type !== 'model') return out

  // model.yaml: schema, the files it names.
  const cfg = files.configData
  let publishType: string | undefined
  if (cfg && config) {
    schemaCheck(r, config, 'model-config.schema.json', cfg, config.file.replace(/^.*[/\\]/, ''))
    publishType = checkModelYamlFiles(r, config, cfg, dir, display, fileExists)
  }
  if (!specData || !spec) return out
  schemaCheck(r, spec, 'model-spec.schema.json', specData, spec.file.replace(/^.*[/\\]/, ''))

  // The model spec rules apply to mlflow models only (validate_model_spec bypasses the others).
  if (publishType !== undefined && publishType !== 'mlflow_model') return out
  const res = resolveSpec(specData)
  checkModelSpec(r, spec, res)
  for (const s of SCENARIOS) {
    if (res.scenarios[s].declared) checkScenario(r, spec, s, res.scenarios[s], ctx)
  }
  return out
}
