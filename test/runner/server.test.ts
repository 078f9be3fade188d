import {readFile} from 'node:fs/promises'
import {type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Scorer} from '../../src/runner/scorer.js'
import {type AccessLogEntry, type RunningServer, type ServeOptions, startRunnerServer} from '../../src/runner/server.js'
import {DIGITS_DIR, DIGITS_MODEL, ODD_IMAGES, digitFiles, expectedDigits, trueLabel} from './digits.js'
import {type Answer, get, post, raw} from './http.js'

type Response = Array<Array<{label: string; score: number}>>

let scorer: Scorer
const servers: RunningServer[] = []
let digits: Array<{file: string; b64: string; bytes: Buffer}>

beforeAll(async () => {
  scorer = await Scorer.load(DIGITS_MODEL, {threads: 1})
  digits = await Promise.all(
    digitFiles().map(async (file) => {
      const bytes = await readFile(join(DIGITS_DIR, file))
      return {file, bytes, b64: bytes.toString('base64')}
    }),
  )
})

afterAll(async () => {
  for (const s of servers) await s.close()
  scorer.dispose()
})

async function serve(options: ServeOptions = {}, model: Promise<Scorer> = Promise.resolve(scorer)): Promise<{server: RunningServer; log: AccessLogEntry[]}> {
  const log: AccessLogEntry[] = []
  const server = await startRunnerServer(model, {port: 0, log: (e) => log.push(e), ...options})
  servers.push(server)
  await server.ready.catch(() => undefined)
  return {server, log}
}

function errorOf(a: Answer): {code: string; message: string} {
  return (JSON.parse(a.body) as {error: {code: string; message: string}}).error
}

/** The server still answers a liveness probe and a good request. */
async function stillServes(server: RunningServer): Promise<void> {
  expect((await get(`${server.url}/`)).status).toBe(200)
  const ok = await post(`${server.url}/score`, {input_data: [digits[0].b64]})
  expect(ok.status, ok.body).toBe(200)
  expect((JSON.parse(ok.body) as Response)[0][0].label).toBe(trueLabel(digits[0].file))
}

describe('serve: the endpoint contract', () => {
  it('answers all 20 digits in one request with the engine test numbers, in both body forms', async () => {
    const {server, log} = await serve({topK: 3})
    const current = await post(`${server.url}/score`, {input_data: digits.map((d) => d.b64)})
    expect(current.status, current.body).toBe(200)
    expect(current.headers['content-type']).toBe('application/json')
    const response = JSON.parse(current.body) as Response
    const expected = expectedDigits()
    expect(response).toHaveLength(20)
    for (const [i, d] of digits.entries()) {
      const want = expected.get(d.file)!
      expect(response[i][0].label, d.file).toBe(trueLabel(d.file))
      expect(response[i].map((p) => p.label)).toEqual(want.top.map((p) => p.label))
      for (const [k, p] of response[i].entries()) expect(Math.abs(p.score - want.top[k].score)).toBeLessThan(1e-5)
    }
    const split = await post(`${server.url}/score`, {input_data: {columns: ['image'], index: digits.map((_, i) => i), data: digits.map((d) => [d.b64])}})
    expect(split.status).toBe(200)
    expect(JSON.parse(split.body)).toEqual(response)
    expect(log.filter((e) => e.path === '/score')).toEqual([
      expect.objectContaining({method: 'POST', status: 200, images: 20}),
      expect.objectContaining({method: 'POST', status: 200, images: 20}),
    ])
    expect(log[0].latency_ms).toBeGreaterThan(0)
    expect(log[0].bytes_in).toBe(Buffer.byteLength(JSON.stringify({input_data: digits.map((d) => d.b64)})))
  })

  it('liveness at once, readiness only once the model is loaded; /score 503 until then', async () => {
    let release!: (s: Scorer) => void
    const later = new Promise<Scorer>((r) => (release = r))
    const log: AccessLogEntry[] = []
    const server = await startRunnerServer(later, {port: 0, log: (e) => log.push(e)})
    servers.push(server)
    expect((await get(`${server.url}/`)).body).toBe('Healthy')
    expect((await get(`${server.url}/ready`)).status).toBe(503)
    const early = await post(`${server.url}/score`, {input_data: [digits[0].b64]})
    expect(early.status).toBe(503)
    expect(errorOf(early).code).toBe('NotReady')
    release(scorer)
    await server.ready
    expect((await get(`${server.url}/ready`)).status).toBe(200)
    await stillServes(server)
  })

  it('key auth on /score only (probes stay open); the azureml-model-deployment header is accepted and logged', async () => {
    const {server, log} = await serve({key: 'sekrit', deployment: 'blue'})
    const body = {input_data: [digits[1].b64]}
    const none = await post(`${server.url}/score`, body)
    expect(none.status).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Bearer')
    expect((await post(`${server.url}/score`, body, {authorization: 'Bearer wrong'})).status).toBe(401)
    expect((await get(`${server.url}/ready`)).status).toBe(200)
    const ok = await post(`${server.url}/score`, body, {authorization: 'Bearer sekrit', 'azureml-model-deployment': 'blue', 'x-request-id': 'req-1'})
    expect(ok.status).toBe(200)
    expect(ok.headers['azureml-model-deployment']).toBe('blue')
    expect(ok.headers['x-request-id']).toBe('req-1')
    expect(log.at(-1)).toMatchObject({request_id: 'req-1', deployment: 'blue', status: 200})
  })
})

