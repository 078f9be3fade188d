import {createHash} from 'node:crypto'

import {InvalidInputError, previewValue} from '../core/errors.js'
import {azureModelNameProblem} from '../core/model-name.js'
import type {JsonObject} from './types.js'

/**
 * Azure ML CLI v2 YAML (snake_case, ms and seconds) to ARM REST bodies (camelCase, ISO-8601 durations, PascalCase
 * enums), for api-version 2022-10-01 (endpoints, deployments) and 2024-04-01 (registry models, jobs).
 */

/** Context for errors and for turning `azureml:<name>:<version>` into ARM ids. */
export interface YamlContext {
  file: string
  /** ARM path of the workspace, when there is one. */
  workspacePath?: string
}

export function fail(ctx: YamlContext, field: string, message: string): never {
  throw new InvalidInputError(`${ctx.file}: ${field}: ${message}`, {file: ctx.file})
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function str(ctx: YamlContext, obj: JsonObject, key: string, required = false): string | undefined {
  const v = obj[key]
  if (v === undefined || v === null) {
    if (required) fail(ctx, key, 'is required')
    return undefined
  }
  if (typeof v === 'string' && v.trim() !== '') return v
  if (typeof v === 'number') return String(v)
  return fail(ctx, key, `must be a non-empty string, got ${previewValue(v)}`)
}

function int(ctx: YamlContext, obj: JsonObject, key: string, field = key, min = 0): number | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(ctx, field, `must be an integer >= ${min}, got ${previewValue(v)}`)
  return v
}

function bool(ctx: YamlContext, obj: JsonObject, key: string): boolean | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') fail(ctx, key, `must be true or false, got ${previewValue(v)}`)
  return v
}

function obj(ctx: YamlContext, o: JsonObject, key: string): JsonObject | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) fail(ctx, key, 'must be a mapping')
  return v
}

function enumValue(ctx: YamlContext, field: string, value: string | undefined, table: Record<string, string>): string | undefined {
  if (value === undefined) return undefined
  const hit = table[value.toLowerCase()]
  if (!hit) fail(ctx, field, `must be one of ${Object.keys(table).join(', ')}, got '${value}'`)
  return hit
}

/**
 * REST tags and properties are string to string. YAML values that are not strings (numbers, booleans, the nested
 * `model_specific_defaults` of azureml-assets specs) are sent as their JSON text.
 */
export function stringMap(ctx: YamlContext, o: JsonObject, key: string): Record<string, string> | undefined {
  const v = o[key]
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) fail(ctx, key, 'must be a mapping of names to values')
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(v)) {
    out[k] = typeof val === 'string' ? val : val === null ? '' : typeof val === 'object' ? JSON.stringify(val) : String(val)
  }
  return out
}

/** ISO-8601 duration for a number of milliseconds: 90000 -> `PT1M30S`, 500 -> `PT0.5S`. */
export function msToIsoDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`bad duration ${ms} ms`)
  let rest = Math.round(ms)
  const h = Math.floor(rest / 3_600_000)
  rest -= h * 3_600_000
  const m = Math.floor(rest / 60_000)
  rest -= m * 60_000
  const s = rest / 1000
  let out = 'PT'
  if (h) out += `${h}H`
  if (m) out += `${m}M`
  if (s || (!h && !m)) out += `${Number(s.toFixed(3))}S`
  return out
}

/** Milliseconds in an ISO-8601 duration (`P1DT2H3M4.5S`), or undefined when it is not one. */
export function isoDurationToMs(s: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s)
  if (!m || s === 'P' || s === 'PT') return undefined
  const [, d, h, mi, sec] = m
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(mi ?? 0)) * 60_000 + Number(sec ?? 0) * 1000
}

function prune<T extends JsonObject>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k]
  return o
}

/**
 * An asset reference as ARM wants it: `azureml:<name>:<version>` becomes the workspace ARM id of `kind`
 * (`models`, `environments`, `codes`, `computes` take no version); `azureml://...` and https URIs pass through.
 */
