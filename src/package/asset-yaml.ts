import {parse, stringify} from 'yaml'

import {InvalidInputError, UsageError} from '../core/errors.js'
import {publishableModelNameProblem} from '../core/model-name.js'
import {assetPath} from '../core/paths.js'
import {resolveSpec} from '../assets/resolve.js'
import {parseUserText, readUserText} from './read.js'

/**
 * The registry side of a package: asset.yaml, spec.yaml (the current `system_metadata` form that azureml-assets
 * enforces), model.yaml (where the weights will live) for one model name and version.
 */

export type Scenario = 'inference' | 'evaluation' | 'finetune'

/** Where the mlflow_model_folder will be published from. */
export type WeightsLocation =
  | {type: 'azureblob'; storageName: string; containerName: string; containerPath: string}
  | {type: 'local'; uri: string}

export interface SpecOverrides {
  /** `az ml model create --name`. */
  name?: string
  /** `az ml model create --version`: an integer, or 'auto'. */
  version?: string
  task?: string
  license?: string
  publisher?: string
  huggingFaceModelId?: string
  /** Per scenario: the allow list (also written as the recommended list) and its min-SKU spec. */
  skus?: Partial<Record<Scenario, {skus: string[]; minSkuSpec: string}>>
}

/** The legacy keys #5150 moved into system_metadata, per scenario. */
const LEGACY_SCENARIO_KEYS: Record<Scenario, {tag: string; props: string[]}> = {
  inference: {tag: 'inference_compute_allow_list', props: ['inference-recommended-sku', 'inference-min-sku-spec']},
  evaluation: {tag: 'evaluation_compute_allow_list', props: ['evaluation-recommended-sku', 'evaluation-min-sku-spec']},
  finetune: {tag: 'finetune_compute_allow_list', props: ['finetune-recommended-sku', 'finetune-min-sku-spec']},
}

/**
 * A legacy (tags/properties) spec rewritten in the system_metadata form azureml-assets now enforces, with the same
 * mapping validate_model_spec uses to read it (#5150/#5190); tags and properties that were not migrated (SHA,
 * model_specific_defaults, training_dataset, ...) stay. A spec already in the current form is returned as is.
 */
export function migrateLegacySpec(spec: SpecDocument): SpecDocument {
  const r = resolveSpec(spec)
  if (r.form === 'current') return spec
  const tags: Record<string, unknown> = {...r.tags}
  const properties: Record<string, unknown> = {...r.properties}
  for (const k of ['task', 'license', 'author', 'huggingface_model_id', 'hiddenlayerscanned', 'SharedComputeCapacityEnabled']) delete tags[k]
  for (const k of ['finetuning-tasks', 'SharedComputeCapacityEnabled']) delete properties[k]
  const sm: Record<string, unknown> = {sharedComputeCapacityEnabled: r.sharedCompute.enabled}
  const tasks: Record<string, unknown> = {}
  if (r.finetuningTasks) tasks.fineTuningTasks = [...r.finetuningTasks.value]
  if (r.inferenceTasks.length) tasks.inferenceTasks = [...r.inferenceTasks]
  if (Object.keys(tasks).length) sm.tasks = tasks
  const sku: Record<string, unknown> = {}
  const computes: Record<string, unknown> = {}
  for (const scenario of Object.keys(LEGACY_SCENARIO_KEYS) as Scenario[]) {
    const resolved = r.scenarios[scenario]
    const keys = SCENARIO_KEYS[scenario]
    if (resolved.recommended) sku[keys.recommended] = [...resolved.recommended.value]
    if (resolved.minSkuSpec) sku[keys.minSpec] = resolved.minSkuSpec.value
    if (resolved.allowList) computes[keys.computes] = [...resolved.allowList.value]
    delete tags[LEGACY_SCENARIO_KEYS[scenario].tag]
    for (const p of LEGACY_SCENARIO_KEYS[scenario].props) delete properties[p]
  }
  if (Object.keys(sku).length) sm.SKU = sku
  if (r.publisher) sm.publisher = r.publisher
  if (r.huggingFaceModelId) sm.huggingFaceModelId = r.huggingFaceModelId
  if (r.license) sm.license = r.license.value
  if (Object.keys(computes).length) sm.supportedComputes = computes

  const out: SpecDocument = {}
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'tags') out.tags = tags
    else if (k === 'properties') out.properties = properties
    else if (k === 'version') {
      // system_metadata goes where the real asset has it: after tags/properties, before version.
      out.system_metadata = sm
      out.version = v
    } else out[k] = v
  }
  if (!('system_metadata' in out)) out.system_metadata = sm
  if (out.properties && Object.keys(properties).length === 0) delete out.properties
  if (out.tags && Object.keys(tags).length === 0) delete out.tags
  return out
}

/** A spec.yaml document as a plain object (keys in file order). */
export type SpecDocument = Record<string, unknown>

/** The spec template shipped with vitrine: the real google-vit-base-patch16-224 asset's spec.yaml. */
export function defaultSpecTemplatePath(): string {
  return assetPath('templates', 'package', 'spec.yaml')
}

/** Versions as `az ml model create --version` and azureml-assets take them. */
export const MODEL_VERSION_RE = /^(?:[1-9][0-9]*|auto)$/