describe('serve: every bound has its status, and the server stays up after each', () => {
  it('400: bad JSON, a bad body shape, bad base64, and an undecodable image named by its index', async () => {
    const {server} = await serve()
    const badJson = await post(`${server.url}/score`, '{"input_data": [')
    expect(badJson.status).toBe(400)
    expect(errorOf(badJson).message).toMatch(/not valid JSON/)
    const shape = await post(`${server.url}/score`, {data: []})
    expect(shape.status).toBe(400)
    expect(errorOf(shape).message).toMatch(/input_data: missing/)
    const b64 = await post(`${server.url}/score`, {input_data: [digits[0].b64, '***']})
    expect(errorOf(b64).message).toMatch(/input_data\[1\]: not valid base64/)
    const truncated = (await readFile(join(ODD_IMAGES, 'truncated.jpg'))).toString('base64')
    const bad = await post(`${server.url}/score`, {input_data: [digits[0].b64, digits[1].b64, truncated]})
    expect(bad.status).toBe(400)
    expect(errorOf(bad).code).toBe('BadImage')
    expect(errorOf(bad).message).toMatch(/input_data\[2\] \(image 2\): \S/)
    expect(errorOf(bad).message).not.toMatch(/input_data\[[01]\]/)
    await stillServes(server)
  })

  it('404 and 405 for other routes and methods', async () => {
    const {server} = await serve()
    expect((await get(`${server.url}/nope`)).status).toBe(404)
    expect((await get(`${server.url}/score`)).status).toBe(405)
    expect((await post(`${server.url}/ready`, {})).status).toBe(405)
    await stillServes(server)
  })

  it('413: a declared body over the limit, a streamed one, and too many images', async () => {
    const {server} = await serve({maxBodyBytes: 2000, maxImages: 2})
    const big = 'x'.repeat(5000)
    const declared = await raw(`${server.url}/score`, {method: 'POST', headers: {'content-type': 'application/json', 'content-length': '5000'}, chunks: [big]})
    expect(declared.status).toBe(413)
    expect(errorOf(declared).message).toMatch(/5000 bytes, over the limit of 2000/)
    const streamed = await raw(`${server.url}/score`, {method: 'POST', headers: {'content-type': 'application/json'}, chunks: Array.from({length: 10}, () => big.slice(0, 500)), gapMs: 5})
    expect(streamed.status).toBe(413)
    const small = await serve({maxImages: 2})
    const many = await post(`${small.server.url}/score`, {input_data: [digits[0].b64, digits[1].b64, digits[2].b64]})
    expect(many.status).toBe(413)
    expect(errorOf(many).message).toMatch(/3 images in one request, over the limit of 2/)
    await stillServes(server)
    await stillServes(small.server)
  })

  it('408: a request not answered in time (a client that never finishes its body)', async () => {
    const {server, log} = await serve({requestTimeoutMs: 300})
    const started = Date.now()
    const slow = await raw(`${server.url}/score`, {method: 'POST', headers: {'content-type': 'application/json'}, chunks: ['{"input_data": ['], endBody: false})
    expect(slow.status).toBe(408)
    expect(Date.now() - started).toBeGreaterThanOrEqual(280)
    expect(log.at(-1)).toMatchObject({status: 408})
    await stillServes(server)
  })

  it('503 with Retry-After when the queue is full', async () => {
    // A scorer that takes 600 ms: the first request is admitted and stays in the engine; the next finds the queue full.
    const slow = Object.create(scorer) as Scorer
    slow.prepare = async (...args: Parameters<Scorer['prepare']>) => {
      await new Promise((r) => setTimeout(r, 600))
      return scorer.prepare(...args)
    }
    const {server} = await serve({maxQueue: 0, requestTimeoutMs: 2000}, Promise.resolve(slow))
    const holder = post(`${server.url}/score`, {input_data: [digits[0].b64]})
    await new Promise((r) => setTimeout(r, 200))
    const refused = await post(`${server.url}/score`, {input_data: [digits[0].b64]})
    expect(refused.status).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    expect(errorOf(refused).code).toBe('QueueFull')
    expect((await holder).status).toBe(200)
  })
})

