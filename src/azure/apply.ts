import {randomUUID} from 'node:crypto'

import type {BatchDeployment, BatchEndpoint, ModelVersion, OnlineDeployment, OnlineEndpoint} from '@azure/arm-machinelearning'

import {RemoteError} from '../core/errors.js'
import type {Progress} from '../core/progress.js'
import {azureErrorOf, toRemoteError, type ArmClient} from './client.js'
import type {PlanEntry} from './plan.js'
import {isObject} from './rest-bodies.js'
import {retryAfterMs, sleep} from './retry.js'
import {KIND_LABEL, type AppliedResource, type JsonObject, type StillRunning} from './types.js'
import {checkSasUri, uploadFiles} from './upload.js'

/** The parts of an SDK raw response that status lines read. */
interface RawSdkResponse {
  headers: {toJSON(): Record<string, string>}
  parsedBody?: unknown
  bodyAsText?: string | null
}

export interface ApplyOptions {
  /** Follow every operation and job to a terminal state. */
  wait: boolean
  /** Between polls when Azure gives no Retry-After (ms). */
  pollIntervalMs: number
  /** Longest wait between polls, whatever Retry-After says (ms). */
  maxPollIntervalMs?: number
  signal?: AbortSignal
  /** Status lines for humans. */
  log: (line: string) => void
  progress: Progress
  blockSize?: number
  concurrency?: number
  /** Bound on one attempt of one blob call (default 2 min). */
  requestTimeoutMs?: number
}

export interface ApplyOutcome {
  applied: AppliedResource[]
  stillRunning: StillRunning[]
  interrupted: boolean
  uploaded: {files: number; bytes: number; requests: number}
  /** Resources whose operation or job ended Failed/Canceled. */
  failed: number
}

/** Thrown inside apply when the user pressed Ctrl-C; caught at the top and reported as "still running". */
class Interrupted extends Error {}

/**
 * Job statuses that end a job, per the REST spec (JobStatus, 2024-04-01). NotResponding ("heartbeats lost"; the job
 * can come back to any state) and Paused (a user paused it) are not: they are shown and waited on.
 */
const JOB_TERMINAL = new Set(['completed', 'failed', 'canceled'])
/** What a status line adds for the statuses that look final but are not. */
const JOB_STATUS_NOTE: Record<string, string> = {
  notresponding: 'Azure lost contact with the job; it may still recover, so waiting on',
  paused: 'paused by a user; resume it in the studio or with az ml job, waiting on',
}
const LRO_TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'cancelled'])

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return Boolean(signal?.aborted) || (err as {name?: string})?.name === 'AbortError'
}

/** Prints a status line when the status changes, and at most every 30 s while it stays the same. */
function statusReporter(log: (l: string) => void, label: string): (status: string | undefined) => void {
  const started = Date.now()
  let last: string | undefined
  let lastAt = 0
  return (status) => {
    if (!status) return
    const now = Date.now()
    if (status === last && now - lastAt < 30_000) return
    last = status
    lastAt = now
    log(`${label}: ${status} (${Math.round((now - started) / 1000)}s)`)
  }
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name)
  return key ? headers[key] : undefined
}

/** Status from an operation-status body (`status`) or a resource (`properties.provisioningState`). */
function statusOf(json: unknown): string | undefined {
  if (!isObject(json)) return undefined
  if (typeof json.status === 'string') return json.status
  const p = json.properties
  if (isObject(p) && typeof p.provisioningState === 'string') return p.provisioningState
  if (isObject(p) && typeof p.status === 'string') return p.status
  return undefined
}

/**
 * Applies a plan in order. Endpoints are waited for when a deployment of this apply needs them, deployments when
 * the traffic step names them; everything else only with `wait`. Ctrl-C (the signal) stops waiting and lists what
 * is still running in Azure.
 */