export function assetId(ctx: YamlContext, field: string, ref: string, kind: 'models' | 'environments' | 'codes' | 'computes' | 'data' | 'components'): string {
  if (ref.startsWith('azureml://') || ref.startsWith('https://') || ref.startsWith('/subscriptions/')) return ref
  if (ref.startsWith('azureml:')) {
    const rest = ref.slice('azureml:'.length)
    if (!ctx.workspacePath) fail(ctx, field, `'${ref}' is a workspace asset: pass --workspace`)
    if (kind === 'computes') return `${ctx.workspacePath}/computes/${rest}`
    if (rest.includes('@')) fail(ctx, field, `'${ref}': labels (@latest) are not resolved by vitrine apply; name a version (azureml:<name>:<version>)`)
    const i = rest.lastIndexOf(':')
    if (i <= 0) fail(ctx, field, `'${ref}' must be azureml:<name>:<version>`)
    return `${ctx.workspacePath}/${kind}/${rest.slice(0, i)}/versions/${rest.slice(i + 1)}`
  }
  if (kind === 'computes' && /^[A-Za-z][\w-]*$/.test(ref) && ctx.workspacePath) return `${ctx.workspacePath}/computes/${ref}`
  return fail(ctx, field, `'${ref}' is a local path or unknown reference: apply sends only registered assets (azureml:<name>:<version>, azureml://...)`)
}

const AUTH_MODE = {key: 'Key', aml_token: 'AMLToken', aad_token: 'AADToken'}
const NETWORK = {enabled: 'Enabled', disabled: 'Disabled'}
const IDENTITY = {
  system_assigned: 'SystemAssigned',
  user_assigned: 'UserAssigned',
  'system_assigned,user_assigned': 'SystemAssigned,UserAssigned',
  none: 'None',
}

function identityBody(ctx: YamlContext, y: JsonObject): JsonObject {
  const id = obj(ctx, y, 'identity')
  // azure-ai-ml gives an endpoint a system-assigned identity when the YAML names none; do the same so both agree.
  if (!id) return {type: 'SystemAssigned'}
  const type = enumValue(ctx, 'identity.type', str(ctx, id, 'type', true), IDENTITY)
  const uai = id.user_assigned_identities
  let userAssignedIdentities: JsonObject | undefined
  if (Array.isArray(uai)) {
    userAssignedIdentities = {}
    for (const [i, u] of uai.entries()) {
      const rid = isObject(u) ? u.resource_id : undefined
      if (typeof rid !== 'string') fail(ctx, `identity.user_assigned_identities[${i}].resource_id`, 'is required')
      userAssignedIdentities[rid] = {}
    }
  }
  return prune({type, userAssignedIdentities})
}

/** managedOnlineEndpoint YAML -> OnlineEndpoint REST body (without location and traffic). */
export function onlineEndpointBody(ctx: YamlContext, y: JsonObject): {name: string; body: JsonObject; traffic?: Record<string, number>; notes: string[]} {
  const name = str(ctx, y, 'name', true)!
  const notes: string[] = []
  const traffic = sentTraffic(numberMap(ctx, y, 'traffic'))
  if (y.mirror_traffic !== undefined) notes.push('mirror_traffic is not sent (not in api-version 2022-10-01)')
  const body = prune({
    identity: identityBody(ctx, y),
    tags: stringMap(ctx, y, 'tags'),
    properties: prune({
      authMode: enumValue(ctx, 'auth_mode', str(ctx, y, 'auth_mode') ?? 'key', AUTH_MODE),
      description: str(ctx, y, 'description'),
      properties: stringMap(ctx, y, 'properties'),
      publicNetworkAccess: enumValue(ctx, 'public_network_access', str(ctx, y, 'public_network_access'), NETWORK),
    }),
  })
  return {name, body, traffic, notes}
}

/**
 * Traffic as azure-ai-ml sends it: entries of 0 % dropped (`_strip_zeroes_from_traffic`) and deployment names in
 * lower case, as Azure stores them, so the plan compares like with like.
 */
export function sentTraffic(traffic: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!traffic) return undefined
  return Object.fromEntries(Object.entries(traffic).filter(([, pct]) => pct !== 0).map(([name, pct]) => [name.toLowerCase(), pct]))
}

function numberMap(ctx: YamlContext, y: JsonObject, key: string): Record<string, number> | undefined {
  const m = obj(ctx, y, key)
  if (!m) return undefined
  const out: Record<string, number> = {}
  let sum = 0
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) fail(ctx, `${key}.${k}`, `must be an integer 0..100, got ${previewValue(v)}`)
    out[k] = v
    sum += v
  }
  if (sum > 100) fail(ctx, key, `percentages add up to ${sum}, more than 100`)
  return out
}

