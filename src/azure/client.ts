import {AzureMachineLearningWorkspaces} from '@azure/arm-machinelearning'
import type {TokenCredential} from '@azure/identity'
import {
  bearerTokenAuthenticationPolicyName,
  createHttpHeaders,
  createPipelineRequest,
  type PipelinePolicy,
} from '@azure/core-rest-pipeline'

import {RemoteError} from '../core/errors.js'
import {DEFAULT_RETRY, retryPolicy, type RetryOptions} from './retry.js'
import {DEFAULT_REQUEST_TIMEOUT_MS, requestTimeoutPolicy} from './timeout.js'
import type {ApplyTarget} from './target.js'

/** The SDK default retry policy's name (core-rest-pipeline 1.24 does not export the constant). */
const defaultRetryPolicyName = 'defaultRetryPolicy'

/** api-version for raw requests the 2.1.1 SDK cannot make (registries) or serialises wrongly (pipeline jobs). */
export const RAW_API_VERSION = '2024-04-01'
/** The SDK's own api-version, also used for raw GETs of the resources the SDK writes, so both sides agree. */
export const SDK_API_VERSION = '2022-10-01'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  /** Parsed JSON body, or undefined when empty / not JSON. */
  json: unknown
}

export interface ArmClientOptions {
  retry?: Partial<RetryOptions>
  /** Status lines (retries); never given a token. */
  log?: (line: string) => void
  /** Aborts every request in flight. */
  signal?: AbortSignal
  /** Longest wait for one attempt of one request (default 2 min); a timed-out attempt is retried like a network error. */
  requestTimeoutMs?: number
}

/** An Azure error body: `{error: {code, message, details}}`. */
export function azureErrorOf(json: unknown): {code?: string; message?: string} {
  const e = (json as {error?: {code?: unknown; message?: unknown}} | undefined)?.error
  if (!e || typeof e !== 'object') return {}
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    message: typeof e.message === 'string' ? e.message : undefined,
  }
}

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Turns any failure from the SDK or a raw call into a RemoteError carrying Azure's code and message. */
export function toRemoteError(err: unknown, what: string): Error {
  if (err instanceof RemoteError) return err
  const e = err as {name?: string; statusCode?: number; code?: string; message?: string; response?: {bodyAsText?: string | null}}
  if (e?.name === 'AbortError') return err as Error
  const body = azureErrorOf(parseJson(e?.response?.bodyAsText ?? undefined))
  const code = body.code ?? e?.code
  const message = body.message ?? e?.message ?? String(err)
  const status = e?.statusCode
  const where = status ? ` (HTTP ${status})` : ''
  return new RemoteError(`${what}: ${code ? code + ': ' : ''}${message}${where}`, {status, code, hint: hintFor(status)})
}

function hintFor(status: number | undefined): string | undefined {
  if (status === 401) return 'the token was refused: log in again (`az login`) or refresh AZURE_ACCESS_TOKEN'
  if (status === 403) return 'the identity lacks a role on this resource (e.g. AzureML Data Scientist / Contributor)'
  if (status === 409) return 'another operation is running on this resource: wait for it, then apply again'
  return undefined
}

/**
 * Attaches the bearer token for a plain-http loopback endpoint (a fake server), where the SDK's own bearer policy
 * refuses to work. The token goes only to the ARM endpoint's origin, never to any other host.
 */
function loopbackAuthPolicy(credential: TokenCredential, origin: string, scope: string): PipelinePolicy {
  return {
    name: 'vitrineLoopbackAuthPolicy',
    async sendRequest(request, next) {
      if (new URL(request.url).origin === origin) {
        const t = await credential.getToken(scope)
        if (t?.token) request.headers.set('authorization', `Bearer ${t.token}`)
      }
      request.allowInsecureConnection = true
      return next(request)
    },
  }
}

/**
 * Every request of this pipeline carries the ARM token, so it may only go to the ARM endpoint's origin: a poll URL
 * (Azure-AsyncOperation, Location, nextLink) naming another host is refused rather than followed.
 */
function sameOriginPolicy(origin: string): PipelinePolicy {
  return {
    name: 'vitrineSameOriginPolicy',
    async sendRequest(request, next) {
      const target = new URL(request.url).origin
      if (target !== origin) throw new RemoteError(`refusing to send the Azure token to ${target}: ARM answered with a URL outside ${origin}`)
      return next(request)
    },
  }
}

