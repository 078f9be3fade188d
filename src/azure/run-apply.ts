import {isVitrineError, UsageError} from '../core/errors.js'
import type {Progress} from '../core/progress.js'
import {applyPlan, type ApplyOutcome} from './apply.js'
import {acquireToken, resolveCredential, type AuthMethod} from './auth.js'
import {ArmClient, armScope} from './client.js'
import {buildPlan, summarize, type PlanEntry} from './plan.js'
import {readInputs} from './read-inputs.js'
import {resolveTarget, type TargetInputs} from './target.js'
import type {AppliedResource, PlannedResource, StillRunning} from './types.js'

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
  summary: {create: number; update: number; noChange: number; refused: number}
  changesPending: boolean
  resources: PlannedResource[]
  applied?: AppliedResource[]
  stillRunning?: StillRunning[]
  interrupted?: boolean
  uploaded?: {files: number; bytes: number; requests: number}
  /** Set when applying stopped on an error (exit 3 for Azure, 1 for a bad input). */
  error?: {message: string; code?: string; status?: number; exitCode: number}
}

/** Reads the files, plans against Azure's current state and, unless planOnly, applies. */
export async function runApply(req: ApplyRequest): Promise<ApplyResult> {
  if (req.files.length === 0) throw new UsageError('give at least one FILE: a YAML from `vitrine generate` or a `vitrine package` folder')
  const target = resolveTarget(req.target, req.env, {workspace: false, registry: false})
  const desired = await readInputs(req.files, target, {allTraffic: req.allTraffic})
  const cred = resolveCredential(req.auth, req.env)
  await acquireToken(cred, armScope(target))
  const client = new ArmClient(target, cred.credential, {log: req.log, signal: req.signal, retry: req.maxRetries === undefined ? {} : {maxRetries: req.maxRetries}})
  const entries: PlanEntry[] = await buildPlan(client, desired)
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
    changesPending: summary.create + summary.update > 0,
    resources: entries.map((e) => e.planned),
  }
  req.onPlan?.(result)
  if (req.planOnly || summary.refused > 0) return result
  let outcome: ApplyOutcome
  try {
    outcome = await applyPlan(client, entries, {
      wait: req.wait,
      pollIntervalMs: req.pollIntervalMs,
      signal: req.signal,
      log: req.log,
      progress: req.progress,
      blockSize: req.blockSize,
      concurrency: req.concurrency,
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
  if (outcome.failed > 0) result.error = {message: `${outcome.failed} resource(s) ended Failed or Canceled`, exitCode: 3}
  return result
}