function probeBody(ctx: YamlContext, y: JsonObject, key: string): JsonObject | undefined {
  const p = obj(ctx, y, key)
  if (!p) return undefined
  const secs = (k: string) => {
    const v = int(ctx, p, k, `${key}.${k}`)
    return v === undefined ? undefined : msToIsoDuration(v * 1000)
  }
  return prune({
    failureThreshold: int(ctx, p, 'failure_threshold', `${key}.failure_threshold`, 1),
    initialDelay: secs('initial_delay'),
    period: secs('period'),
    successThreshold: int(ctx, p, 'success_threshold', `${key}.success_threshold`, 1),
    timeout: secs('timeout'),
  })
}

function scaleSettingsBody(ctx: YamlContext, y: JsonObject): JsonObject | undefined {
  const s = obj(ctx, y, 'scale_settings')
  if (!s) return undefined
  const type = enumValue(ctx, 'scale_settings.type', str(ctx, s, 'type') ?? 'default', {
    default: 'Default',
    target_utilization: 'TargetUtilization',
  })
  if (type === 'Default') return {scaleType: 'Default'}
  const poll = int(ctx, s, 'polling_interval', 'scale_settings.polling_interval')
  return prune({
    scaleType: type,
    minInstances: int(ctx, s, 'min_instances', 'scale_settings.min_instances'),
    maxInstances: int(ctx, s, 'max_instances', 'scale_settings.max_instances'),
    pollingInterval: poll === undefined ? undefined : msToIsoDuration(poll * 1000),
    targetUtilizationPercentage: int(ctx, s, 'target_utilization_percentage', 'scale_settings.target_utilization_percentage'),
  })
}

function codeConfiguration(ctx: YamlContext, y: JsonObject): JsonObject | undefined {
  const c = obj(ctx, y, 'code_configuration')
  if (!c) return undefined
  const code = str(ctx, c, 'code', true)!
  return {codeId: assetId(ctx, 'code_configuration.code', code, 'codes'), scoringScript: str(ctx, c, 'scoring_script', true)}
}

/** Azure's curated environments: named `AzureML-...`, expanded by the service from their short form. */
const CURATED_ENV_PREFIX = 'AzureML-'

function environmentId(ctx: YamlContext, y: JsonObject): string | undefined {
  const e = y.environment
  if (e === undefined || e === null) return undefined
  if (typeof e !== 'string') fail(ctx, 'environment', 'inline environments are not sent by vitrine apply: register it and name it (azureml:<name>:<version>)')
  // azure-ai-ml keeps a curated environment short (`azureml:AzureML-...:N`): "Short form of curated env will be
  // expanded on the backend side". A workspace ARM id would name an environment that is not in the workspace.
  const bare = e.startsWith('azureml:') && !e.startsWith('azureml://') ? e.slice('azureml:'.length) : e
  if (bare.startsWith(CURATED_ENV_PREFIX)) return `azureml:${bare}`
  return assetId(ctx, 'environment', e, 'environments')
}

function modelRef(ctx: YamlContext, y: JsonObject): string | undefined {
  const m = y.model
  if (m === undefined || m === null) return undefined
  if (typeof m !== 'string') fail(ctx, 'model', 'inline models are not sent by vitrine apply: register the model and name it (azureml://registries/<reg>/models/<name>/versions/<v>)')
  return assetId(ctx, 'model', m, 'models')
}

/** managedOnlineDeployment YAML -> OnlineDeployment REST body (without location). */
export function onlineDeploymentBody(ctx: YamlContext, y: JsonObject): {name: string; endpointName: string; body: JsonObject; notes: string[]} {
  const name = str(ctx, y, 'name', true)!
  const endpointName = str(ctx, y, 'endpoint_name', true)!
  const type = str(ctx, y, 'type')
  if (type && type.toLowerCase() !== 'managed') fail(ctx, 'type', `only managed online deployments are applied, got '${type}'`)
  const notes: string[] = []
  for (const k of ['data_collector', 'model_mount_path']) if (y[k] !== undefined) notes.push(`${k} is not sent (not supported by vitrine apply)`)
  const rs = obj(ctx, y, 'request_settings')
  const ms = (k: string) => {
    const v = rs ? int(ctx, rs, k, `request_settings.${k}`) : undefined
    return v === undefined ? undefined : msToIsoDuration(v)
  }
  const requestSettings = rs
    ? prune({
        maxConcurrentRequestsPerInstance: int(ctx, rs, 'max_concurrent_requests_per_instance', 'request_settings.max_concurrent_requests_per_instance', 1),
        maxQueueWait: ms('max_queue_wait_ms'),
        requestTimeout: ms('request_timeout_ms'),
      })
    : undefined
  const instanceCount = int(ctx, y, 'instance_count', 'instance_count', 1) ?? 1
  const body = prune({
    tags: stringMap(ctx, y, 'tags'),
    sku: {name: 'Default', capacity: instanceCount},
    properties: prune({
      endpointComputeType: 'Managed',
      description: str(ctx, y, 'description'),
      model: modelRef(ctx, y),
      environmentId: environmentId(ctx, y),
      codeConfiguration: codeConfiguration(ctx, y),
      instanceType: str(ctx, y, 'instance_type', true),
      environmentVariables: stringMap(ctx, y, 'environment_variables'),
      properties: stringMap(ctx, y, 'properties'),
      requestSettings,
      livenessProbe: probeBody(ctx, y, 'liveness_probe'),
      readinessProbe: probeBody(ctx, y, 'readiness_probe'),
      scaleSettings: scaleSettingsBody(ctx, y),
      appInsightsEnabled: bool(ctx, y, 'app_insights_enabled'),
      egressPublicNetworkAccess: enumValue(ctx, 'egress_public_network_access', str(ctx, y, 'egress_public_network_access'), NETWORK),
    }),
  })
  return {name, endpointName, body, notes}
}