export async function readSpecTemplate(file: string): Promise<SpecDocument> {
  const doc = parseUserText(await readUserText(file), file, parse, 'YAML')
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new InvalidInputError(`${file}: a spec template must be a YAML mapping`, {file})
  const spec = doc as SpecDocument
  const sm = spec.system_metadata
  if (sm !== undefined && (typeof sm !== 'object' || sm === null || Array.isArray(sm))) {
    throw new InvalidInputError(`${file}: system_metadata must be a mapping`, {file})
  }
  return spec
}

function section(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = obj[key]
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>
  const fresh: Record<string, unknown> = {}
  obj[key] = fresh
  return fresh
}

const SCENARIO_KEYS: Record<Scenario, {computes: string; recommended: string; minSpec: string}> = {
  inference: {computes: 'inferenceComputes', recommended: 'inferenceRecommendedSkus', minSpec: 'inferenceMinSkuSpec'},
  evaluation: {computes: 'evaluationComputes', recommended: 'evaluationRecommendedSkus', minSpec: 'evaluationMinSkuSpec'},
  finetune: {computes: 'finetuneComputes', recommended: 'finetuneRecommendedSkus', minSpec: 'finetuneMinSkuSpec'},
}

/**
 * The spec for this package: the template with name, version and the flags applied. When the shipped template is
 * used for another model than the one it describes, the facts that belong to that model alone (its Hugging Face id,
 * source commit, training data, malware-scan flag) are dropped rather than claimed for the new weights.
 */
export function buildSpec(template: SpecDocument, o: SpecOverrides, options: {isDefaultTemplate: boolean}): SpecDocument {
  const spec = structuredClone(migrateLegacySpec(template))
  const name = o.name ?? (typeof spec.name === 'string' ? spec.name : undefined)
  if (!name) throw new UsageError('the model needs a name: pass --name (as `az ml model create --name`) or a --spec-template with one')
  const nameProblem = publishableModelNameProblem(name)
  if (nameProblem) throw new UsageError(`--name: ${nameProblem}`)
  const sameModel = spec.name === name
  // The shipped template's version (18) is google's; another model starts at 1.
  const templateVersion = spec.version === undefined || (options.isDefaultTemplate && !sameModel) ? '1' : String(spec.version)
  const version = o.version ?? templateVersion
  if (!MODEL_VERSION_RE.test(version)) throw new UsageError(`--version ${JSON.stringify(version)}: must be a positive integer or auto`)
  spec.name = name
  spec.version = version === 'auto' ? 'auto' : Number(version)
  if (spec.path === undefined) spec.path = './'

  const sm = section(spec, 'system_metadata')
  if (options.isDefaultTemplate && !sameModel) {
    delete sm.huggingFaceModelId
    delete sm.hiddenLayerScanned
    const props = spec.properties as Record<string, unknown> | undefined
    if (props) {
      delete props.SHA
      if (Object.keys(props).length === 0) delete spec.properties
    }
    const tags = spec.tags as Record<string, unknown> | undefined
    if (tags) delete tags.training_dataset
  }
  if (o.huggingFaceModelId) sm.huggingFaceModelId = o.huggingFaceModelId
  if (o.task) {
    const tasks = section(sm, 'tasks')
    tasks.inferenceTasks = [o.task]
    if (Array.isArray(tasks.fineTuningTasks)) tasks.fineTuningTasks = [o.task]
  }
  if (o.license) sm.license = o.license
  if (o.publisher) sm.publisher = o.publisher
  for (const [scenario, value] of Object.entries(o.skus ?? {}) as Array<[Scenario, {skus: string[]; minSkuSpec: string}]>) {
    const keys = SCENARIO_KEYS[scenario]
    section(sm, 'supportedComputes')[keys.computes] = [...value.skus]
    const sku = section(sm, 'SKU')
    sku[keys.recommended] = [...value.skus]
    sku[keys.minSpec] = value.minSkuSpec
  }
  return spec
}

/** The first inference task of a spec (for MLmodel), or image-classification. */
export function specTask(spec: SpecDocument): string {
  const tasks = (spec.system_metadata as Record<string, unknown> | undefined)?.tasks as Record<string, unknown> | undefined
  const list = tasks?.inferenceTasks
  return Array.isArray(list) && typeof list[0] === 'string' ? list[0] : 'image-classification'
}

export function specString(spec: SpecDocument, key: 'license' | 'publisher' | 'huggingFaceModelId'): string | undefined {
  const v = (spec.system_metadata as Record<string, unknown> | undefined)?.[key]
  return typeof v === 'string' && v ? v : undefined
}

/** YAML as the azureml-assets files are written: block style, sequences not indented, no line folding. */
export function toYaml(doc: unknown): string {
  return stringify(doc, {indentSeq: false, lineWidth: 0, singleQuote: true})
}

/** One YAML scalar, quoted only when it must be (for filling templates). */
export function yamlScalar(value: string): string {
  return stringify(value, {lineWidth: 0, singleQuote: true}).trimEnd()
}

export function assetYaml(): string {
  return toYaml({extra_config: 'model.yaml', spec: 'spec.yaml', type: 'model', categories: ['Foundation Models']})
}

export function modelYaml(location: WeightsLocation): string {
  const path =
    location.type === 'azureblob'
      ? {container_name: location.containerName, container_path: location.containerPath, storage_name: location.storageName, type: 'azureblob'}
      : {type: 'local', uri: location.uri}
  return toYaml({path, publish: {description: 'description.md', type: 'mlflow_model'}})
}
