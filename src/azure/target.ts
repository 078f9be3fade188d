import {UsageError} from '../core/errors.js'

/** Where `apply` sends things: one subscription and resource group, a workspace and/or a registry. */
export interface ApplyTarget {
  /** ARM base URL without a trailing slash, e.g. `https://management.azure.com`. */
  armEndpoint: string
  /** True when armEndpoint is plain http on a loopback address (a local fake server). */
  insecureLoopback: boolean
  subscription: string
  resourceGroup: string
  workspace?: string
  registry?: string
  /** The registry's resource group; the same as `resourceGroup` unless given. */
  registryResourceGroup?: string
  /** The registry's subscription; the same as `subscription` unless given (registries are often shared across them). */
  registrySubscription?: string
}

export interface TargetInputs {
  subscription?: string
  resourceGroup?: string
  workspace?: string
  registry?: string
  registryResourceGroup?: string
  registrySubscription?: string
  armEndpoint?: string
}

export const DEFAULT_ARM_ENDPOINT = 'https://management.azure.com'

/**
 * The environment variables each target flag falls back to, first match wins. AZUREML_* is what the Azure ML
 * samples use; AZURE_ML_* is accepted because both spellings appear in CI scripts.
 */
export const TARGET_ENV: Record<keyof TargetInputs, readonly string[]> = {
  subscription: ['AZURE_SUBSCRIPTION_ID'],
  resourceGroup: ['AZURE_RESOURCE_GROUP'],
  workspace: ['AZUREML_WORKSPACE', 'AZURE_ML_WORKSPACE'],
  registry: ['AZUREML_REGISTRY', 'AZURE_ML_REGISTRY'],
  registryResourceGroup: ['AZUREML_REGISTRY_RESOURCE_GROUP'],
  registrySubscription: ['AZUREML_REGISTRY_SUBSCRIPTION'],
  armEndpoint: ['AZURE_ARM_ENDPOINT'],
}

function fromEnv(env: NodeJS.ProcessEnv, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = env[n]?.trim()
    if (v) return v
  }
  return undefined
}

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts plain http is allowed to. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h === '::1') return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/**
 * Checks an endpoint URL: https anywhere, http only on loopback (a fake server in tests), nothing else. `what`
 * names the flag or source in the error.
 */
export function checkEndpointUrl(raw: string, what: string): {url: URL; insecureLoopback: boolean} {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`${what}: '${raw}' is not a URL`)
  }
  if (url.protocol === 'https:') return {url, insecureLoopback: false}
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return {url, insecureLoopback: true}
    throw new UsageError(`${what}: plain http is allowed only for loopback addresses (127.0.0.1, ::1, localhost), got ${url.host}`, {
      hint: 'use https for any real endpoint: tokens must not travel in clear text',
    })
  }
  throw new UsageError(`${what}: unsupported protocol ${url.protocol} (use https)`)
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._()-]{0,89}$/
const GUID_RE = /^[0-9a-fA-F-]{36}$/
const REGISTRY_ID_RE = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/registries\/([^/]+)\/?$/i

/**
 * --registry as a name, or as the registry's full ARM id (what the portal's "JSON view" and `az ml registry show
 * --query id` give), which also names its subscription and resource group.
 */
export function parseRegistry(value: string): {name: string; subscription?: string; resourceGroup?: string} {
  if (!value.startsWith('/')) return {name: value}
  const m = REGISTRY_ID_RE.exec(value)
  if (!m) {
    throw new UsageError(`--registry: '${value}' is neither a registry name nor a registry ARM id`, {
      hint: '/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.MachineLearningServices/registries/<name>',
    })
  }
  return {subscription: m[1], resourceGroup: m[2], name: m[3]}
}