/** batchEndpoint YAML -> BatchEndpoint REST body (without location and defaults). */
export function batchEndpointBody(ctx: YamlContext, y: JsonObject): {name: string; body: JsonObject; defaultDeployment?: string} {
  const name = str(ctx, y, 'name', true)!
  const defaults = obj(ctx, y, 'defaults')
  const authMode = enumValue(ctx, 'auth_mode', str(ctx, y, 'auth_mode') ?? 'aad_token', AUTH_MODE)
  if (authMode !== 'AADToken') fail(ctx, 'auth_mode', 'batch endpoints support only aad_token')
  const body = prune({
    tags: stringMap(ctx, y, 'tags'),
    properties: prune({
      authMode,
      description: str(ctx, y, 'description'),
      properties: stringMap(ctx, y, 'properties'),
    }),
  })
  return {name, body, defaultDeployment: defaults ? str(ctx, defaults, 'deployment_name') : undefined}
}

/** modelBatchDeployment (or legacy batchDeployment) YAML -> BatchDeployment REST body (without location). */
export function batchDeploymentBody(ctx: YamlContext, y: JsonObject): {name: string; endpointName: string; body: JsonObject} {
  const name = str(ctx, y, 'name', true)!
  const endpointName = str(ctx, y, 'endpoint_name', true)!
  const type = str(ctx, y, 'type')
  if (type && type.toLowerCase() !== 'model') fail(ctx, 'type', `only model batch deployments are applied, got '${type}'`)
  // modelBatchDeployment nests the run settings under `settings:`; the older batchDeployment has them at the top.
  const s = obj(ctx, y, 'settings') ?? y
  const at = (k: string) => (s === y ? k : `settings.${k}`)
  const retry = obj(ctx, s, 'retry_settings')
  const retryTimeout = retry ? int(ctx, retry, 'timeout', at('retry_settings.timeout')) : undefined
  const resources = obj(ctx, y, 'resources')
  const model = modelRef(ctx, y)
  const compute = str(ctx, y, 'compute', true)!
  const body = prune({
    tags: stringMap(ctx, y, 'tags'),
    properties: prune({
      description: str(ctx, y, 'description'),
      model: model === undefined ? undefined : {referenceType: 'Id', assetId: model},
      compute: assetId(ctx, 'compute', compute, 'computes'),
      environmentId: environmentId(ctx, y),
      codeConfiguration: codeConfiguration(ctx, y),
      resources: resources ? prune({instanceCount: int(ctx, resources, 'instance_count', 'resources.instance_count', 1)}) : undefined,
      miniBatchSize: int(ctx, s, 'mini_batch_size', at('mini_batch_size'), 1),
      maxConcurrencyPerInstance: int(ctx, s, 'max_concurrency_per_instance', at('max_concurrency_per_instance'), 1),
      errorThreshold: int(ctx, s, 'error_threshold', at('error_threshold'), -1),
      outputAction: enumValue(ctx, at('output_action'), str(ctx, s, 'output_action'), {append_row: 'AppendRow', summary_only: 'SummaryOnly'}),
      outputFileName: str(ctx, s, 'output_file_name'),
      loggingLevel: enumValue(ctx, at('logging_level'), str(ctx, s, 'logging_level'), {info: 'Info', warning: 'Warning', debug: 'Debug'}),
      retrySettings: retry
        ? prune({
            maxRetries: int(ctx, retry, 'max_retries', at('retry_settings.max_retries')),
            timeout: retryTimeout === undefined ? undefined : msToIsoDuration(retryTimeout * 1000),
          })
        : undefined,
      environmentVariables: stringMap(ctx, s, 'environment_variables') ?? (s !== y ? stringMap(ctx, y, 'environment_variables') : undefined),
      properties: stringMap(ctx, y, 'properties'),
    }),
  })
  return {name, endpointName, body}
}

