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
 *
 * A hostile client cannot take it down cheaply (issue 13): headers must arrive within headersTimeoutMs and a body
 * within bodyTimeoutMs (408, connection closed), idle keep-alive connections close after 5 s; a request is admitted
 * to the queue only once its whole body has arrived (slow uploads hold no queue slot), and the bodies being received
 * share a byte budget (503 beyond); the images of one request may declare at most maxRequestPixels (413), and every
 * decode of the process shares one decoded-pixel budget (image/pixel-budget.ts), decoding off the event loop when
 * the scorer has preprocessing workers, and `vitrine serve` runs the network on an inference thread of its own
 * (./inference-thread.ts), so the event loop only answers HTTP; connections are capped below the process's
 * file-descriptor limit.
 */
import {randomUUID, timingSafeEqual} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {isVitrineError} from '../core/errors.js'
import {redactSecrets} from '../core/redact.js'
import {DEFAULT_MAX_PIXELS} from '../image/index.js'
import {DEFAULT_URL_LIMITS, type UrlLimits} from './fetch-url.js'
import {resolveRequestImages} from './inputs.js'
import {type RequestImage, type ScoreResponse, parseScoreRequestText} from './request.js'
import {DEFAULT_TOP_K, type ScoringEngine, declaredPixels} from './scorer.js'
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
  /** The request line and headers must arrive within this (default 10000 ms). */
  headersTimeoutMs?: number
  /** The whole body must arrive within this (default 30000 ms); 408 and the connection closed after. */
  bodyTimeoutMs?: number
  /** Bytes of request bodies being received at once, all connections together (default 4 x maxBodyBytes); 503 beyond. */
  maxBufferedBodyBytes?: number
  /** Pixels the images of one request may declare in their headers, together (default 89,478,485); 413 beyond. */
  maxRequestPixels?: number
  /** Open connections at most (default: 1000, or less to stay 64 below the file-descriptor limit). */
  maxConnections?: number
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
  ready: Promise<ScoringEngine>
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
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  maxRequestPixels: DEFAULT_MAX_PIXELS,
  maxConnections: 1000,
  deployment: 'local',
} as const

