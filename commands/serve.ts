import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {runnerFlags} from '../cli/runner-render.js'
import {UsageError} from '../src/core/errors.js'
import {DEFAULT_URL_LIMITS} from '../src/runner/fetch-url.js'
import {loadScoringEngine} from '../src/runner/inference-thread.js'
import type {ScoringEngine} from '../src/runner/scorer.js'
import {SERVE_DEFAULTS, type ServerStats, startRunnerServer} from '../src/runner/server.js'
import {printable} from '../src/core/printable.js'

export interface ServeResult extends ServerStats {
  url: string
  /** The signal that stopped the server. */
  signal: string
}

/** Status lines go to stderr, with --json too (oclif silences logToStderr under --json). */
function status(line: string): void {
  process.stderr.write(`${line}\n`)
}

export default class Serve extends BaseCommand {
  static override summary = 'Serve a model over HTTP with the managed online endpoint contract (POST /score), locally'
  static override description = `Listens on 127.0.0.1:5001 (--host, --port). POST /score takes {"input_data": ["<base64>", ...]} or the pandas
split form {"input_data": {"columns": ["image"], "index": [...], "data": [...]}} and answers
[[{"label": ..., "score": ...}, ...], ...] like the endpoint. GET / is liveness, GET /ready readiness (200 once the
model is loaded), GET /ui a page to drop images on. --key requires Authorization: Bearer <key> on /score; the
azureml-model-deployment header is accepted.

Bounded: a body over --max-body is 413, more than --max-images images 413, more than --max-queue requests waiting
503, a request not answered within --request-timeout 408, an undecodable image 400 naming its index.
One JSON access-log line per request (with latency_ms) goes to stdout (stderr with --json, whose summary is printed
at exit). SIGTERM or Ctrl-C finishes the requests in flight, then exits 0.`

  static override examples = [
    '<%= config.bin %> serve --model examples/models/vit-digits',
    `curl -s localhost:5001/score -H 'content-type: application/json' -d "{\\"input_data\\": [\\"$(base64 -w0 examples/images/digits/digit-7-0182.png)\\"]}"`,
    '<%= config.bin %> serve -m examples/models/vit-digits --port 8080 --key "$KEY" --allow-urls',
  ]

  static override flags = {
    ...runnerFlags,
    host: Flags.string({description: 'Address to listen on', default: SERVE_DEFAULTS.host}),
    port: Flags.integer({char: 'p', description: 'Port (0 picks a free one)', min: 0, max: 65_535, default: SERVE_DEFAULTS.port}),
    key: Flags.string({description: 'Require Authorization: Bearer KEY on /score', env: 'VITRINE_SERVE_KEY'}),
    'deployment-name': Flags.string({description: 'Answered in the azureml-model-deployment header', default: SERVE_DEFAULTS.deployment}),
    'allow-urls': Flags.boolean({description: 'Fetch http(s) image URLs given in place of base64 (public addresses only)', default: false}),
    'allow-private-urls': Flags.boolean({description: 'With --allow-urls, also fetch from loopback, private and link-local addresses', default: false, dependsOn: ['allow-urls']}),
    'max-body': Flags.integer({description: 'Largest request body in bytes (413 above)', min: 1, default: SERVE_DEFAULTS.maxBodyBytes}),
    'max-images': Flags.integer({description: 'Most images in one request (413 above)', min: 1, default: SERVE_DEFAULTS.maxImages}),
    'max-queue': Flags.integer({description: 'Requests waiting for the engine beyond the one running (503 above)', min: 0, default: SERVE_DEFAULTS.maxQueue}),
    'request-timeout': Flags.integer({description: 'Milliseconds to answer a request, body and queue included (408 after)', min: 1, default: SERVE_DEFAULTS.requestTimeoutMs}),
    'header-timeout': Flags.integer({description: 'Milliseconds for the request line and headers to arrive (idle connections close after it)', min: 100, default: SERVE_DEFAULTS.headersTimeoutMs}),
    'body-timeout': Flags.integer({description: 'Milliseconds for the whole request body to arrive (408 after)', min: 100, default: SERVE_DEFAULTS.bodyTimeoutMs}),
    'max-connections': Flags.integer({description: 'Open connections at most (kept 64 below the open-file limit)', min: 16, default: SERVE_DEFAULTS.maxConnections}),
    'max-request-pixels': Flags.integer({description: 'Pixels the images of one request may declare together (413 above)', min: 1, default: SERVE_DEFAULTS.maxRequestPixels}),
    'url-timeout': Flags.integer({description: 'Milliseconds to fetch one image URL', min: 1, default: DEFAULT_URL_LIMITS.timeoutMs}),
    'url-max-bytes': Flags.integer({description: 'Largest image fetched from a URL, in bytes', min: 1, default: DEFAULT_URL_LIMITS.maxBytes}),
  }

  async run(): Promise<ServeResult> {
    const {flags} = await this.parse(Serve)
    const logTo = this.jsonEnabled() ? process.stderr : process.stdout
    // The network on a thread of its own, decoding on a worker: the event loop only answers HTTP.
    const scorer: Promise<ScoringEngine> = loadScoringEngine(flags.model, {threads: flags.threads, backend: flags.backend, preprocessWorkers: 1})
    scorer.catch(() => undefined)
    let server
    try {
      server = await startRunnerServer(scorer, {
        host: flags.host,
        port: flags.port,
        key: flags.key,
        deployment: flags['deployment-name'],
        topK: flags['top-k'],
        allowUrls: flags['allow-urls'],
        urlLimits: {timeoutMs: flags['url-timeout'], maxBytes: flags['url-max-bytes'], allowPrivate: flags['allow-private-urls']},
        maxBodyBytes: flags['max-body'],
        maxImages: flags['max-images'],
        maxQueue: flags['max-queue'],
        requestTimeoutMs: flags['request-timeout'],
        headersTimeoutMs: flags['header-timeout'],
        bodyTimeoutMs: flags['body-timeout'],
        maxConnections: flags['max-connections'],
        maxRequestPixels: flags['max-request-pixels'],
        log: (entry) => logTo.write(`${JSON.stringify(entry)}\n`),
      })
    } catch (error) {
      void scorer.then((s) => s.dispose(), () => undefined)
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE') throw new UsageError(`${flags.host}:${flags.port} is already in use; pick another --port`)
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on ${flags.host}: not an address of this machine (--host)`)
      throw error
    }
    status(`vitrine serve: listening on ${server.url} (POST /score, GET /ready, GET /ui); loading ${printable(flags.model)}`)
    const stopped = new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'))
      process.once('SIGINT', () => resolve('SIGINT'))
    })
    let loaded: ScoringEngine
    try {
      loaded = await Promise.race([server.ready, stopped.then(() => undefined)]) as ScoringEngine
    } catch (error) {
      await server.close()
      throw error
    }
    if (loaded) status(`vitrine serve: ready (${loaded.labels.length} labels, ${loaded.backendName} x ${loaded.threads} threads)`)
    const signal = await stopped
    status(`vitrine serve: ${signal}: finishing requests in flight`)
    await server.close()
    if (loaded) loaded.dispose()
    else void scorer.then((s) => s.dispose(), () => undefined)
    status(`vitrine serve: stopped after ${server.stats.requests} requests`)
    return {url: server.url, signal, ...server.stats}
  }
}