const MODEL_TYPE = {custom_model: 'CustomModel', mlflow_model: 'MLFlowModel', triton_model: 'TritonModel'}

/** model YAML (or a package's spec.yaml) -> ModelVersion REST body, without modelUri. */
export function modelVersionBody(
  ctx: YamlContext,
  y: JsonObject,
  defaults: {type?: string; description?: string} = {},
): {name: string; version: string; body: JsonObject; notes: string[]} {
  const name = str(ctx, y, 'name', true)!
  const version = str(ctx, y, 'version')
  if (!version) fail(ctx, 'version', 'is required: apply publishes explicit versions so that applying twice changes nothing')
  const nameProblem = azureModelNameProblem(name)
  if (nameProblem) fail(ctx, 'name', nameProblem)
  const notes: string[] = []
  for (const k of ['system_metadata', 'stage', 'intellectual_property']) {
    if (y[k] !== undefined) notes.push(`${k} is not sent (no such field in the model version REST API used)`)
  }
  const flavorsIn = obj(ctx, y, 'flavors')
  let flavors: JsonObject | undefined
  if (flavorsIn) {
    flavors = {}
    for (const [k, v] of Object.entries(flavorsIn)) flavors[k] = {data: isObject(v) ? stringMap(ctx, flavorsIn, k) : {}}
  }
  const body = {
    properties: prune({
      description: str(ctx, y, 'description') ?? defaults.description,
      tags: stringMap(ctx, y, 'tags') ?? {},
      properties: stringMap(ctx, y, 'properties') ?? {},
      modelType: enumValue(ctx, 'type', str(ctx, y, 'type') ?? defaults.type ?? 'custom_model', MODEL_TYPE),
      flavors,
      isAnonymous: false,
    }),
  }
  return {name, version, body, notes}
}

const INPUT_MODE = {
  ro_mount: 'ReadOnlyMount',
  rw_mount: 'ReadWriteMount',
  download: 'Download',
  direct: 'Direct',
  upload: 'Upload',
  eval_mount: 'EvalMount',
  eval_download: 'EvalDownload',
}
const ASSET_TYPES = ['uri_file', 'uri_folder', 'mltable', 'mlflow_model', 'custom_model', 'triton_model']
const LITERAL_TYPES = ['string', 'integer', 'number', 'boolean']