/** The credential scope for an ARM endpoint: `<endpoint>/.default`, the public cloud's for a loopback fake. */
export function armScope(target: ApplyTarget): string {
  return target.insecureLoopback ? 'https://management.azure.com/.default' : `${target.armEndpoint}/.default`
}

/**
 * One SDK client (@azure/arm-machinelearning 2.1.1) and raw JSON requests through the same pipeline, so auth,
 * retry, user agent and abort are the same for typed and raw calls.
 */
export class ArmClient {
  readonly sdk: AzureMachineLearningWorkspaces
  private readonly signal?: AbortSignal

  constructor(
    readonly target: ApplyTarget,
    credential: TokenCredential,
    options: ArmClientOptions = {},
  ) {
    this.signal = options.signal
    const scope = armScope(target)
    this.sdk = new AzureMachineLearningWorkspaces(credential, target.subscription, {
      endpoint: target.armEndpoint,
      credentialScopes: [scope],
      allowInsecureConnection: target.insecureLoopback,
      userAgentOptions: {userAgentPrefix: 'vitrine'},
    })
    const log = options.log
    const retry: RetryOptions = {
      ...DEFAULT_RETRY,
      ...options.retry,
      onRetry: ({attempt, maxRetries, delayMs, reason}) =>
        log?.(`${reason}: retrying in ${(delayMs / 1000).toFixed(1)}s (retry ${attempt} of ${maxRetries})`),
    }
    this.sdk.pipeline.addPolicy(sameOriginPolicy(new URL(target.armEndpoint).origin), {phase: 'Serialize'})
    this.sdk.pipeline.removePolicy({name: defaultRetryPolicyName})
    this.sdk.pipeline.addPolicy(retryPolicy(retry), {phase: 'Retry'})
    this.sdk.pipeline.addPolicy(requestTimeoutPolicy(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS), {phase: 'Sign'})
    if (target.insecureLoopback) {
      this.sdk.pipeline.removePolicy({name: bearerTokenAuthenticationPolicyName})
      this.sdk.pipeline.addPolicy(loopbackAuthPolicy(credential, new URL(target.armEndpoint).origin, scope), {phase: 'Sign'})
    }
  }

  /** An absolute URL for an ARM path with its api-version. */
  url(path: string, apiVersion: string): string {
    const sep = path.includes('?') ? '&' : '?'
    return `${this.target.armEndpoint}${path}${sep}api-version=${apiVersion}`
  }

  /**
   * A raw JSON request through the client pipeline. `url` is an ARM path (joined to the endpoint with
   * `apiVersion`) or an absolute URL (a poll URL given by ARM). Any status >= 400 that is not in `accept` throws a
   * RemoteError with Azure's error code and message.
   */
  async request(
    method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    opts: {body?: unknown; apiVersion?: string; accept?: number[]; what: string},
  ): Promise<RawResponse> {
    const full = /^https?:\/\//.test(url) ? url : this.url(url, opts.apiVersion ?? RAW_API_VERSION)
    const headers = createHttpHeaders({accept: 'application/json'})
    if (opts.body !== undefined) headers.set('content-type', 'application/json')
    const req = createPipelineRequest({
      url: full,
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      abortSignal: this.signal,
      allowInsecureConnection: this.target.insecureLoopback,
    })
    let res
    try {
      res = await this.sdk.sendRequest(req)
    } catch (error) {
      throw toRemoteError(error, opts.what)
    }
    const json = parseJson(res.bodyAsText ?? undefined)
    if (res.status >= 400 && !(opts.accept ?? []).includes(res.status)) {
      const {code, message} = azureErrorOf(json)
      throw new RemoteError(
        `${opts.what}: ${code ? code + ': ' : ''}${message ?? (res.bodyAsText?.slice(0, 300) || 'no error message')} (HTTP ${res.status})`,
        {status: res.status, code, hint: hintFor(res.status)},
      )
    }
    return {status: res.status, headers: res.headers.toJSON(), json}
  }

  /** GET that answers undefined on 404 (the resource does not exist yet). */
  async getOptional(path: string, apiVersion: string, what: string): Promise<Record<string, unknown> | undefined> {
    const r = await this.request('GET', path, {apiVersion, accept: [404], what})
    if (r.status === 404) return undefined
    return (r.json ?? {}) as Record<string, unknown>
  }
}
