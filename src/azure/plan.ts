import {InvalidInputError, RemoteError} from '../core/errors.js'
import {redactSecrets} from '../core/redact.js'
import {MANIFEST_FILE} from '../package/manifest.js'
import type {ArmClient} from './client.js'
import {SDK_API_VERSION} from './client.js'
import {diffResource, shownChange} from './diff.js'
import {isObject} from './rest-bodies.js'
import {workspacePath} from './target.js'
import type {DesiredResource, FieldChange, JsonObject, PlannedResource} from './types.js'
import {KIND_LABEL} from './types.js'
import {verifyFiles} from './upload.js'

/** A planned resource with what apply needs: the desired resource and Azure's current copy. */
export interface PlanEntry {
  desired: DesiredResource
  current?: JsonObject
  planned: PlannedResource
}

const BUSY = new Set(['creating', 'updating', 'deleting', 'provisioning', 'scaling'])

function provisioningState(r: JsonObject | undefined): string | undefined {
  const p = r && isObject(r.properties) ? r.properties.provisioningState : undefined
  return typeof p === 'string' ? p : undefined
}

function isFailed(r: JsonObject | undefined): boolean {
  return provisioningState(r)?.toLowerCase() === 'failed'
}

/** A resource Azure holds in provisioningState Failed is sent again, even when its body matches the files. */
function repair(planned: PlannedResource, current: JsonObject | undefined): void {
  planned.action = 'repair'
  const props = current && isObject(current.properties) ? current.properties : {}
  const why = typeof props.provisioningError === 'string' ? `: ${props.provisioningError}` : ''
  planned.notes.push(`Azure reports provisioningState Failed${why}; it is sent again`)
}

