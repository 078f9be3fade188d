/**
 * The effective model facts of a spec.yaml, the way azureml-assets' validate_model_spec reads them (#5111): a
 * non-empty value in `system_metadata` wins over the legacy `tags`/`properties` key it replaced; an empty one
 * (string, list, map, null) counts as absent and the legacy value is kept. Every fact remembers the YAML path it
 * came from, so a diagnostic can point at the node to fix.
 */
import {SCENARIOS, type Scenario} from './facts.js'
import type {YamlPath} from './yaml-file.js'
import {previewValue} from '../core/errors.js'

export interface Sourced<T> {
  value: T
  /** Where the value is in spec.yaml. */
  path: YamlPath
  /** Per list item, its own path (a YAML list) or the whole value's path (a comma-separated string). */
  itemPaths?: YamlPath[]
}

export interface ResolvedScenario {
  /** True when any of the scenario's keys is present, in either form (inference is always validated). */
  declared: boolean
  allowList?: Sourced<string[]>
  recommended?: Sourced<string[]>
  minSkuSpec?: Sourced<string>
  /** Where a missing key of this scenario should go (the form in use). */
  homes: {allowList: YamlPath; recommended: YamlPath; minSkuSpec: YamlPath}
}

export interface ResolvedSpec {
  form: 'current' | 'legacy'
  name?: Sourced<string>
  version?: Sourced<string>
  task?: Sourced<string>
  inferenceTasks: string[]
  license?: Sourced<string>
  finetuningTasks?: Sourced<string[]>
  /** True when `finetuning-tasks` / `tasks.fineTuningTasks` is present at all (declares finetune). */
  finetuningTasksDeclared: boolean
  sharedCompute: {enabled: boolean; path: YamlPath; reason?: string}
  scenarios: Record<Scenario, ResolvedScenario>
  publisher?: string
  huggingFaceModelId?: string
  description?: string
  tags: Record<string, unknown>
  properties: Record<string, unknown>
  systemMetadata?: Record<string, unknown>
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Python-style emptiness, as the backfill treats it. */
function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true
  if (typeof v === 'string') return v.trim() === ''
  if (Array.isArray(v)) return v.length === 0
  if (isRecord(v)) return Object.keys(v).length === 0
  return false
}

function has(obj: Record<string, unknown> | undefined, key: string): boolean {
  return obj !== undefined && Object.prototype.hasOwnProperty.call(obj, key)
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return undefined
}

/** A list value: a YAML list of scalars, or a comma-separated string (the legacy property form). */
function toList(v: unknown, path: YamlPath): Sourced<string[]> | undefined {
  if (Array.isArray(v)) {
    const value: string[] = []
    const itemPaths: YamlPath[] = []
    v.forEach((item, i) => {
      const t = scalarText(item)
      if (t !== undefined && t.trim() !== '') {
        value.push(t.trim())
        itemPaths.push([...path, i])
      }
    })
    return {value, path, itemPaths}
  }
  const s = scalarText(v)
  if (s === undefined) return undefined
  const value = s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
  return {value, path, itemPaths: value.map(() => path)}
}

function toText(v: unknown, path: YamlPath): Sourced<string> | undefined {
  if (Array.isArray(v)) {
    const parts = v.map(scalarText).filter((x): x is string => x !== undefined && x.trim() !== '')
    return {value: parts.join(','), path}
  }
  const s = scalarText(v)
  return s === undefined ? undefined : {value: s, path}
}

/** `system_metadata` value when non-empty, else the legacy one (either may be missing). */
function pick<T>(
  sm: Record<string, unknown> | undefined,
  smPath: YamlPath,
  legacy: Record<string, unknown> | undefined,
  legacyPath: YamlPath,
  convert: (v: unknown, path: YamlPath) => T | undefined,
): T | undefined {
  const smKey = smPath[smPath.length - 1] as string
  const legacyKey = legacyPath[legacyPath.length - 1] as string
  if (sm && has(sm, smKey) && !isEmpty(sm[smKey])) return convert(sm[smKey], smPath)
  if (legacy && has(legacy, legacyKey)) return convert(legacy[legacyKey], legacyPath)
  return undefined
}

const SCENARIO_KEYS: Record<Scenario, {computes: string; recommended: string; min: string; tagAllow: string; propRec: string; propMin: string}> = {
  inference: {
    computes: 'inferenceComputes',
    recommended: 'inferenceRecommendedSkus',
    min: 'inferenceMinSkuSpec',
    tagAllow: 'inference_compute_allow_list',
    propRec: 'inference-recommended-sku',
    propMin: 'inference-min-sku-spec',
  },
  evaluation: {
    computes: 'evaluationComputes',
    recommended: 'evaluationRecommendedSkus',
    min: 'evaluationMinSkuSpec',
    tagAllow: 'evaluation_compute_allow_list',
    propRec: 'evaluation-recommended-sku',
    propMin: 'evaluation-min-sku-spec',
  },
  finetune: {
    computes: 'finetuneComputes',
    recommended: 'finetuneRecommendedSkus',
    min: 'finetuneMinSkuSpec',
    tagAllow: 'finetune_compute_allow_list',
    propRec: 'finetune-recommended-sku',
    propMin: 'finetune-min-sku-spec',
  },
}