describe('serve --allow-urls: http(s) only, bounded, no redirect to another scheme', () => {
  let images: Server
  let base: string
  beforeAll(async () => {
    images = createServer((req, res) => {
      if (req.url === '/seven.png') res.end(digits.find((d) => d.file.startsWith('digit-7'))!.bytes)
      else if (req.url === '/redirect') res.writeHead(302, {location: '/seven.png'}).end()
      else if (req.url === '/to-file') res.writeHead(302, {location: 'file:///etc/passwd'}).end()
      else if (req.url === '/big') res.end(Buffer.alloc(50_000))
      else if (req.url === '/hang') setTimeout(() => res.end('late'), 3000)
      else res.writeHead(404).end()
    })
    await new Promise<void>((r) => images.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(images.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    images.closeAllConnections()
    await new Promise((r) => images.close(r))
  })

  it('fetches URLs (following an http redirect) only when allowed', async () => {
    const off = await serve()
    const refused = await post(`${off.server.url}/score`, {input_data: [`${base}/seven.png`]})
    expect(refused.status).toBe(400)
    expect(errorOf(refused).message).toMatch(/URLs are fetched only with --allow-urls/)
    // The image server is on 127.0.0.1: a private address, fetched only with --allow-private-urls.
    const {server} = await serve({allowUrls: true, urlLimits: {allowPrivate: true}})
    const ok = await post(`${server.url}/score`, {input_data: [`${base}/seven.png`, `${base}/redirect`, digits[3].b64]})
    expect(ok.status, ok.body).toBe(200)
    const r = JSON.parse(ok.body) as Response
    expect(r.map((x) => x[0].label)).toEqual(['7', '7', trueLabel(digits[3].file)])
  })

  it('400 naming the index for a redirect to file:, an oversized image, a 404, a slow server, a file: URL', async () => {
    const {server} = await serve({allowUrls: true, urlLimits: {maxBytes: 10_000, timeoutMs: 400, allowPrivate: true}})
    // One text for every refused or failed fetch (it must not tell a refused redirect, a 404 and a timeout apart).
    const failed = /input_data\[1\]: could not fetch http:\/\/127\.0\.0\.1:\d+\/[\w-]+ \(the address is not allowed/
    const cases: Array<[string, RegExp]> = [
      [`${base}/to-file`, failed],
      [`${base}/big`, /input_data\[1\]: .*over the limit/],
      [`${base}/missing`, failed],
      [`${base}/hang`, failed],
      ['file:///etc/passwd', /input_data\[1\]: only http\(s\) URLs are fetched/],
    ]
    for (const [url, message] of cases) {
      const a = await post(`${server.url}/score`, {input_data: [digits[0].b64, url]})
      expect(a.status, url).toBe(400)
      expect(errorOf(a).message, url).toMatch(message)
    }
    await stillServes(server)
  })
})