/** Reads the current state of every desired resource and decides create / update / no change / refused. */
export async function buildPlan(client: ArmClient, desired: DesiredResource[]): Promise<PlanEntry[]> {
  let location: string | undefined
  if (desired.some((d) => d.needsLocation)) {
    const ws = await client.getOptional(workspacePath(client.target), SDK_API_VERSION, `workspace ${client.target.workspace}`)
    if (!ws) throw new RemoteError(`workspace ${client.target.workspace} not found in resource group ${client.target.resourceGroup}`, {status: 404})
    if (typeof ws.location !== 'string') throw new RemoteError(`workspace ${client.target.workspace}: ARM returned no location`)
    location = ws.location
  }
  const cache = new Map<string, Promise<JsonObject | undefined>>()
  const get = (path: string, apiVersion: string, what: string) => {
    const key = path.toLowerCase()
    let p = cache.get(key)
    if (!p) {
      p = client.getOptional(path, apiVersion, what)
      cache.set(key, p)
    }
    return p
  }
  const inFiles = (path: string) => desired.some((d) => d.path.toLowerCase() === path.toLowerCase() && !d.routesTo)
  const entries: PlanEntry[] = []
  for (const d of desired) {
    if (d.needsLocation) d.body.location = location
    const label = `${KIND_LABEL[d.kind]} ${d.name}`
    const current = await get(d.path, d.apiVersion, label)
    const planned: PlannedResource = {kind: d.kind, name: d.name, file: d.file, id: d.path, action: 'create', changes: [], notes: [...d.notes]}
    const refuse = (changes: FieldChange[], reason: string) => Object.assign(planned, {action: 'refused', changes, reason})
    switch (d.kind) {
      case 'registry-model-version':
      case 'workspace-model-version': {
        const failed = isFailed(current)
        if (!current || failed) {
          if (d.upload) await verifyFiles(d.upload.root, d.upload.files, d.upload.verified ? `${d.file}/${MANIFEST_FILE}` : d.file)
          if (failed) repair(planned, current)
          break
        }
        const changes = diffResource(d.body, current, d.upload ? ['properties.modelUri', 'properties.isAnonymous'] : ['properties.isAnonymous'])
        if (changes.length) {
          refuse(changes, `model version ${d.name} already exists and a published version cannot be changed: bump the version`)
        } else planned.action = 'no-change'
        break
      }
      case 'online-endpoint':
      case 'batch-endpoint':
      case 'online-deployment':
      case 'batch-deployment': {
        if (d.endpointName && d.deploymentName) {
          const epPath = d.path.slice(0, d.path.lastIndexOf('/deployments/'))
          const ep = inFiles(epPath) ? undefined : await get(epPath, SDK_API_VERSION, `endpoint ${d.endpointName}`)
          if (!inFiles(epPath) && !ep) {
            refuse([], `endpoint ${d.endpointName} does not exist in Azure and no file given defines it`)
            break
          }
          if (ep && isFailed(ep)) {
            refuse([], `endpoint ${d.endpointName} is in provisioningState Failed in Azure: a deployment sent to it would fail too; apply the endpoint's YAML with this deployment (it is then repaired first), or fix it in Azure`)
            break
          }
        }
        if (!current) break
        if (isFailed(current)) {
          repair(planned, current)
          planned.changes = diffResource(d.body, current, ['location'])
          break
        }
        const changes = diffResource(d.body, current, ['location'])
        planned.action = changes.length ? 'update' : 'no-change'
        planned.changes = changes
        const state = provisioningState(current)
        if (state && BUSY.has(state.toLowerCase())) planned.notes.push(`Azure reports provisioningState ${state}: an operation is still running`)
        break
      }
      case 'online-endpoint-traffic':
      case 'batch-endpoint-default': {
        const missing: string[] = []
        for (const dep of d.routesTo ?? []) {
          const depPath = `${d.path}/deployments/${encodeURIComponent(dep)}`
          if (!inFiles(depPath) && !(await get(depPath, SDK_API_VERSION, `deployment ${d.endpointName}/${dep}`))) missing.push(dep)
        }
        if (missing.length) {
          refuse([], `${d.kind === 'online-endpoint-traffic' ? 'traffic' : 'defaults.deployment_name'} names deployment ${missing.join(', ')} of ${d.endpointName}, which is neither in Azure nor in the files`)
          break
        }
        const changes = diffResource(d.body, current)
        planned.action = changes.length ? (current ? 'update' : 'create') : 'no-change'
        planned.changes = changes
        break
      }
      case 'pipeline-job': {
        if (!current) break
        // Azure rewrites step nodes (a labels/latest component becomes a version id), so `jobs` is not compared; a
        // content-named job that exists is this very job.
        const props = d.body.properties as JsonObject
        const comparable = {properties: {displayName: props.displayName, experimentName: props.experimentName, inputs: props.inputs}}
        const changes = d.contentNamed ? [] : diffResource(comparable, current)
        if (changes.length) {
          refuse(changes, `job ${d.name} already exists and a submitted job cannot be changed: give it a new name (or drop name: so apply names it after its content)`)
        } else {
          planned.action = 'no-change'
          const status = isObject(current.properties) ? current.properties.status : undefined
          if (typeof status === 'string') planned.notes.push(`already submitted (status ${status})`)
        }
        break
      }
    }
    // What is shown (text and --json) never holds a secret: env vars and secret-named fields by key only.
    planned.changes = planned.changes.map(shownChange)
    if (planned.reason) planned.reason = redactSecrets(planned.reason)
    planned.notes = planned.notes.map(redactSecrets)
    entries.push({desired: d, current, planned})
  }
  return entries
}

/** Counts per action, for the summary line and the --json result. */
export function summarize(entries: PlanEntry[]): {create: number; update: number; repair: number; noChange: number; refused: number} {
  const n = {create: 0, update: 0, repair: 0, noChange: 0, refused: 0}
  for (const e of entries) {
    if (e.planned.action === 'create') n.create++
    else if (e.planned.action === 'update') n.update++
    else if (e.planned.action === 'repair') n.repair++
    else if (e.planned.action === 'refused') n.refused++
    else n.noChange++
  }
  return n
}

/** Throws when the plan holds a refusal; apply then changes nothing. */
export function assertApplicable(entries: PlanEntry[]): void {
  const refused = entries.filter((e) => e.planned.action === 'refused')
  if (refused.length) {
    throw new InvalidInputError(refused.map((e) => `${KIND_LABEL[e.planned.kind]} ${e.planned.name}: ${e.planned.reason}`).join('\n'))
  }
}
