import type {PipelinePolicy, PipelineResponse} from '@azure/core-rest-pipeline'

/** How hard to retry: bounded in attempts and in the longest single wait. */
export interface RetryOptions {
  /** Retries after the first attempt (default 4). */
  maxRetries: number
  /** First backoff without Retry-After, doubled each retry (default 1000 ms). */
  baseDelayMs: number
  /** No single wait is longer, whatever Retry-After says (default 60 s). */
  maxDelayMs: number
  /** Told before each wait, for a status line. */
  onRetry?: (info: {attempt: number; maxRetries: number; delayMs: number; reason: string}) => void
}

export const DEFAULT_RETRY: RetryOptions = {maxRetries: 4, baseDelayMs: 1000, maxDelayMs: 60_000}

/** Statuses worth retrying: throttling, timeouts and server errors (not 501/505, which will not change). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505)
}

/** Network errors that a retry may cure. */
export function isRetryableNetworkError(err: unknown): boolean {
  const code = (err as {code?: string} | undefined)?.code
  return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'REQUEST_SEND_ERROR'].includes(
    code ?? '',
  )
}

/**
 * The wait a response asks for, in ms: `retry-after-ms` / `x-ms-retry-after-ms` (ms), or `Retry-After` as seconds
 * or an HTTP date. Undefined when none is given or it cannot be read.
 */
export function retryAfterMs(get: (name: string) => string | undefined | null, now = Date.now()): number | undefined {
  for (const h of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = get(h)
    if (v != null && v.trim() !== '' && Number.isFinite(Number(v))) return Math.max(0, Number(v))
  }
  const ra = get('retry-after')
  if (ra == null || ra.trim() === '') return undefined
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000
  const date = Date.parse(ra)
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined
}

/** The delay before retry number `attempt` (1-based): Retry-After when given, else exponential with jitter. */
export function retryDelay(attempt: number, hinted: number | undefined, opts: RetryOptions): number {
  if (hinted !== undefined) return Math.min(hinted, opts.maxDelayMs)
  const exp = opts.baseDelayMs * 2 ** (attempt - 1)
  const jitter = 0.8 + Math.random() * 0.4
  return Math.min(Math.round(exp * jitter), opts.maxDelayMs)
}

/** What sleep needs of an abort signal (the DOM AbortSignal and core-rest-pipeline's AbortSignalLike both fit). */
export interface AbortSignalish {
  readonly aborted: boolean
  readonly reason?: unknown
  addEventListener(type: 'abort', listener: () => void, options?: {once?: boolean}): void
  removeEventListener(type: 'abort', listener: () => void): void
}

export function sleep(ms: number, signal?: AbortSignalish): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'))
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason ?? new Error('aborted'))
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/**
 * Our retry policy for the ARM client pipeline, replacing the SDK default so the bounds are ours and every wait
 * is told to the user: 408/429/5xx and network errors, Retry-After honoured (capped), at most `maxRetries`.
 */
export function retryPolicy(opts: RetryOptions): PipelinePolicy {
  return {
    name: 'vitrineRetryPolicy',
    async sendRequest(request, next) {
      for (let attempt = 1; ; attempt++) {
        let response: PipelineResponse | undefined
        let error: unknown
        try {
          response = await next(request)
        } catch (err) {
          error = err
        }
        const retryable = response ? isRetryableStatus(response.status) : isRetryableNetworkError(error)
        if (!retryable || attempt > opts.maxRetries || request.abortSignal?.aborted) {
          if (response) return response
          throw error
        }
        const hinted = response ? retryAfterMs((h) => response!.headers.get(h)) : undefined
        const delayMs = retryDelay(attempt, hinted, opts)
        const reason = response ? `HTTP ${response.status}` : String((error as {code?: string}).code ?? error)
        opts.onRetry?.({attempt, maxRetries: opts.maxRetries, delayMs, reason})
        await sleep(delayMs, request.abortSignal)
      }
    },
  }
}
