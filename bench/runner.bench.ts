/**
 * The local runner's throughput on examples/models/vit-digits: requests/s of `serve` (in-process, 127.0.0.1, a
 * bounded load loop of 400 one-image requests at concurrency 8, queue big enough for no 503) against its peer, the
 * same images scored straight through the Scorer (no HTTP, no JSON, no base64). The ratio is the cost of the
 * endpoint contract.
 */
import {readFile, readdir} from 'node:fs/promises'
import {request} from 'node:http'
import {join} from 'node:path'

import {Scorer} from '../src/runner/scorer.js'
import {startRunnerServer} from '../src/runner/server.js'

const MODEL = 'examples/models/vit-digits'
const DIGITS = 'examples/images/digits'
const REQUESTS = 400
const CONCURRENCY = 8

function postJson(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {method: 'POST', headers: {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body))}}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

export default async function (): Promise<object> {
  const files = (await readdir(DIGITS)).filter((f) => f.endsWith('.png')).sort()
  const images = await Promise.all(files.map(async (f) => new Uint8Array(await readFile(join(DIGITS, f)))))
  const bodies = images.map((b) => JSON.stringify({input_data: [Buffer.from(b).toString('base64')]}))
  const scorer = await Scorer.load(MODEL)

  // Peer: the Scorer alone, one image per call, as many calls.
  await scorer.score([{id: 'warm', bytes: images[0]}])
  let t0 = performance.now()
  for (let i = 0; i < REQUESTS; i++) await scorer.score([{id: String(i), bytes: images[i % images.length]}])
  const directSeconds = (performance.now() - t0) / 1000

  const server = await startRunnerServer(Promise.resolve(scorer), {port: 0, maxQueue: 64})
  const latencies: number[] = []
  const statuses: Record<number, number> = {}
  let next = 0
  t0 = performance.now()
  await Promise.all(
    Array.from({length: CONCURRENCY}, async () => {
      while (next < REQUESTS) {
        const i = next++
        const s = performance.now()
        const status = await postJson(`${server.url}/score`, bodies[i % bodies.length])
        latencies.push(performance.now() - s)
        statuses[status] = (statuses[status] ?? 0) + 1
      }
    }),
  )
  const serveSeconds = (performance.now() - t0) / 1000
  await server.close()
  scorer.dispose()
  latencies.sort((a, b) => a - b)
  const pct = (p: number): number => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1))
  return {
    model: MODEL,
    backend: scorer.backendName,
    threads: scorer.threads,
    requests: REQUESTS,
    concurrency: CONCURRENCY,
    statuses,
    serveRequestsPerSecond: Number((REQUESTS / serveSeconds).toFixed(1)),
    serveP50Ms: pct(0.5),
    serveP99Ms: pct(0.99),
    directImagesPerSecond: Number((REQUESTS / directSeconds).toFixed(1)),
    serveOverDirect: Number((directSeconds / serveSeconds).toFixed(2)),
  }
}
