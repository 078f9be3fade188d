import {isVitrineError, RemoteError, UsageError} from '../core/errors.js'
import type {Progress} from '../core/progress.js'
import {applyPlan, type ApplyOutcome} from './apply.js'
import {acquireToken, resolveCredential, type AuthMethod} from './auth.js'
import {ArmClient, armScope} from './client.js'
import {buildPlan, summarize, type PlanEntry} from './plan.js'
import {readInputs} from './read-inputs.js'
import {resolveTarget, type ApplyTarget, type TargetInputs} from './target.js'
import {DEFAULT_WAIT_TIMEOUT_MS, formatDuration} from './timeout.js'
import {KIND_LABEL, type AppliedResource, type PlannedResource, type StillRunning} from './types.js'

/** Everything `vitrine apply` is asked to do, already parsed from flags. */
export interface ApplyRequest {
  files: string[]
  planOnly: boolean
  wait: boolean
  /** Each deployment in the files takes all its endpoint's traffic (or becomes the batch default). */
  allTraffic?: boolean
  target: TargetInputs
  auth?: AuthMethod
  env: NodeJS.ProcessEnv
  pollIntervalMs: number
  maxRetries?: number
  blockSize?: number
  concurrency?: number
  /**
   * Bound on the whole command, waiting included (--timeout). Undefined: none for planning and applying beyond the
   * per-request timeout, DEFAULT_WAIT_TIMEOUT_MS with --wait.
   */
  timeoutMs?: number
  /** Bound on one attempt of one request (--request-timeout; default 2 min). */
  requestTimeoutMs?: number
  signal?: AbortSignal
  log: (line: string) => void
  progress: Progress
  /** Called with the plan before anything is changed (the command prints it). */
  onPlan?: (plan: ApplyResult) => void
}

/** The `--json` result of `vitrine apply` (schemas/apply-result.schema.json). */
export interface ApplyResult {
  mode: 'plan' | 'apply'
  target: {armEndpoint: string; subscription: string; resourceGroup: string; workspace?: string; registry?: string}
  /** Which credential was used (a name, never a token). */
  auth: string
  summary: {create: number; update: number; repair: number; noChange: number; refused: number}
  changesPending: boolean
  resources: PlannedResource[]
  applied?: AppliedResource[]
  stillRunning?: StillRunning[]
  interrupted?: boolean
  /** Set when --timeout (or --wait's default bound) ended the command: `stillRunning` lists what runs on in Azure. */
  timedOut?: {afterMs: number; phase: 'plan' | 'apply'}
  uploaded?: {files: number; bytes: number; requests: number}
  /** Set when applying stopped on an error (exit 3 for Azure, 1 for a bad input). */
  error?: {message: string; code?: string; status?: number; exitCode: number}
}

/**
 * How to follow what a timed-out apply left running, one line per resource: the az ml command that shows it, or the
 * operation URL when Azure gave one.
 */
export function followHints(running: StillRunning[], target: Pick<ApplyTarget, 'resourceGroup' | 'workspace' | 'registry'>): string[] {
  const at = `-g ${target.resourceGroup}${target.workspace ? ` -w ${target.workspace}` : ''}`
  return running.map((r) => {
    const [endpoint, deployment] = r.name.split('/')
    const i = r.name.lastIndexOf(':')
    const cmd: Partial<Record<StillRunning['kind'], string>> = {
      'pipeline-job': `az ml job show -n ${r.name} ${at}  (or az ml job stream)`,
      'online-endpoint': `az ml online-endpoint show -n ${endpoint} ${at}`,
      'online-endpoint-traffic': `az ml online-endpoint show -n ${endpoint} ${at}`,
      'online-deployment': `az ml online-deployment show -e ${endpoint} -n ${deployment} ${at}`,
      'batch-endpoint': `az ml batch-endpoint show -n ${endpoint} ${at}`,
      'batch-endpoint-default': `az ml batch-endpoint show -n ${endpoint} ${at}`,
      'batch-deployment': `az ml batch-deployment show -e ${endpoint} -n ${deployment} ${at}`,
      'registry-model-version': `az ml model show -n ${r.name.slice(0, i)} -v ${r.name.slice(i + 1)} --registry-name ${target.registry ?? '<registry>'}`,
      'workspace-model-version': `az ml model show -n ${r.name.slice(0, i)} -v ${r.name.slice(i + 1)} ${at}`,
    }
    return `${KIND_LABEL[r.kind]} ${r.name}: ${cmd[r.kind]}${r.operation ? `; operation status: GET ${r.operation}` : ''}`
  })
}

function timeoutError(afterMs: number, phase: 'plan' | 'apply', running: StillRunning[], target: ApplyTarget): RemoteError {
  const what = phase === 'plan' ? 'while reading what exists in Azure; nothing was changed' : 'before everything finished'
  const follow = followHints(running, target)
  return new RemoteError(`timed out after ${formatDuration(afterMs)} (--timeout) ${what}`, {
    hint: follow.length
      ? `still running in Azure; follow it with:\n  ${follow.join('\n  ')}`
      : 'raise --timeout (a duration such as 90m or 2h) or check the network path to Azure',
  })
}

