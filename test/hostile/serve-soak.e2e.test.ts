/**
 * Hostile input, serve (issue 13, finding 3): a bounded soak against a real `vitrine serve` process on 127.0.0.1
 * (a separate process because the preprocessing and inference workers exist only in the compiled package, and
 * because the probes must measure a real server's event loop): 300 idle connections, 20 slow uploads and 4 large
 * 16-bit images at once, while a probe loop measures GET /ready and ordinary /score requests keep succeeding.
 *
 * The bound is the issue's, absolute: every /ready answer within 100 ms, excusing only a probe taken at an instant
 * when the machine held a trivial peer process's answer past 100 ms too (at most a quarter of them; more is a
 * machine too loaded to measure, a failure). The model is a seeded random ViT made here
 * (hidden 192, 6 layers, 224x224: a forward pass of tens to hundreds of milliseconds, as a real model's is), so
 * that a forward pass on serve's event loop would show in the probes; serve runs it on an inference thread.
 * A trivial Node HTTP server in its own process (the peer) is probed at the same moments, and both series are
 * printed: the peer tells what the shared machine itself added at that instant.
 */
import {readFile} from 'node:fs/promises'
import {type Socket, connect} from 'node:net'
import {join} from 'node:path'

import {execa} from 'execa'
import sharp from 'sharp'
import {describe, expect, it} from 'vitest'

import {vitConfigJson} from '../../src/models/vit/config.js'
import {writeSpreadModelFolder} from '../helpers/spread-model.js'
import {tempDir} from '../helpers/tmp.js'
import {DIGITS_DIR, digitFiles} from '../runner/digits.js'
import {post, raw} from '../runner/http.js'
import {startServeProcess} from '../runner/serve-process.js'

/** Every /ready answer within this, as the issue states it. */
const PROBE_BOUND_MS = 100

/**
 * `node -e PROBE_LOOP READY_URL PEER_URL MS`: GETs both URLs at once (each on a new connection, as a load balancer's
 * probe) every 50 ms for MS ms, then prints [{at, ready, peer}] in ms (Infinity for an answer other than 200, which
 * JSON prints as null).
 */
