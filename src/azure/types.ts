import type {ManifestEntry} from '../package/manifest.js'

/** What `apply` can create, one kind per Azure ML resource it writes. */
export type ResourceKind =
  | 'registry-model-version'
  | 'workspace-model-version'
  | 'online-endpoint'
  | 'online-deployment'
  | 'online-endpoint-traffic'
  | 'batch-endpoint'
  | 'batch-deployment'
  | 'batch-endpoint-default'
  | 'pipeline-job'

export const KIND_LABEL: Record<ResourceKind, string> = {
  'registry-model-version': 'registry model version',
  'workspace-model-version': 'workspace model version',
  'online-endpoint': 'online endpoint',
  'online-deployment': 'online deployment',
  'online-endpoint-traffic': 'online endpoint traffic',
  'batch-endpoint': 'batch endpoint',
  'batch-deployment': 'batch deployment',
  'batch-endpoint-default': 'batch endpoint default',
  'pipeline-job': 'pipeline job',
}


export type JsonObject = Record<string, unknown>

/** One resource as the input files want it, already in REST shape. */
export interface DesiredResource {
  kind: ResourceKind
  /** Human name: `vit:18`, `vit-ep`, `vit-ep/blue`, the job name. */
  name: string
  /** The input file or folder it came from. */
  file: string
  /** ARM path without endpoint or query. */
  path: string
  apiVersion: string
  /** The REST body to PUT (location is filled in at plan time for tracked resources). */
  body: JsonObject
  /** Fields of the input that are not sent, each with why. */
  notes: string[]
  /** Package / local model files to upload before the PUT (registry model versions). */
  upload?: {root: string; files: ManifestEntry[]; modelSubdir: string; verified: boolean}
  endpointName?: string
  deploymentName?: string
  /** Tracked resources (endpoints, deployments) need the workspace's location. */
  needsLocation?: boolean
  /** A job named after the hash of its body: if a job of that name exists, it is this one. */
  contentNamed?: boolean
  /** For routing steps: the deployments the routing names. */
  routesTo?: string[]
}

/** `repair`: the resource exists in provisioningState Failed; it is sent again whether or not its body differs. */
export type PlanAction = 'create' | 'update' | 'repair' | 'no-change' | 'refused'

export interface FieldChange {
  /** Dotted path in the REST body, e.g. `properties.instanceType`. */
  path: string
  from?: unknown
  to?: unknown
  /** The values are secret (an environment variable, a secret-named field): only the path and that it changed. */
  hidden?: true
}

export interface PlannedResource {
  kind: ResourceKind
  name: string
  file: string
  id: string
  action: PlanAction
  changes: FieldChange[]
  /** Why a change is refused, or a note on the action. */
  reason?: string
  notes: string[]
}

/** What happened to one resource during apply. */
export interface AppliedResource {
  kind: ResourceKind
  name: string
  /** `created`, `updated`, `unchanged`, `submitted` (a job), `running` (not waited for), `succeeded`, `failed`. */
  outcome: 'created' | 'updated' | 'unchanged' | 'submitted' | 'running' | 'succeeded' | 'failed' | 'skipped'
  /** Last provisioning state or job status seen. */
  status?: string
  /** Poll URL of an operation still running in Azure. */
  operation?: string
  error?: string
}

export interface StillRunning {
  kind: ResourceKind
  name: string
  status?: string
  operation?: string
}
