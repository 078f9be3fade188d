import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {DIGITS_DIR, digitFiles, DIGITS_MODEL, trueLabel} from './digits.js'
import {post} from './http.js'
import {rssBytes, startServeProcess} from './serve-process.js'

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

// A bounded load test against a real `vitrine serve` process on 127.0.0.1: 500 requests, 16 at a time, a queue of 8
// (so some 503s are intended). Nothing else may fail, and the server's memory must stay flat.
describe('serve under load', () => {
  it('500 requests at concurrency 16: only 200s and the intended 503s, every answer right, memory flat', async () => {
    const files = digitFiles()
    const bodies = await Promise.all(files.map(async (f) => JSON.stringify({input_data: [(await readFile(join(DIGITS_DIR, f))).toString('base64')]})))
    const server = await startServeProcess(['-m', DIGITS_MODEL, '--threads', '1', '--max-queue', '8'])
    const pid = server.child.pid!
    try {
      const statuses = new Map<number, number>()
      const latencies: number[] = []
      let next = 0
      let wrong = 0
      let rssAfterWarmup = 0
      const total = 500
      const worker = async (): Promise<void> => {
        while (next < total) {
          const i = next++
          if (i === 100) rssAfterWarmup = await rssBytes(pid)
          const t0 = performance.now()
          const a = await post(`${server.url}/score`, bodies[i % 20])
          const ms = performance.now() - t0
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1)
          if (a.status === 200) {
            latencies.push(ms)
            const r = JSON.parse(a.body) as Array<Array<{label: string}>>
            if (r[0][0].label !== trueLabel(files[i % 20])) wrong++
          }
        }
      }
      await Promise.all(Array.from({length: 16}, worker))
      const rssEnd = await rssBytes(pid)
      latencies.sort((a, b) => a - b)
      const summary = {
        statuses: Object.fromEntries(statuses),
        p50_ms: Math.round(percentile(latencies, 50)),
        p99_ms: Math.round(percentile(latencies, 99)),
        rss_after_100_mb: Math.round(rssAfterWarmup / 2 ** 20),
        rss_end_mb: Math.round(rssEnd / 2 ** 20),
      }
      console.log(`serve load test: ${JSON.stringify(summary)}`)
      expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([])
      expect(statuses.get(200) ?? 0).toBeGreaterThan(100)
      expect(wrong).toBe(0)
      expect((statuses.get(200) ?? 0) + (statuses.get(503) ?? 0)).toBe(total)
      // Flat: 400 more requests may not grow the process by more than 32 MiB.
      expect(rssEnd - rssAfterWarmup).toBeLessThan(32 * 2 ** 20)
    } finally {
      server.child.kill('SIGTERM')
      await server.child
    }
  }, 300_000)
})