export async function applyPlan(client: ArmClient, entries: PlanEntry[], opts: ApplyOptions): Promise<ApplyOutcome> {
  const out: ApplyOutcome = {applied: [], stillRunning: [], interrupted: false, uploaded: {files: 0, bytes: 0, requests: 0}, failed: 0}
  /** Operations started and not yet followed to the end: finished at the end (wait) or reported as running. */
  const pending = new Map<string, {entry: PlanEntry; finish: () => Promise<string | undefined>; operation?: string; status?: () => string | undefined}>()
  const t = client.target
  const ws = t.workspace ?? ''
  const rg = t.resourceGroup

  const needsWait = (e: PlanEntry): boolean => {
    if (opts.wait) return true
    const later = entries.slice(entries.indexOf(e) + 1).filter((x) => x.planned.action !== 'no-change')
    const d = e.desired
    if (d.kind === 'online-endpoint' || d.kind === 'batch-endpoint') return later.some((x) => x.desired.endpointName === d.endpointName)
    if (d.kind === 'online-deployment' || d.kind === 'batch-deployment') {
      const name = (d.deploymentName ?? '').toLowerCase()
      return later.some((x) => x.desired.routesTo?.some((r) => r.toLowerCase() === name) && x.desired.endpointName === d.endpointName)
    }
    return false
  }

  /** Runs an SDK long-running PUT; returns its final status when waited for. */
  const sdkLro = async (
    e: PlanEntry,
    begin: (options: {updateIntervalInMs: number; abortSignal?: AbortSignal; onResponse: (r: RawSdkResponse) => void}) => Promise<{pollUntilDone(o?: {abortSignal?: AbortSignal}): Promise<unknown>; isDone(): boolean}>,
  ) => {
    const label = `${KIND_LABEL[e.desired.kind]} ${e.desired.name}`
    const report = statusReporter(opts.log, label)
    let lastStatus: string | undefined
    let lastError: {code?: string; message?: string} = {}
    let operation: string | undefined
    const onResponse = (r: RawSdkResponse) => {
      const h = r.headers.toJSON()
      operation ??= header(h, 'azure-asyncoperation') ?? header(h, 'operation-location') ?? header(h, 'location')
      const s = statusOf(r.parsedBody ?? safeJson(r.bodyAsText ?? undefined))
      if (s) {
        lastStatus = s
        report(s)
      }
      const err = azureErrorOf(r.parsedBody ?? safeJson(r.bodyAsText ?? undefined))
      if (err.code || err.message) lastError = err
    }
    /** The SDK's own failure text is generic; Azure's code and message from the last poll body say more. */
    const failure = (error: unknown): Error => {
      // A refused request (409, 400, ...) carries its HTTP status; a failed operation does not.
      if ((error as {statusCode?: number}).statusCode) return toRemoteError(error, label)
      if (lastError.code || lastError.message) {
        return new RemoteError(`${label}: ${lastStatus ?? 'Failed'}: ${lastError.code ? lastError.code + ': ' : ''}${lastError.message ?? ''}`, {code: lastError.code})
      }
      return toRemoteError(error, label)
    }
    let poller
    try {
      poller = await begin({updateIntervalInMs: opts.pollIntervalMs, abortSignal: opts.signal, onResponse})
    } catch (error) {
      if (isAbort(error, opts.signal)) {
        // Interrupted during the first poll: the PUT was accepted, so the operation runs on in Azure.
        if (operation) out.stillRunning.push({kind: e.desired.kind, name: e.desired.name, status: lastStatus ?? 'Running', operation})
        throw new Interrupted()
      }
      throw failure(error)
    }
    const finish = async () => {
      try {
        await poller.pollUntilDone({abortSignal: opts.signal})
      } catch (error) {
        if (isAbort(error, opts.signal)) throw new Interrupted()
        throw failure(error)
      }
      return lastStatus
    }
    pending.set(e.desired.path + e.desired.kind, {entry: e, finish, operation, status: () => lastStatus})
    if (needsWait(e)) return settle(e)
    return undefined
  }

  /** Waits for a pending operation; an interrupted wait leaves it listed as still running. */
  const finishPending = async (key: string, finish: () => Promise<string | undefined>) => {
    try {
      const status = await finish()
      pending.delete(key)
      return status
    } catch (error) {
      if (!(error instanceof Interrupted)) pending.delete(key)
      throw error
    }
  }

  const settle = async (e: PlanEntry): Promise<string | undefined> => {
    const p = pending.get(e.desired.path + e.desired.kind)
    if (!p) return undefined
    return finishPending(e.desired.path + e.desired.kind, p.finish)
  }

  const record = (e: PlanEntry, outcome: AppliedResource['outcome'], status?: string) => {
    out.applied.push({kind: e.desired.kind, name: e.desired.name, outcome, status})
  }

  try {
    for (const e of entries) {
      const d = e.desired
      const verb = e.planned.action === 'create' ? 'created' : 'updated'
      if (e.planned.action === 'no-change') {
        record(e, 'unchanged')
        continue
      }
      const [endpointName, deploymentName] = [d.endpointName ?? '', d.deploymentName ?? '']
      switch (d.kind) {
        case 'registry-model-version': {
          await applyRegistryModelVersion(client, e, opts, out)
          record(e, 'created', 'Succeeded')
          break
        }
        case 'workspace-model-version': {
          const i = d.name.lastIndexOf(':')
          try {
            await client.sdk.modelVersions.createOrUpdate(rg, ws, d.name.slice(0, i), d.name.slice(i + 1), d.body as unknown as ModelVersion, {abortSignal: opts.signal})
          } catch (error) {
            if (isAbort(error, opts.signal)) throw new Interrupted()
            throw toRemoteError(error, `${KIND_LABEL[d.kind]} ${d.name}`)
          }
          opts.log(`${KIND_LABEL[d.kind]} ${d.name}: created`)
          record(e, 'created')
          break
        }
        case 'online-endpoint':
        case 'online-endpoint-traffic': {
          const body = endpointBody(entries, e)
          const status = await sdkLro(e, (o) => client.sdk.onlineEndpoints.beginCreateOrUpdate(rg, ws, endpointName, body as unknown as OnlineEndpoint, o))
          record(e, status ? verb : 'running', status)
          break
        }
        case 'batch-endpoint':
        case 'batch-endpoint-default': {
          const body = endpointBody(entries, e)
          const status = await sdkLro(e, (o) => client.sdk.batchEndpoints.beginCreateOrUpdate(rg, ws, endpointName, body as unknown as BatchEndpoint, o))
          record(e, status ? verb : 'running', status)
          break
        }
        case 'online-deployment': {
          await waitForBusyEndpoint(client, entries, e, opts)
          const status = await sdkLro(e, (o) =>
            client.sdk.onlineDeployments.beginCreateOrUpdate(rg, ws, endpointName, deploymentName, d.body as unknown as OnlineDeployment, o),
          )
          record(e, status ? verb : 'running', status)
          break
        }
        case 'batch-deployment': {
          await waitForBusyEndpoint(client, entries, e, opts)
          const status = await sdkLro(e, (o) =>
            client.sdk.batchDeployments.beginCreateOrUpdate(rg, ws, endpointName, deploymentName, d.body as unknown as BatchDeployment, o),
          )
          record(e, status ? verb : 'running', status)
          break
        }
        case 'pipeline-job': {
          const r = await client.request('PUT', d.path, {body: d.body, apiVersion: d.apiVersion, what: `pipeline job ${d.name}`})
          const status = statusOf(r.json) ?? 'NotStarted'
          const studio = studioUrl(r.json)
          opts.log(`pipeline job ${d.name}: submitted (${status})${studio ? ` ${studio}` : ''}`)
          if (opts.wait) {
            const final = await followJob(client, e, opts)
            record(e, final.toLowerCase() === 'completed' ? 'succeeded' : 'failed', final)
            if (final.toLowerCase() !== 'completed') out.failed++
          } else {
            record(e, 'submitted', status)
            out.stillRunning.push({kind: d.kind, name: d.name, status})
          }
          break
        }
      }
    }
    // Operations not needed by a later step: follow them with --wait, else report them as still running.
    for (const [key, p] of [...pending]) {
      if (opts.wait) {
        const status = await finishPending(key, p.finish)
        const rec = out.applied.find((a) => a.kind === p.entry.desired.kind && a.name === p.entry.desired.name)
        if (rec) Object.assign(rec, {outcome: p.entry.planned.action === 'create' ? 'created' : 'updated', status})
      }
    }
  } catch (error) {
    if (!(error instanceof Interrupted) && !isAbort(error, opts.signal)) {
      // Keep what was done so far with the error: the command reports it (and what is still running) before exiting.
      if (error && typeof error === 'object') Object.assign(error, {outcome: out})
      throw error
    }
    out.interrupted = true
    const running = (error as {running?: StillRunning}).running
    if (running) out.stillRunning.push(running)
  } finally {
    for (const p of pending.values()) {
      out.stillRunning.push({kind: p.entry.desired.kind, name: p.entry.desired.name, status: p.status?.() ?? 'Running', operation: p.operation})
    }
  }
  return out
}

