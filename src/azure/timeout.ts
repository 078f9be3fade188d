import type {PipelinePolicy} from '@azure/core-rest-pipeline'

import {UsageError} from '../core/errors.js'

/** One HTTP request (ARM or blob) may take this long before it is abandoned and, like a network error, retried. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 2 * 60_000
/** `apply --wait` gives up after this long unless --timeout says otherwise (a job can run for days; CI cannot). */
export const DEFAULT_WAIT_TIMEOUT_MS = 60 * 60_000

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/**
 * A duration as users write it: `90s`, `10m`, `1h30m`, `500ms`, `2h`; a bare number is seconds. `what` names the
 * flag in the error.
 */
export function parseDuration(text: string, what: string): number {
  const t = text.trim().toLowerCase()
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000)
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
    throw new UsageError(`${what}: '${text}' is not a duration (e.g. 90s, 10m, 1h30m; a bare number is seconds)`)
  }
  const ms = Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]], 0))
  if (ms <= 0) throw new UsageError(`${what}: '${text}' must be longer than zero`)
  return ms
}

/** `90000` -> `1m30s`, for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  let s = Math.round(ms / 1000)
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`
}

/**
 * The error of one request that got no complete answer in time. Its code is ETIMEDOUT, so the retry policies treat it
 * as the network error it is and try again (each attempt gets its own time).
 */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError'
  readonly code = 'ETIMEDOUT'
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${formatDuration(ms)} (request timeout)`)
  }
}

/** The parts of an abort signal this module uses (DOM AbortSignal and core-rest-pipeline's AbortSignalLike fit). */
interface SignalLike {
  readonly aborted: boolean
  addEventListener(type: 'abort', listener: () => void, options?: {once?: boolean}): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/**
 * Runs `send` with a signal that aborts when `parent` does or after `ms`; a timeout becomes a RequestTimeoutError,
 * a parent abort stays the AbortError it is.
 */
export async function withRequestTimeout<T>(ms: number, what: string, parent: SignalLike | undefined, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  let timedOut = false
  const onParent = () => controller.abort()
  if (parent?.aborted) controller.abort()
  parent?.addEventListener('abort', onParent, {once: true})
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, ms)
  try {
    return await send(controller.signal)
  } catch (error) {
    if (timedOut && !parent?.aborted) throw new RequestTimeoutError(what, ms)
    throw error
  } finally {
    clearTimeout(timer)
    parent?.removeEventListener('abort', onParent)
  }
}

/**
 * A pipeline policy bounding each attempt of a request (it sits below the retry policy, so a retry starts a new
 * clock). The HTTP pipeline's own default is no timeout at all: a server that accepts the connection and never
 * answers would hold `apply` forever.
 */
export function requestTimeoutPolicy(ms: number): PipelinePolicy {
  return {
    name: 'vitrineRequestTimeoutPolicy',
    async sendRequest(request, next) {
      const parent = request.abortSignal
      const what = `${request.method} ${new URL(request.url).pathname}`
      return withRequestTimeout(ms, what, parent, async (signal) => {
        request.abortSignal = signal
        try {
          return await next(request)
        } finally {
          request.abortSignal = parent
        }
      })
    },
  }
}