/** Resolves a parsed spec.yaml (any shape: wrong types just resolve to "absent"). */
export function resolveSpec(spec: unknown): ResolvedSpec {
  const root = isRecord(spec) ? spec : {}
  const tags = isRecord(root.tags) ? root.tags : {}
  const properties = isRecord(root.properties) ? root.properties : {}
  const sm = isRecord(root.system_metadata) ? root.system_metadata : undefined
  const form: 'current' | 'legacy' = sm && !isEmpty(sm) ? 'current' : 'legacy'
  const smTasks = sm && isRecord(sm.tasks) ? sm.tasks : undefined
  const smSku = sm && isRecord(sm.SKU) ? sm.SKU : undefined
  const smComputes = sm && isRecord(sm.supportedComputes) ? sm.supportedComputes : undefined

  const task = pick(smTasks, ['system_metadata', 'tasks', 'inferenceTasks'], tags, ['tags', 'task'], toText)
  const inferenceTasks = task ? task.value.split(',').map((t) => t.trim()).filter(Boolean) : []
  const license = pick(sm, ['system_metadata', 'license'], tags, ['tags', 'license'], toText)
  const finetuningTasks = pick(smTasks, ['system_metadata', 'tasks', 'fineTuningTasks'], properties, ['properties', 'finetuning-tasks'], toList)
  const finetuningTasksDeclared = has(smTasks, 'fineTuningTasks') || has(properties, 'finetuning-tasks')

  // Shared compute: system_metadata true/"true" enables it; any other non-empty value disables it; empty = absent.
  let sharedCompute: ResolvedSpec['sharedCompute']
  if (sm && has(sm, 'sharedComputeCapacityEnabled') && !isEmpty(sm.sharedComputeCapacityEnabled)) {
    const v = sm.sharedComputeCapacityEnabled
    const enabled = v === true || (typeof v === 'string' && v.toLowerCase() === 'true')
    sharedCompute = {enabled, path: ['system_metadata', 'sharedComputeCapacityEnabled'], reason: enabled ? undefined : `system_metadata.sharedComputeCapacityEnabled is ${previewValue(v)}, not true`}
  } else {
    const tagPresent = has(tags, 'SharedComputeCapacityEnabled')
    const prop = properties.SharedComputeCapacityEnabled
    const propText = scalarText(prop)
    // Upstream only asks for a truthy property; a literal "false" is read as what it says.
    const propOn = propText !== undefined && propText.trim() !== '' && propText.trim().toLowerCase() !== 'false'
    const enabled = tagPresent && propOn
    let reason: string | undefined
    let path: YamlPath = form === 'current' ? ['system_metadata'] : ['properties', 'SharedComputeCapacityEnabled']
    if (!enabled) {
      if (form === 'current' || (!tagPresent && !has(properties, 'SharedComputeCapacityEnabled'))) {
        reason = form === 'current' ? 'system_metadata.sharedComputeCapacityEnabled is not set' : 'neither the SharedComputeCapacityEnabled tag nor property is set'
        path = form === 'current' ? ['system_metadata'] : []
      } else if (!tagPresent) {
        reason = "tag SharedComputeCapacityEnabled is missing (its value may be '')"
        path = ['properties', 'SharedComputeCapacityEnabled']
      } else {
        reason = `property SharedComputeCapacityEnabled is ${prop === undefined ? 'not set' : JSON.stringify(prop)}, it must be "True"`
        path = has(properties, 'SharedComputeCapacityEnabled') ? ['properties', 'SharedComputeCapacityEnabled'] : ['tags', 'SharedComputeCapacityEnabled']
      }
    }
    sharedCompute = {enabled, path, reason}
  }

  const scenarios = {} as Record<Scenario, ResolvedScenario>
  for (const s of SCENARIOS) {
    const k = SCENARIO_KEYS[s]
    const allowList = pick(smComputes, ['system_metadata', 'supportedComputes', k.computes], tags, ['tags', k.tagAllow], toList)
    const recommended = pick(smSku, ['system_metadata', 'SKU', k.recommended], properties, ['properties', k.propRec], toList)
    const minSkuSpec = pick(smSku, ['system_metadata', 'SKU', k.min], properties, ['properties', k.propMin], toText)
    const anyKey =
      has(smComputes, k.computes) || has(smSku, k.recommended) || has(smSku, k.min) ||
      has(tags, k.tagAllow) || has(properties, k.propRec) || has(properties, k.propMin) ||
      (s === 'finetune' && finetuningTasksDeclared)
    const homes =
      form === 'current'
        ? {
            allowList: ['system_metadata', 'supportedComputes', k.computes],
            recommended: ['system_metadata', 'SKU', k.recommended],
            minSkuSpec: ['system_metadata', 'SKU', k.min],
          }
        : {allowList: ['tags', k.tagAllow], recommended: ['properties', k.propRec], minSkuSpec: ['properties', k.propMin]}
    scenarios[s] = {declared: s === 'inference' || anyKey, allowList, recommended, minSkuSpec, homes}
  }

  const name = toText(root.name, ['name'])
  const version = toText(root.version, ['version'])
  const publisher = pick(sm, ['system_metadata', 'publisher'], tags, ['tags', 'author'], toText)?.value
  const hf = pick(sm, ['system_metadata', 'huggingFaceModelId'], tags, ['tags', 'huggingface_model_id'], toText)?.value
  return {
    form,
    name,
    version,
    task,
    inferenceTasks,
    license,
    finetuningTasks,
    finetuningTasksDeclared,
    sharedCompute,
    scenarios,
    publisher,
    huggingFaceModelId: hf,
    description: typeof root.description === 'string' ? root.description : undefined,
    tags,
    properties,
    systemMetadata: sm,
  }
}