/** Resolves the target from flags, then the environment; says which flag or variable is missing. */
export function resolveTarget(
  flags: TargetInputs,
  env: NodeJS.ProcessEnv,
  needs: {workspace: boolean; registry: boolean},
): ApplyTarget {
  const pick = (k: keyof TargetInputs) => flags[k]?.trim() || fromEnv(env, TARGET_ENV[k])
  const subscription = pick('subscription')
  const resourceGroup = pick('resourceGroup')
  const workspace = pick('workspace')
  const registryGiven = pick('registry')
  const registryId = registryGiven === undefined ? undefined : parseRegistry(registryGiven)
  const registry = registryId?.name
  const rawEndpoint = pick('armEndpoint') ?? DEFAULT_ARM_ENDPOINT
  const missing: string[] = []
  if (!subscription) missing.push('--subscription (or AZURE_SUBSCRIPTION_ID)')
  if (!resourceGroup) missing.push('--resource-group (or AZURE_RESOURCE_GROUP)')
  if (needs.workspace && !workspace) missing.push('--workspace (or AZUREML_WORKSPACE) for endpoints, deployments and jobs')
  if (needs.registry && !registry && !workspace) missing.push('--registry (or AZUREML_REGISTRY) or --workspace for model versions')
  if (missing.length) throw new UsageError(`missing target: ${missing.join('; ')}`)
  for (const [what, v] of [
    ['--resource-group', resourceGroup],
    ['--workspace', workspace],
    ['--registry', registry],
  ] as const) {
    if (v !== undefined && !NAME_RE.test(v)) throw new UsageError(`${what}: '${v}' is not a valid Azure resource name`)
  }
  if (!GUID_RE.test(subscription!)) {
    throw new UsageError(`--subscription: '${subscription}' is not a subscription id (a GUID)`)
  }
  // The registry's own subscription and group: from its ARM id, else the flags, else the workspace's.
  const agree = (what: string, fromId: string | undefined, fromFlag: string | undefined): string | undefined => {
    if (fromId && fromFlag && fromId.toLowerCase() !== fromFlag.toLowerCase()) {
      throw new UsageError(`${what} '${fromFlag}' disagrees with the registry ARM id given to --registry ('${fromId}')`)
    }
    return fromId ?? fromFlag
  }
  const registrySubscription = agree('--registry-subscription', registryId?.subscription, pick('registrySubscription')) ?? subscription!
  const registryResourceGroup = agree('--registry-resource-group', registryId?.resourceGroup, pick('registryResourceGroup')) ?? resourceGroup!
  if (!GUID_RE.test(registrySubscription)) {
    throw new UsageError(`--registry-subscription: '${registrySubscription}' is not a subscription id (a GUID)`)
  }
  if (!NAME_RE.test(registryResourceGroup)) throw new UsageError(`--registry-resource-group: '${registryResourceGroup}' is not a valid Azure resource name`)
  const {url, insecureLoopback} = checkEndpointUrl(rawEndpoint, '--arm-endpoint')
  return {
    armEndpoint: url.origin + url.pathname.replace(/\/+$/, ''),
    insecureLoopback,
    subscription: subscription!,
    resourceGroup: resourceGroup!,
    workspace,
    registry,
    registryResourceGroup,
    registrySubscription,
  }
}

const PROVIDER = 'providers/Microsoft.MachineLearningServices'

/** ARM path of the workspace (no endpoint, no query). */
export function workspacePath(t: ApplyTarget): string {
  if (!t.workspace) throw new UsageError('this resource needs a workspace: pass --workspace (or AZUREML_WORKSPACE)')
  return `/subscriptions/${t.subscription}/resourceGroups/${t.resourceGroup}/${PROVIDER}/workspaces/${enc(t.workspace)}`
}

/** ARM path of the registry (no endpoint, no query). */
export function registryPath(t: ApplyTarget): string {
  if (!t.registry) throw new UsageError('this resource needs a registry: pass --registry (or AZUREML_REGISTRY)')
  return `/subscriptions/${t.registrySubscription ?? t.subscription}/resourceGroups/${t.registryResourceGroup ?? t.resourceGroup}/${PROVIDER}/registries/${enc(t.registry)}`
}

export function enc(segment: string): string {
  return encodeURIComponent(segment)
}

/** One line naming the target for humans: `sub/rg/workspace ws, registry reg`. */
export function describeTarget(t: ApplyTarget): string {
  const parts = [`subscription ${t.subscription}`, `resource group ${t.resourceGroup}`]
  if (t.workspace) parts.push(`workspace ${t.workspace}`)
  if (t.registry) parts.push(`registry ${t.registry}`)
  if (t.armEndpoint !== DEFAULT_ARM_ENDPOINT) parts.push(`via ${t.armEndpoint}`)
  return parts.join(', ')
}