/** Rejects when `signal` aborts; `promise` alone may not listen to it (a credential shelling out to az). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, {once: true})
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

/** Reads the files, plans against Azure's current state and, unless planOnly, applies. */
export async function runApply(req: ApplyRequest): Promise<ApplyResult> {
  if (req.files.length === 0) throw new UsageError('give at least one FILE: a YAML from `vitrine generate` or a `vitrine package` folder')
  const target = resolveTarget(req.target, req.env, {workspace: false, registry: false})
  const desired = await readInputs(req.files, target, {allTraffic: req.allTraffic})
  const cred = resolveCredential(req.auth, req.env)
  // One signal for the whole command: Ctrl-C (req.signal) or the --timeout deadline, whichever comes first.
  const limitMs = req.timeoutMs ?? (req.wait && !req.planOnly ? DEFAULT_WAIT_TIMEOUT_MS : undefined)
  const controller = new AbortController()
  const onParent = () => controller.abort(req.signal?.reason)
  if (req.signal?.aborted) controller.abort(req.signal.reason)
  req.signal?.addEventListener('abort', onParent, {once: true})
  let timedOut = false
  const timer =
    limitMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true
          controller.abort(new Error(`timed out after ${formatDuration(limitMs)}`))
        }, limitMs)
  try {
    return await plannedAndApplied(req, target, desired, cred, controller.signal, () => (timedOut ? limitMs : undefined))
  } finally {
    clearTimeout(timer)
    req.signal?.removeEventListener('abort', onParent)
  }
}

async function plannedAndApplied(
  req: ApplyRequest,
  target: ApplyTarget,
  desired: Awaited<ReturnType<typeof readInputs>>,
  cred: ReturnType<typeof resolveCredential>,
  signal: AbortSignal,
  timedOutAfter: () => number | undefined,
): Promise<ApplyResult> {
  const client = new ArmClient(target, cred.credential, {
    log: req.log,
    signal,
    retry: req.maxRetries === undefined ? {} : {maxRetries: req.maxRetries},
    requestTimeoutMs: req.requestTimeoutMs,
  })
  let entries: PlanEntry[]
  try {
    await raceAbort(acquireToken(cred, armScope(target)), signal)
    entries = await buildPlan(client, desired)
  } catch (error) {
    const after = timedOutAfter()
    if (after !== undefined) throw timeoutError(after, 'plan', [], target)
    throw error
  }
  const summary = summarize(entries)
  const result: ApplyResult = {
    mode: req.planOnly ? 'plan' : 'apply',
    target: {
      armEndpoint: target.armEndpoint,
      subscription: target.subscription,
      resourceGroup: target.resourceGroup,
      ...(target.workspace ? {workspace: target.workspace} : {}),
      ...(target.registry ? {registry: target.registry} : {}),
    },
    auth: cred.source,
    summary,
    changesPending: summary.create + summary.update + summary.repair > 0,
    resources: entries.map((e) => e.planned),
  }
  req.onPlan?.(result)
  if (req.planOnly || summary.refused > 0) return result
  let outcome: ApplyOutcome
  try {
    outcome = await applyPlan(client, entries, {
      wait: req.wait,
      pollIntervalMs: req.pollIntervalMs,
      signal,
      log: req.log,
      progress: req.progress,
      blockSize: req.blockSize,
      concurrency: req.concurrency,
      requestTimeoutMs: req.requestTimeoutMs,
    })
  } catch (error) {
    if (!isVitrineError(error)) throw error
    const partial = (error as {outcome?: ApplyOutcome}).outcome
    result.applied = partial?.applied ?? []
    result.stillRunning = partial?.stillRunning ?? []
    const e = error as {message: string; code?: string; status?: number; exitCode: number}
    result.error = {message: e.message, code: e.code, status: e.status, exitCode: e.exitCode}
    return result
  }
  result.applied = outcome.applied
  result.stillRunning = outcome.stillRunning
  result.interrupted = outcome.interrupted
  result.uploaded = outcome.uploaded
  result.changesPending = false
  const after = timedOutAfter()
  if (after !== undefined) {
    // The deadline, not Ctrl-C, stopped the waiting: a remote failure to finish in time (exit 3), with how to follow.
    const err = timeoutError(after, 'apply', outcome.stillRunning, target)
    result.interrupted = false
    result.timedOut = {afterMs: after, phase: 'apply'}
    result.error = {message: `${err.message}${err.hint ? `\n${err.hint}` : ''}`, exitCode: err.exitCode}
    return result
  }
  if (outcome.failed > 0) result.error = {message: `${outcome.failed} resource(s) ended Failed or Canceled`, exitCode: 3}
  return result
}