function safeJson(text: string | undefined): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function studioUrl(json: unknown): string | undefined {
  const services = isObject(json) && isObject(json.properties) && isObject(json.properties.services) ? json.properties.services : undefined
  const studio = services && isObject(services.Studio) ? services.Studio.endpoint : undefined
  return typeof studio === 'string' ? studio : undefined
}

/**
 * The endpoint body to PUT. An endpoint PUT replaces the whole resource, so it carries the traffic (or batch default)
 * Azure has now; the routing step later PUTs the same body with the routing the files ask for, once the
 * deployments it names exist.
 */
function endpointBody(entries: PlanEntry[], e: PlanEntry): JsonObject {
  const d = e.desired
  const base = entries.find((x) => x.desired.path === d.path && (x.desired.kind === 'online-endpoint' || x.desired.kind === 'batch-endpoint'))
  const body = structuredClone(base?.desired.body ?? e.current ?? {}) as JsonObject
  if (!base && e.current) {
    // Routing only: start from Azure's copy, minus the read-only fields ARM refuses or ignores.
    for (const k of ['id', 'name', 'type', 'systemData']) delete body[k]
  }
  const props = (isObject(body.properties) ? body.properties : (body.properties = {})) as JsonObject
  const cur = e.current && isObject(e.current.properties) ? e.current.properties : {}
  if (d.kind === 'online-endpoint' && isObject(cur.traffic)) props.traffic = cur.traffic
  if (d.kind === 'batch-endpoint' && isObject(cur.defaults)) props.defaults = cur.defaults
  if (d.kind === 'online-endpoint-traffic') props.traffic = (d.body.properties as JsonObject).traffic
  if (d.kind === 'batch-endpoint-default') props.defaults = (d.body.properties as JsonObject).defaults
  return body
}