const PROBE_LOOP = `
const http = require('http')
const [ready, peer, ms] = process.argv.slice(1)
const timed = (url) => new Promise((resolve) => {
  const t0 = performance.now()
  const req = http.get(url, {agent: false}, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : null)) })
  req.on('error', () => resolve(null))
  req.setTimeout(10000, () => req.destroy())
})
;(async () => {
  // One unrecorded round first: a cold client's first request measures the client's start-up, not the server.
  await Promise.all([timed(ready), timed(peer)])
  const start = Date.now()
  const out = []
  while (Date.now() - start < Number(ms)) {
    const at = Date.now() - start
    const [r, p] = await Promise.all([timed(ready), timed(peer)])
    out.push({at, ready: r, peer: p})
    await new Promise((res) => setTimeout(res, 50))
  }
  console.log(JSON.stringify(out))
})()
`

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('finding 3: serve can be taken down cheaply', () => {
  it('soak: 300 idle connections, 20 slow uploads, 4 large images at once; every /ready within 100 ms, /score keeps working', async () => {
    // A 3000x3000 16-bit RGB PNG: a few KB on the wire, 9 M pixels (54 MB of samples) to decode.
    const large = await sharp({create: {width: 3000, height: 3000, channels: 3, background: {r: 40, g: 90, b: 200}}}).toColourspace('rgb16').png({compressionLevel: 9}).toBuffer()
    expect(large.length).toBeLessThan(200_000)
    const largeBody = JSON.stringify({input_data: [large.toString('base64')]})
    const files = digitFiles()
    const digitBodies = await Promise.all(files.map(async (f) => JSON.stringify({input_data: [(await readFile(join(DIGITS_DIR, f))).toString('base64')]})))

    const peer = execa('node', ['-e', "const s=require('http').createServer((q,r)=>r.end('ok')).listen(0,'127.0.0.1',()=>console.log(s.address().port))"], {reject: false})
    const peerPort = await new Promise<number>((resolve) => peer.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))))
    const model = await writeSpreadModelFolder(join(await tempDir(), 'model'), {
      ...vitConfigJson({hidden: 192, layers: 6, heads: 3, intermediate: 768, image: 224, patch: 16, channels: 3, qkvBias: true, layerNormEps: 1e-12}),
      num_labels: 10,
    })
    const server = await startServeProcess(['-m', model, '--threads', '1', '--header-timeout', '2000', '--body-timeout', '3000'])
    const {port} = new URL(server.url)
    const idle: Socket[] = []
    try {
      // Each digit's answer on the idle server: the answers under load must be the same.
      const want: string[] = []
      for (const body of digitBodies) {
        const a = await post(`${server.url}/score`, body)
        expect(a.status, a.body).toBe(200)
        want.push(a.body)
      }
      // 300 connections that never send a byte.
      let idleClosed = 0
      for (let i = 0; i < 300; i++) {
        const s = connect(Number(port), '127.0.0.1')
        s.on('error', () => undefined)
        s.on('close', () => idleClosed++)
        idle.push(s)
      }
      // 20 uploads that declare 100 kB and send 16 bytes every 250 ms.
      const chunk = '{"input_data": [' + ' '.repeat(16)
      const slow = Array.from({length: 20}, () =>
        raw(`${server.url}/score`, {method: 'POST', headers: {'content-type': 'application/json', 'content-length': '100000'}, chunks: Array.from({length: 40}, () => chunk.slice(0, 16)), gapMs: 250, endBody: false}).catch(() => ({status: -1, headers: {}, body: ''})),
      )
      await sleep(200)

      const t0 = Date.now()
      const until = t0 + 6000
      // The probe loop in a process of its own, doing nothing else: the latency it measures is the server's (and the
      // machine's), not this test process's, which is busy with the load. Every 50 ms, /ready and the peer at once.
      const prober = execa('node', ['-e', PROBE_LOOP, `${server.url}/ready`, `http://127.0.0.1:${peerPort}/`, '6000'], {reject: false})
      const probing = prober.then((r) => JSON.parse(String(r.stdout)) as Array<{at: number; ready: number; peer: number}>)
      const scores: Array<{status: number; right: boolean}> = []
      const scoring = (async () => {
        for (let i = 0; Date.now() < until; i++) {
          const a = await post(`${server.url}/score`, digitBodies[i % files.length])
          const right = a.status === 200 && a.body === want[i % files.length]
          scores.push({status: a.status, right})
          await sleep(100)
        }
      })()
      const largeAt: number[] = []
      const larges = Promise.all(Array.from({length: 4}, () => post(`${server.url}/score`, largeBody).then((a) => (largeAt.push(Date.now() - t0), a))))

      const [bigAnswers, probed] = await Promise.all([larges, probing, scoring])
      const slowAnswers = await Promise.all(slow)
      const probes = probed.map((p) => p.ready)
      const peerProbes = probed.map((p) => p.peer)
      const probeAt = probed.map((p) => p.at)
      const summary = {
        probes: probes.length,
        probe_max_ms: Math.round(Math.max(...probes.map((ms) => ms ?? Number.POSITIVE_INFINITY))),
        peer_probe_max_ms: Math.round(Math.max(...peerProbes.map((ms) => ms ?? Number.POSITIVE_INFINITY))),
        probe_p50_ms: Math.round([...probes].map((ms) => ms ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b)[Math.floor(probes.length / 2)]),
        probes_over_bound: probes.flatMap((ms, i) => (ms === null || ms > PROBE_BOUND_MS ? [`#${i} at ${probeAt[i]} ms: ${ms === null ? 'failed' : Math.round(ms)} (peer ${Math.round(peerProbes[i] ?? -1)})`] : [])),
        scores: scores.length,
        large: bigAnswers.map((a) => a.status),
        large_answered_at_ms: largeAt,
        slow: [...new Set(slowAnswers.map((a) => a.status))],
        idle_closed_by_server: idleClosed,
      }
      console.log(`serve soak: ${JSON.stringify(summary)}`)
      expect(probes.length).toBeGreaterThan(20)
      // Every /ready within 100 ms, absolute. The only probes excused are those taken when the machine itself held a
      // trivial process's answer past the bound (the peer, probed at the same instant); if more than a quarter are,
      // the machine is too loaded to measure and the test fails saying so.
      const excused = probed.filter((p) => p.peer === null || p.peer > PROBE_BOUND_MS).length
      expect(excused, `the peer itself answered late in ${excused} of ${probed.length} probes: the machine is too loaded to measure`).toBeLessThanOrEqual(probed.length / 4)
      const late = probed.filter((p) => (p.ready === null || p.ready > PROBE_BOUND_MS) && p.peer !== null && p.peer <= PROBE_BOUND_MS)
      expect(late.map((p) => `at ${p.at} ms: ${p.ready === null ? 'failed' : Math.round(p.ready)} (peer ${Math.round(p.peer ?? -1)})`)).toEqual([])
      expect(scores.length).toBeGreaterThan(5)
      expect(scores.filter((s) => !s.right)).toEqual([])
      expect(bigAnswers.map((a) => a.status)).toEqual([200, 200, 200, 200])
      // Slow uploads are cut at the body timeout, idle connections at the header timeout: closed in seconds.
      expect(slowAnswers.map((a) => a.status).filter((s) => s !== 408)).toEqual([])
      expect(idleClosed).toBe(300)
    } finally {
      for (const s of idle) s.destroy()
      server.child.kill('SIGTERM')
      peer.kill('SIGTERM')
      await server.child
      await peer
    }
  }, 60_000)
})