/** The soft limit on open files (Linux /proc/self/limits), or undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

/** The connection cap: the wanted one, kept 64 below the file-descriptor limit (model files, workers, logs). */
export function connectionCap(wanted: number = SERVE_DEFAULTS.maxConnections, fdLimit = openFileLimit()): number {
  return fdLimit === undefined ? wanted : Math.max(16, Math.min(wanted, fdLimit - 64))
}

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
export async function startRunnerServer(scorer: Promise<ScoringEngine>, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? SERVE_DEFAULTS.host
  const maxBodyBytes = options.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyBytes
  const maxImages = options.maxImages ?? SERVE_DEFAULTS.maxImages
  const maxQueue = options.maxQueue ?? SERVE_DEFAULTS.maxQueue
  const timeoutMs = options.requestTimeoutMs ?? SERVE_DEFAULTS.requestTimeoutMs
  const headersTimeoutMs = options.headersTimeoutMs ?? SERVE_DEFAULTS.headersTimeoutMs
  const bodyTimeoutMs = Math.min(options.bodyTimeoutMs ?? SERVE_DEFAULTS.bodyTimeoutMs, timeoutMs)
  const maxBuffered = options.maxBufferedBodyBytes ?? 4 * maxBodyBytes
  const maxRequestPixels = options.maxRequestPixels ?? SERVE_DEFAULTS.maxRequestPixels
  const deployment = options.deployment ?? SERVE_DEFAULTS.deployment
  const topK = options.topK ?? DEFAULT_TOP_K
  const urlLimits = {...DEFAULT_URL_LIMITS, ...options.urlLimits}
  const key = options.key === undefined ? undefined : Buffer.from(options.key)

  let loaded: ScoringEngine | undefined
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
  // Bytes of bodies being received, all connections together.
  const bodies = {buffered: 0, limit: maxBuffered}
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

  // Expired header and body timers are looked for every second (Node's default is every 30 s).
  const server: Server = createServer({connectionsCheckingInterval: Math.min(1000, headersTimeoutMs)}, (req, res) => {
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
      const message = redactSecrets(error instanceof Error ? error.message : String(error))
      entry.error = `internal error: ${message}`
      send(res, entry, 500, {error: {code: 'InternalError', message: `internal error (a bug in vitrine): ${message}`}})
    })
  })
  server.keepAliveTimeout = 5000
  // The body timeout below answers 408 itself; Node's own request timeout is the backstop a little after it.
  server.headersTimeout = headersTimeoutMs
  server.requestTimeout = Math.max(headersTimeoutMs, bodyTimeoutMs) + 1000
  server.maxConnections = connectionCap(options.maxConnections)
  // Node's headersTimeout never expires a connection that sends nothing at all: an inactivity timeout does, but only
  // while the connection has no request in flight (a request may wait in the queue for as long as its timeout says).
  const busy = new Map<object, number>()
  server.on('connection', (socket) => socket.setTimeout(headersTimeoutMs))
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    busy.set(socket, (busy.get(socket) ?? 0) + 1)
    res.once('close', () => {
      const n = (busy.get(socket) ?? 1) - 1
      if (n > 0) busy.set(socket, n)
      else busy.delete(socket)
    })
  })
  server.on('timeout', (socket: Socket) => {
    if (!busy.has(socket)) socket.destroy()
  })

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
      const declared = Number(req.headers['content-length'])
      if (Number.isFinite(declared) && declared > maxBodyBytes) throw new HttpError(413, `the body is ${declared} bytes, over the limit of ${maxBodyBytes} (--max-body)`, 'BodyTooLarge')
    } catch (error) {
      return refuse(req, res, entry, error as HttpError)
    }
    // The body first, unadmitted: a slow upload holds a connection and its bytes, never a queue slot.
    let body: Buffer
    const bodyTimer = setTimeout(() => {
      refuse(req, res, entry, new HttpError(408, `the body did not arrive within ${bodyTimeoutMs} ms`, 'RequestTimeout'))
    }, bodyTimeoutMs)
    try {
      body = await readBody(req, maxBodyBytes, entry, bodies)
    } catch (error) {
      if (res.headersSent) return
      if (error instanceof HttpError) return refuse(req, res, entry, error)
      throw error
    } finally {
      clearTimeout(bodyTimer)
    }
    if (res.headersSent || res.destroyed) return
    if (admitted > maxQueue) return refuse(req, res, entry, new HttpError(503, `too many requests: ${admitted} are queued or running (--max-queue ${maxQueue})`, 'QueueFull', {'retry-after': '1'}))
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
      const response = await scoreRequest(body, entry, loaded, deadline, () => timedOut)
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

  async function scoreRequest(body: Buffer, entry: AccessLogEntry, scorer: ScoringEngine, deadline: number, timedOut: () => boolean): Promise<ScoreResponse> {
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
    const pixels = inputs.reduce((n, i) => n + declaredPixels(i!.bytes), 0)
    if (pixels > maxRequestPixels) {
      throw new HttpError(413, `the images declare ${pixels.toLocaleString('en-US')} pixels together, over the limit of ${maxRequestPixels.toLocaleString('en-US')} for one request`, 'TooManyPixels')
    }
    // Decoding runs outside the engine lock (bounded by the process's pixel budget); only the network is exclusive.
    const prepared = await scorer.prepare(inputs.map((i) => i!))
    if (timedOut()) return []
    let outcomes
    try {
      outcomes = await exclusive(async () => (timedOut() ? [] : scorer.run(prepared, {topK})))
    } catch (error) {
      // The model itself failed (NaN weights): a 500 that says so, not "a bug in vitrine".
      if (isVitrineError(error)) throw new HttpError(500, error.message, 'ModelError')
      throw error
    }
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

/**
 * Reads the body up to `limit` bytes (over it, a 413), its bytes counted in `budget` while it is received (over the
 * budget, all connections together, a 503).
 */
function readBody(req: IncomingMessage, limit: number, entry: AccessLogEntry, budget: {buffered: number; limit: number}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      budget.buffered -= size
      fn()
    }
    req.on('data', (chunk: Buffer) => {
      if (settled) return
      size += chunk.length
      budget.buffered += chunk.length
      entry.bytes_in = size
      if (size > limit) {
        req.pause()
        settle(() => reject(new HttpError(413, `the body is over the limit of ${limit} bytes (--max-body)`, 'BodyTooLarge')))
        return
      }
      if (budget.buffered > budget.limit) {
        req.pause()
        settle(() => reject(new HttpError(503, 'too many request bodies are being received at once', 'Busy', {'retry-after': '1'})))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => settle(() => resolve(Buffer.concat(chunks))))
    req.on('error', (error) => settle(() => reject(error)))
    req.on('close', () => {
      if (!req.complete) settle(() => reject(new HttpError(400, 'the client closed the connection before sending the whole body', 'Aborted')))
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
  // The one place an error reaches a body and the access log: whatever it quotes, no SAS sig=, key or token leaves.
  const message = redactSecrets(error.message)
  entry.error = message
  send(res, entry, error.status, {error: {code: error.code, message}}, {...error.headers, ...headers})
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