/**
 * Azure refuses (409) a deployment PUT while its endpoint is still being created or updated by an earlier run.
 * When this apply leaves the endpoint alone but found it busy, wait for it to settle first.
 */
async function waitForBusyEndpoint(client: ArmClient, entries: PlanEntry[], e: PlanEntry, opts: ApplyOptions): Promise<void> {
  const d = e.desired
  const epPath = d.path.slice(0, d.path.lastIndexOf('/deployments/'))
  const ep = entries.find((x) => x.desired.path === epPath && (x.desired.kind === 'online-endpoint' || x.desired.kind === 'batch-endpoint'))
  if (!ep || ep.planned.action !== 'no-change') return
  const state = statusOf(ep.current)
  if (!state || LRO_TERMINAL.has(state.toLowerCase())) return
  const label = `${KIND_LABEL[ep.desired.kind]} ${ep.desired.name}`
  opts.log(`${label}: ${state} by an earlier operation: waiting for it before ${KIND_LABEL[d.kind]} ${d.name}`)
  const report = statusReporter(opts.log, label)
  for (;;) {
    let r
    try {
      r = await client.request('GET', epPath, {apiVersion: ep.desired.apiVersion, what: label})
    } catch (error) {
      if (isAbort(error, opts.signal)) throw new Interrupted()
      throw error
    }
    const s = statusOf(r.json) ?? 'Succeeded'
    report(s)
    if (LRO_TERMINAL.has(s.toLowerCase())) {
      if (s.toLowerCase() !== 'succeeded') throw new RemoteError(`${label}: provisioningState ${s}: fix the endpoint before deploying to it`)
      return
    }
    try {
      await sleep(opts.pollIntervalMs, opts.signal)
    } catch {
      throw new Interrupted()
    }
  }
}

/** Polls a raw long-running PUT (registry model versions) to a terminal state, then returns the resource. */
async function followRawLro(
  client: ArmClient,
  label: string,
  path: string,
  apiVersion: string,
  initial: {status: number; headers: Record<string, string>; json: unknown},
  opts: ApplyOptions,
): Promise<string> {
  const report = statusReporter(opts.log, label)
  const opUrl = header(initial.headers, 'azure-asyncoperation') ?? header(initial.headers, 'operation-location')
  const locUrl = header(initial.headers, 'location')
  const cap = opts.maxPollIntervalMs ?? 60_000
  const wait = (h: Record<string, string>) =>
    sleep(Math.min(retryAfterMs((n) => header(h, n)) ?? opts.pollIntervalMs, cap), opts.signal)
  if (opUrl) {
    let h = initial.headers
    for (;;) {
      await wait(h)
      const r = await client.request('GET', opUrl, {what: `${label} (operation status)`})
      h = r.headers
      const s = statusOf(r.json) ?? 'InProgress'
      report(s)
      if (LRO_TERMINAL.has(s.toLowerCase())) {
        if (s.toLowerCase() !== 'succeeded') {
          const err = azureErrorOf(r.json)
          throw new RemoteError(`${label}: ${s}: ${err.code ? err.code + ': ' : ''}${err.message ?? 'no error message'}`, {code: err.code})
        }
        break
      }
    }
  } else if (locUrl && initial.status === 202) {
    let h = initial.headers
    for (;;) {
      await wait(h)
      const r = await client.request('GET', locUrl, {what: `${label} (operation)`})
      h = r.headers
      if (r.status !== 202) break
      report('InProgress')
    }
  }
  // Finally read the resource itself until its provisioning state is terminal (Body mode when no header came).
  for (;;) {
    const r = await client.request('GET', path, {apiVersion, what: label})
    const s = statusOf(r.json) ?? 'Succeeded'
    report(s)
    if (LRO_TERMINAL.has(s.toLowerCase())) {
      if (s.toLowerCase() !== 'succeeded') throw new RemoteError(`${label}: provisioningState ${s}`)
      return s
    }
    await wait(r.headers)
  }
}

