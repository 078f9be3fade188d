/**
 * `vitrine serve`: the managed online endpoint's HTTP contract on one machine.
 *
 *   GET  /        liveness: 200 "Healthy" as soon as the server listens
 *   GET  /ready   readiness: 200 once the model is loaded, 503 before
 *   POST /score   {"input_data": [...]} or the pandas split form -> [[{"label", "score"}, ...], ...]
 *   GET  /ui      a page to drop or pick images and see the top-k labels as bars
 *
 * Everything is bounded, and every bound has its status: a body over maxBodyBytes is 413 (refused from
 * Content-Length before reading when it is declared), more than maxImages images 413, more than maxQueue requests
 * waiting for the engine 503 (with Retry-After), a request not answered within requestTimeoutMs 408 (as
 * request_settings.request_timeout_ms), an undecodable image 400 naming its index, a bad key 401. The network runs
 * one request at a time (the model has one set of activations); requests queue in front of it in arrival order.
 *
 * close() drains: it stops accepting connections, lets the requests in flight finish, then closes the rest.
 */
import {randomUUID, timingSafeEqual} from 'node:crypto'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

import {isVitrineError} from '../core/errors.js'
import {DEFAULT_URL_LIMITS, type UrlLimits} from './fetch-url.js'
import {resolveRequestImages} from './inputs.js'
import {type RequestImage, type ScoreResponse, parseScoreRequestText} from './request.js'
import {DEFAULT_TOP_K, type Scorer} from './scorer.js'
import {UI_PAGE} from './ui/page.js'

export interface ServeOptions {
  host?: string
  /** 0 picks a free port. Default 5001. */
  port?: number
  /** Require `Authorization: Bearer <key>` on /score (the probes stay open, as on Azure). */
  key?: string
  /** The name answered in the azureml-model-deployment header (default "local"). */
  deployment?: string
  topK?: number
  allowUrls?: boolean
  urlLimits?: UrlLimits
  /** Default 32 MiB. */
  maxBodyBytes?: number
  /** Default 32. */
  maxImages?: number
  /** Requests admitted at once beyond the one being scored; more are refused with 503. Default 16. */
  maxQueue?: number
  /** Default 90000 ms, the azureml-examples deployment's request_settings.request_timeout_ms. */
  requestTimeoutMs?: number
  /** Where access log entries go (one object per request). Default: none. */
  log?: (entry: AccessLogEntry) => void
}

export interface AccessLogEntry {
  time: string
  request_id: string
  method: string
  path: string
  status: number
  latency_ms: number
  bytes_in: number
  bytes_out: number
  images?: number
  deployment?: string
  error?: string
}

export interface ServerStats {
  requests: number
  /** By status code. */
  statuses: Record<string, number>
  images: number
}

export interface RunningServer {
  url: string
  host: string
  port: number
  /** Resolves when the model is loaded (the server answers /ready 200 from then on). */
  ready: Promise<Scorer>
  stats: ServerStats
  /** Stops accepting, finishes the requests in flight, closes every connection; resolves when all is closed. */
  close(): Promise<void>
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 5001,
  maxBodyBytes: 32 * 1024 * 1024,
  maxImages: 32,
  maxQueue: 16,
  requestTimeoutMs: 90_000,
  deployment: 'local',
} as const