function literal(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function pipelineInput(ctx: YamlContext, field: string, v: unknown, nodeLevel: boolean): JsonObject {
  const typeKey = nodeLevel ? 'job_input_type' : 'jobInputType'
  if (!isObject(v)) return {[typeKey]: 'literal', value: literal(v)}
  const type = str(ctx, v, 'type')
  if (!type) fail(ctx, `${field}.type`, 'is required for an input given as a mapping')
  if (LITERAL_TYPES.includes(type)) {
    const value = v.value ?? v.default
    if (value === undefined) fail(ctx, field, `a ${type} input needs a value`)
    return {[typeKey]: 'literal', value: literal(value)}
  }
  if (!ASSET_TYPES.includes(type)) fail(ctx, `${field}.type`, `must be one of ${[...ASSET_TYPES, ...LITERAL_TYPES].join(', ')}, got '${type}'`)
  const path = str(ctx, v, 'path', true)!
  const uri = path.startsWith('${{') ? path : assetId(ctx, `${field}.path`, path, 'data')
  return prune({[typeKey]: type, uri, mode: enumValue(ctx, `${field}.mode`, str(ctx, v, 'mode'), INPUT_MODE)})
}

function pipelineOutput(ctx: YamlContext, field: string, v: unknown, nodeLevel: boolean): JsonObject {
  if (!isObject(v)) return {type: 'literal', value: literal(v)}
  const type = str(ctx, v, 'type') ?? 'uri_folder'
  if (!ASSET_TYPES.includes(type)) fail(ctx, `${field}.type`, `must be one of ${ASSET_TYPES.join(', ')}, got '${type}'`)
  const path = str(ctx, v, 'path')
  return prune({
    [nodeLevel ? 'job_output_type' : 'jobOutputType']: type,
    uri: path,
    mode: enumValue(ctx, `${field}.mode`, str(ctx, v, 'mode'), INPUT_MODE),
  })
}

function mapEntries(ctx: YamlContext, y: JsonObject, key: string): Array<[string, unknown]> {
  const m = obj(ctx, y, key)
  return m ? Object.entries(m) : []
}

/**
 * pipelineJob YAML -> Job REST body, sent raw because the 2.1.1 serializer drops `uri` and `mode` of asset inputs.
 * Step nodes follow azure-ai-ml's REST form: `componentId`, snake_case `job_input_type`, literal values as strings.
 */
export function pipelineJobBody(ctx: YamlContext, y: JsonObject, fileStem: string): {name: string; body: JsonObject; notes: string[]; contentNamed: boolean} {
  const type = str(ctx, y, 'type') ?? 'pipeline'
  if (type !== 'pipeline') fail(ctx, 'type', `must be 'pipeline', got '${type}'`)
  const notes: string[] = []
  const inputs: JsonObject = {}
  for (const [k, v] of mapEntries(ctx, y, 'inputs')) inputs[k] = pipelineInput(ctx, `inputs.${k}`, v, false)
  const outputs: JsonObject = {}
  for (const [k, v] of mapEntries(ctx, y, 'outputs')) outputs[k] = pipelineOutput(ctx, `outputs.${k}`, v, false)
  const jobs: JsonObject = {}
  for (const [step, node] of mapEntries(ctx, y, 'jobs')) {
    if (!isObject(node)) fail(ctx, `jobs.${step}`, 'must be a mapping')
    const f = `jobs.${step}`
    const component = node.component
    if (typeof component !== 'string') fail(ctx, `${f}.component`, 'must name a registered component (azureml://registries/... or azureml:<name>:<version>)')
    const componentId = component.startsWith('azureml://') ? component : assetId(ctx, `${f}.component`, component, 'components')
    const nodeInputs: JsonObject = {}
    for (const [k, v] of mapEntries(ctx, node, 'inputs')) nodeInputs[k] = pipelineInput(ctx, `${f}.inputs.${k}`, v, true)
    const nodeOutputs: JsonObject = {}
    for (const [k, v] of mapEntries(ctx, node, 'outputs')) nodeOutputs[k] = pipelineOutput(ctx, `${f}.outputs.${k}`, v, true)
    const compute = str(ctx, node, 'compute')
    jobs[step] = prune({
      name: step,
      type: str(ctx, node, 'type') ?? 'command',
      _source: component.startsWith('azureml://registries/') ? 'REMOTE.REGISTRY' : 'REMOTE.WORKSPACE_COMPONENT',
      componentId,
      computeId: compute === undefined ? undefined : assetId(ctx, `${f}.compute`, compute, 'computes'),
      inputs: nodeInputs,
      outputs: nodeOutputs,
    })
  }
  const settingsIn = obj(ctx, y, 'settings')
  const settings: JsonObject = {}
  for (const [k, v] of Object.entries(settingsIn ?? {})) {
    settings[k] = k === 'default_compute' && typeof v === 'string' ? assetId(ctx, 'settings.default_compute', v, 'computes') : v
  }
  const properties = prune({
    jobType: 'Pipeline',
    displayName: str(ctx, y, 'display_name'),
    experimentName: str(ctx, y, 'experiment_name') ?? 'Default',
    description: str(ctx, y, 'description'),
    tags: stringMap(ctx, y, 'tags'),
    properties: stringMap(ctx, y, 'properties'),
    computeId: y.compute === undefined ? undefined : assetId(ctx, 'compute', str(ctx, y, 'compute')!, 'computes'),
    settings,
    inputs,
    outputs,
    jobs,
  })
  const body = {properties}
  let name = str(ctx, y, 'name')
  const contentNamed = !name
  if (!name) {
    // A job has no natural key: name it after its content so that applying the same file twice finds the job it
    // submitted the first time instead of submitting another.
    const base = (str(ctx, y, 'display_name') ?? fileStem).toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'pipeline'
    name = `${base}-${createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 10)}`
    notes.push(`no name in the YAML: named '${name}' after its content`)
  }
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) fail(ctx, 'name', `'${name}' is not a valid job name (letters, digits, _ and -)`)
  return {name, body, notes, contentNamed}
}

/** JSON with keys sorted at every level: equal objects give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']'
  if (isObject(v)) {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson(v[k])).join(',') + '}'
  }
  return JSON.stringify(v) ?? 'null'
}