async function applyRegistryModelVersion(client: ArmClient, e: PlanEntry, opts: ApplyOptions, out: ApplyOutcome): Promise<void> {
  const d = e.desired
  const label = `${KIND_LABEL[d.kind]} ${d.name}`
  const body = structuredClone(d.body)
  const props = body.properties as JsonObject
  if (d.upload) {
    const start = await client.request('POST', `${d.path}/startPendingUpload`, {
      apiVersion: d.apiVersion,
      body: {pendingUploadId: randomUUID(), pendingUploadType: 'TemporaryBlobReference'},
      what: `${label} (start pending upload)`,
    })
    const ref = isObject(start.json) && isObject(start.json.blobReferenceForConsumption) ? start.json.blobReferenceForConsumption : undefined
    const blobUri = ref?.blobUri
    const sasUri = ref && isObject(ref.credential) ? ref.credential.sasUri : undefined
    if (typeof blobUri !== 'string' || typeof sasUri !== 'string') {
      throw new RemoteError(`${label}: startPendingUpload returned no blobReferenceForConsumption.blobUri / credential.sasUri`)
    }
    // Checked before a file is read or a byte sent: what ARM returned is Azure's to get right (exit 3), never printed whole.
    checkSasUri(sasUri, `${label}: startPendingUpload's credential.sasUri`)
    if (!URL.canParse(blobUri)) throw new RemoteError(`${label}: startPendingUpload returned a blobUri that is not a URL (${blobUri.length} characters)`)
    opts.log(`${label}: uploading ${d.upload.files.length} files`)
    try {
      const r = await uploadFiles(sasUri, d.upload.root, d.upload.files, {
        progress: opts.progress,
        signal: opts.signal,
        blockSize: opts.blockSize,
        concurrency: opts.concurrency,
        requestTimeoutMs: opts.requestTimeoutMs,
        log: opts.log,
      })
      out.uploaded.files += d.upload.files.length
      out.uploaded.bytes += r.bytes
      out.uploaded.requests += r.requests
    } catch (error) {
      if (isAbort(error, opts.signal)) throw new Interrupted()
      throw error
    }
    props.modelUri = `${blobUri.replace(/\/+$/, '')}/${d.upload.modelSubdir}`
  }
  const put = await client.request('PUT', d.path, {apiVersion: d.apiVersion, body, what: label})
  opts.log(`${label}: ${put.status === 202 ? 'accepted' : 'created'}`)
  try {
    await followRawLro(client, label, d.path, d.apiVersion, put, opts)
  } catch (error) {
    if (isAbort(error, opts.signal)) {
      out.stillRunning.push({kind: d.kind, name: d.name, status: 'Creating', operation: header(put.headers, 'azure-asyncoperation')})
      throw new Interrupted()
    }
    throw error
  }
}

/** Polls a job until it reaches a terminal status, printing each change. */
async function followJob(client: ArmClient, e: PlanEntry, opts: ApplyOptions): Promise<string> {
  const label = `pipeline job ${e.desired.name}`
  const report = statusReporter(opts.log, label)
  for (;;) {
    let r
    try {
      r = await client.request('GET', e.desired.path, {apiVersion: e.desired.apiVersion, what: label})
    } catch (error) {
      if (isAbort(error, opts.signal)) throw jobInterrupted(e, undefined)
      throw error
    }
    const s = statusOf(r.json) ?? 'Unknown'
    const note = JOB_STATUS_NOTE[s.toLowerCase()]
    report(note ? `${s} (${note})` : s)
    if (JOB_TERMINAL.has(s.toLowerCase())) return s
    try {
      await sleep(opts.pollIntervalMs, opts.signal)
    } catch {
      throw jobInterrupted(e, s)
    }
  }
  function jobInterrupted(entry: PlanEntry, status: string | undefined): Interrupted {
    const err = new Interrupted()
    Object.assign(err, {running: {kind: entry.desired.kind, name: entry.desired.name, status: status ?? 'Running'}})
    return err
  }
}