/** An error with the status it answers. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

/** Starts listening at once; the model may still be loading (`scorer` resolves when it is). */
export async function startRunnerServer(scorer: Promise<Scorer>, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? SERVE_DEFAULTS.host
  const maxBodyBytes = options.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyBytes
  const maxImages = options.maxImages ?? SERVE_DEFAULTS.maxImages
  const maxQueue = options.maxQueue ?? SERVE_DEFAULTS.maxQueue
  const timeoutMs = options.requestTimeoutMs ?? SERVE_DEFAULTS.requestTimeoutMs
  const deployment = options.deployment ?? SERVE_DEFAULTS.deployment
  const topK = options.topK ?? DEFAULT_TOP_K
  const urlLimits = {...DEFAULT_URL_LIMITS, ...options.urlLimits}
  const key = options.key === undefined ? undefined : Buffer.from(options.key)

  let loaded: Scorer | undefined
  let loadError: string | undefined
  const ready = scorer.then(
    (s) => {
      loaded = s
      return s
    },
    (error: unknown) => {
      loadError = error instanceof Error ? error.message : String(error)
      throw error
    },
  )
  ready.catch(() => undefined)

  const stats: ServerStats = {requests: 0, statuses: {}, images: 0}
  // Requests admitted to /score and not yet answered: the one being scored and those queued behind it.
  let admitted = 0
  let inFlight = 0
  let closing = false
  let drained: (() => void) | undefined
  // The engine runs one request at a time, in arrival order.
  let engine: Promise<unknown> = Promise.resolve()
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = engine.then(fn, fn)
    engine = run.catch(() => undefined)
    return run
  }

  const server: Server = createServer((req, res) => {
    inFlight++
    const started = process.hrtime.bigint()
    const requestId = headerValue(req, 'x-request-id') ?? randomUUID()
    const entry: AccessLogEntry = {
      time: new Date().toISOString(),
      request_id: requestId,
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0],
      status: 0,
      latency_ms: 0,
      bytes_in: 0,
      bytes_out: 0,
    }
    const dep = headerValue(req, 'azureml-model-deployment')
    if (dep !== undefined) entry.deployment = dep
    res.setHeader('x-request-id', requestId)
    res.setHeader('azureml-model-deployment', deployment)
    let finished = false
    res.on('close', () => {
      if (finished) return
      finished = true
      entry.status = res.headersSent ? res.statusCode : 499
      entry.latency_ms = Number(process.hrtime.bigint() - started) / 1e6
      stats.requests++
      stats.statuses[entry.status] = (stats.statuses[entry.status] ?? 0) + 1
      options.log?.(entry)
      inFlight--
      if (closing && inFlight === 0) drained?.()
    })
    route(req, res, entry).catch((error: unknown) => {
      // A bug: answer 500 rather than drop the connection, and log it.
      const message = error instanceof Error ? error.message : String(error)
      send(res, entry, 500, {error: {code: 'InternalError', message: `internal error (a bug in vitrine): ${message}`}})
    })
  })
  server.keepAliveTimeout = 5000
  // The request timeout below answers 408 itself; Node's own would just drop the socket.
  server.requestTimeout = 0
  server.headersTimeout = Math.min(60_000, timeoutMs + 1000)

  async function route(req: IncomingMessage, res: ServerResponse, entry: AccessLogEntry): Promise<void> {
    const path = entry.path
    const method = req.method ?? ''
    if (path === '/' || path === '/ready' || path === '/ui') {
      if (method !== 'GET' && method !== 'HEAD') return sendError(res, entry, new HttpError(405, `${path} takes GET`, 'MethodNotAllowed', {allow: 'GET, HEAD'}))
      req.resume()
      if (path === '/') return sendText(res, entry, 200, 'text/plain; charset=utf-8', 'Healthy')
      if (path === '/ui') return sendText(res, entry, 200, 'text/html; charset=utf-8', UI_PAGE)
      if (loaded) return send(res, entry, 200, {ready: true, labels: loaded.labels.length, backend: loaded.backendName, threads: loaded.threads})
      return send(res, entry, 503, {ready: false, error: loadError ?? 'the model is loading'})
    }
    if (path !== '/score') return sendError(res, entry, new HttpError(404, `no route ${path}; POST /score, GET /, /ready, /ui`, 'NotFound'))
    if (method !== 'POST') return sendError(res, entry, new HttpError(405, '/score takes POST', 'MethodNotAllowed', {allow: 'POST'}))
    try {
      checkKey(req)
      if (!loaded) throw new HttpError(503, loadError ? `the model failed to load: ${loadError}` : 'the model is loading; retry when GET /ready answers 200', 'NotReady', {'retry-after': '1'})
      if (admitted > maxQueue) throw new HttpError(503, `too many requests: ${admitted} are queued or running (--max-queue ${maxQueue})`, 'QueueFull', {'retry-after': '1'})
      const declared = Number(req.headers['content-length'])
      if (Number.isFinite(declared) && declared > maxBodyBytes) throw new HttpError(413, `the body is ${declared} bytes, over the limit of ${maxBodyBytes} (--max-body)`, 'BodyTooLarge')
    } catch (error) {
      return refuse(req, res, entry, error as HttpError)
    }
    admitted++
    // Released once: at the answer, or at the timeout (a timed-out request is skipped by the engine).
    let released = false
    const release = (): void => {
      if (!released) admitted--
      released = true
    }
    const deadline = Date.now() + timeoutMs
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      release()
      refuse(req, res, entry, new HttpError(408, `no answer within ${timeoutMs} ms (--request-timeout)`, 'RequestTimeout'))
    }, timeoutMs)
    try {
      const response = await scoreRequest(req, entry, loaded, deadline, () => timedOut)
      if (!timedOut) send(res, entry, 200, response)
    } catch (error) {
      if (timedOut) return
      if (error instanceof HttpError) return refuse(req, res, entry, error)
      throw error
    } finally {
      clearTimeout(timer)
      release()
    }
  }

  async function scoreRequest(req: IncomingMessage, entry: AccessLogEntry, scorer: Scorer, deadline: number, timedOut: () => boolean): Promise<ScoreResponse> {
    const body = await readBody(req, maxBodyBytes, entry)
    let images: RequestImage[]
    try {
      images = parseScoreRequestText(body.toString('utf8'), {source: 'request body', allowUrls: options.allowUrls})
    } catch (error) {
      if (isVitrineError(error)) throw new HttpError(400, error.message, 'BadRequest')
      throw error
    }
    entry.images = images.length
    if (images.length > maxImages) throw new HttpError(413, `${images.length} images in one request, over the limit of ${maxImages} (--max-images)`, 'TooManyImages')
    const remaining = Math.max(1, Math.min(urlLimits.timeoutMs, deadline - Date.now()))
    const {inputs, failures} = await resolveRequestImages(images, {...urlLimits, timeoutMs: remaining})
    if (failures.length > 0) throw new HttpError(400, failures.map((f) => f.error).join('; '), 'BadImage')
    const outcomes = await exclusive(async () => (timedOut() ? [] : scorer.score(inputs.map((i) => i!), {topK})))
    if (timedOut()) return []
    const bad = outcomes.flatMap((o, i) => (o.ok ? [] : [`${images[i].field} (image ${i}): ${o.error.replace(`${images[i].field}: `, '')}`]))
    if (bad.length > 0) throw new HttpError(400, `cannot score ${bad.join('; ')}`, 'BadImage')
    stats.images += outcomes.length
    return outcomes.map((o) => (o.ok ? o.predictions : []))
  }

  function checkKey(req: IncomingMessage): void {
    if (!key) return
    const auth = headerValue(req, 'authorization') ?? ''
    const m = /^Bearer\s+(.+)$/i.exec(auth)
    const given = Buffer.from(m ? m[1].trim() : '')
    if (given.length !== key.length || !timingSafeEqual(given, key)) {
      throw new HttpError(401, auth ? 'the key is not valid' : 'missing Authorization: Bearer <key>', 'Unauthorized', {'www-authenticate': 'Bearer'})
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? SERVE_DEFAULTS.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const urlHost = host.includes(':') ? `[${host}]` : host

  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    ready,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        if (closing) return resolve()
        closing = true
        const done = new Promise<void>((r) => {
          drained = r
          if (inFlight === 0) r()
        })
        server.close(() => resolve())
        server.closeIdleConnections()
        void done.then(() => server.closeAllConnections())
      }),
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** Reads the body up to `limit` bytes; over it, a 413. */
function readBody(req: IncomingMessage, limit: number, entry: AccessLogEntry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      entry.bytes_in = size
      if (size > limit) {
        req.pause()
        reject(new HttpError(413, `the body is over the limit of ${limit} bytes (--max-body)`, 'BodyTooLarge'))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
    req.on('close', () => {
      if (!req.complete) reject(new HttpError(400, 'the client closed the connection before sending the whole body', 'Aborted'))
    })
  })
}

function send(res: ServerResponse, entry: AccessLogEntry, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, entry, status, 'application/json', JSON.stringify(body), headers)
}

function sendText(res: ServerResponse, entry: AccessLogEntry, status: number, type: string, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  const bytes = Buffer.from(text)
  entry.bytes_out = bytes.length
  res.writeHead(status, {'content-type': type, 'content-length': String(bytes.length), ...headers})
  res.end(bytes)
}

function sendError(res: ServerResponse, entry: AccessLogEntry, error: HttpError, headers: Record<string, string> = {}): void {
  entry.error = error.message
  send(res, entry, error.status, {error: {code: error.code, message: error.message}}, {...error.headers, ...headers})
}

/**
 * Answers an error before (or instead of) reading the rest of the body: the connection is closed after the answer,
 * so an unread body cannot be taken for the next request and a client cannot keep streaming into it.
 */
function refuse(req: IncomingMessage, res: ServerResponse, entry: AccessLogEntry, error: HttpError): void {
  const complete = req.complete
  sendError(res, entry, error, complete ? {} : {connection: 'close'})
  if (!complete) res.once('finish', () => setTimeout(() => req.socket.destroy(), 50))
}
