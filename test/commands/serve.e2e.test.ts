import {createServer} from 'node:net'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {runCli} from '../helpers/cli.js'
import {DIGITS_DIR, DIGITS_MODEL, unwrap} from '../runner/digits.js'
import {get, post, raw} from '../runner/http.js'
import {startServeProcess} from '../runner/serve-process.js'

describe('vitrine serve', () => {
  it('SIGTERM finishes the request in flight, then exits 0; JSON access log lines with latency on stdout', async () => {
    const server = await startServeProcess(['-m', DIGITS_MODEL, '--threads', '1'])
    const b64 = (await readFile(join(DIGITS_DIR, 'digit-7-0182.png'))).toString('base64')
    expect((await get(`${server.url}/ready`)).status).toBe(200)
    // A request in flight: its body arrives in pieces, the SIGTERM lands between them.
    const body = JSON.stringify({input_data: [b64]})
    const pieces = [body.slice(0, 10), body.slice(10, 200), body.slice(200)]
    const inFlight = raw(`${server.url}/score`, {method: 'POST', headers: {'content-type': 'application/json', 'content-length': String(body.length)}, chunks: pieces, gapMs: 400})
    await new Promise((r) => setTimeout(r, 200))
    server.child.kill('SIGTERM')
    const answer = await inFlight
    expect(answer.status, answer.body).toBe(200)
    expect((JSON.parse(answer.body) as Array<Array<{label: string}>>)[0][0].label).toBe('7')
    const done = await server.child
    expect(done.exitCode, server.stderr()).toBe(0)
    expect(server.stderr()).toContain('SIGTERM: finishing requests in flight')
    const log = server
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(log.at(-1)).toMatchObject({method: 'POST', path: '/score', status: 200, images: 1})
    expect(log.at(-1)!.latency_ms as number).toBeGreaterThan(700)
    // New connections are refused once it has stopped.
    await expect(get(`${server.url}/`)).rejects.toThrow()
  }, 180_000)

  it('--json: the access log moves to stderr and a summary matching its schema is printed at exit', async () => {
    const server = await startServeProcess(['-m', DIGITS_MODEL, '--threads', '1', '--key', 'k1', '--json'])
    const b64 = (await readFile(join(DIGITS_DIR, 'digit-3-0175.png'))).toString('base64')
    expect((await post(`${server.url}/score`, {input_data: [b64]})).status).toBe(401)
    expect((await post(`${server.url}/score`, {input_data: [b64, b64]}, {authorization: 'Bearer k1'})).status).toBe(200)
    server.child.kill('SIGINT')
    const done = await server.child
    expect(done.exitCode).toBe(0)
    const summary = JSON.parse(server.stdout()) as unknown
    const checked = validateWithSchema('serve-result.schema.json', summary)
    expect(checked.state, JSON.stringify(checked)).toBe('ok')
    expect(summary).toMatchObject({signal: 'SIGINT', requests: 2, images: 2, statuses: {'200': 1, '401': 1}})
    expect(server.stderr()).toMatch(/"status":401/)
  }, 180_000)

  it('exit 2 when the port is taken; the model error when the model does not load', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as {port: number}).port
    try {
      const r = await runCli(['serve', '-m', DIGITS_MODEL, '--port', String(port)])
      expect(r.exitCode).toBe(2)
      expect(unwrap(r.stderr)).toContain(`127.0.0.1:${port} is already in use`)
    } finally {
      blocker.close()
    }
    const bad = await runCli(['serve', '-m', 'no/such/model', '--port', '0'])
    expect(bad.exitCode).toBe(2)
    expect(unwrap(bad.stderr)).toContain('no/such/model: no such file or directory')
  }, 180_000)
})
