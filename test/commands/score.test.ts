import {readFile, writeFile} from 'node:fs/promises'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'
import {DIGITS_DIR, DIGITS_MODEL, ODD_IMAGES, digitFiles, expectedDigits, trueLabel, unwrap} from '../runner/digits.js'

type Response = Array<Array<{label: string; score: number}>>

function parseResponse(stdout: string): Response {
  const data = JSON.parse(stdout) as unknown
  const checked = validateWithSchema<Response>('score-result.schema.json', data)
  if (checked.state !== 'ok') throw new Error(`score --json does not match its schema: ${JSON.stringify(checked.issues)}`)
  return checked.data
}

describe('vitrine score', () => {
  it('scores the 20 sample digits of a folder: all right, with the engine test numbers (PyTorch within 1e-5)', async () => {
    const r = await runCli(['score', '--model', DIGITS_MODEL, DIGITS_DIR, '--top-k', '3', '--threads', '1', '--json'])
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const response = parseResponse(r.stdout)
    const files = digitFiles()
    const expected = expectedDigits()
    expect(response).toHaveLength(20)
    for (const [i, f] of files.entries()) {
      const want = expected.get(f)!
      expect(response[i][0].label, f).toBe(trueLabel(f))
      expect(response[i].map((p) => p.label), f).toEqual(want.top.map((p) => p.label))
      for (const [k, p] of response[i].entries()) expect(Math.abs(p.score - want.top[k].score), f).toBeLessThan(1e-5)
    }
  })

  it('answers a request file in both body forms (and from stdin) exactly as it scores the files', async () => {
    const dir = await tempDir()
    const files = digitFiles().slice(0, 4)
    const b64 = await Promise.all(files.map(async (f) => (await readFile(join(DIGITS_DIR, f))).toString('base64')))
    const current = join(dir, 'current.json')
    const split = join(dir, 'split.json')
    await writeFile(current, JSON.stringify({input_data: b64}))
    await writeFile(split, JSON.stringify({input_data: {columns: ['image'], index: [0, 1, 2, 3], data: b64.map((x) => [x])}}))

    const fromFiles = await runCli(['score', '-m', DIGITS_MODEL, ...files.map((f) => join(DIGITS_DIR, f)), '--json'])
    const fromCurrent = await runCli(['score', '-m', DIGITS_MODEL, '--request', current, '--json'])
    const fromSplit = await runCli(['score', '-m', DIGITS_MODEL, '--request', split, '--json'])
    const fromStdin = await runCli(['score', '-m', DIGITS_MODEL, '--request', '-', '--json'], {input: await readFile(current)})
    for (const r of [fromFiles, fromCurrent, fromSplit, fromStdin]) expect(r.exitCode, r.stderr).toBe(0)
    const want = parseResponse(fromFiles.stdout)
    expect(want).toHaveLength(4)
    expect(want[0]).toHaveLength(5)
    expect(parseResponse(fromCurrent.stdout)).toEqual(want)
    expect(parseResponse(fromSplit.stdout)).toEqual(want)
    expect(parseResponse(fromStdin.stdout)).toEqual(want)
  })

  it('prints a table without --json', async () => {
    const r = await runCli(['score', '-m', DIGITS_MODEL, join(DIGITS_DIR, 'digit-7-0182.png'), '-k', '2'])
    expect(r.exitCode).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toBe(join(DIGITS_DIR, 'digit-7-0182.png'))
    expect(lines[1]).toMatch(/^ {2}7\s+0\.99\d\d\s+█+/)
    expect(lines).toHaveLength(3)
  })

  it('fails (exit 1) naming the image that does not decode, and says which did', async () => {
    const r = await runCli(['score', '-m', DIGITS_MODEL, join(DIGITS_DIR, 'digit-7-0182.png'), join(ODD_IMAGES, 'truncated.jpg')])
    expect(r.exitCode).toBe(1)
    expect(unwrap(r.stderr)).toContain('1 of 2 images could not be scored')
    expect(r.stderr).toContain('truncated.jpg')
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/)
    expect(r.stdout).toBe('')
  })

  it('exit 2 for a missing path or no input; exit 1 naming the field of a bad request', async () => {
    const missing = await runCli(['score', '-m', DIGITS_MODEL, 'no/such.png'])
    expect(missing.exitCode).toBe(2)
    expect(unwrap(missing.stderr)).toContain('no/such.png: no such file or directory')
    expect((await runCli(['score', '-m', DIGITS_MODEL])).exitCode).toBe(2)
    const noModel = await runCli(['score', '-m', 'no/model', join(DIGITS_DIR, 'digit-7-0182.png')])
    expect(noModel.exitCode).toBe(2)
    const dir = await tempDir()
    const bad = join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({input_data: ['iVBORw0KGgo=', 'not base64 at all!']}))
    const r = await runCli(['score', '-m', DIGITS_MODEL, '--request', bad])
    expect(r.exitCode).toBe(1)
    expect(unwrap(r.stderr)).toContain('bad.json: input_data[1]: not valid base64')
  })

  it('fetches http(s) URLs of a request only with --allow-urls (a local server on 127.0.0.1)', async () => {
    const png = await readFile(join(DIGITS_DIR, 'digit-4-1567.png'))
    const server = createServer((req, res) => (req.url === '/four.png' ? res.end(png) : res.writeHead(404).end()))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const dir = await tempDir()
      const request = join(dir, 'urls.json')
      await writeFile(request, JSON.stringify({input_data: [`${base}/four.png`]}))
      const refused = await runCli(['score', '-m', DIGITS_MODEL, '--request', request])
      expect(refused.exitCode).toBe(1)
      expect(unwrap(refused.stderr)).toContain('input_data[0]: is a URL; URLs are fetched only with --allow-urls')
      // The server is on 127.0.0.1, a private address: fetched only with --allow-private-urls.
      const ok = await runCli(['score', '-m', DIGITS_MODEL, '--request', request, '--allow-urls', '--allow-private-urls', '--json'])
      expect(ok.exitCode, ok.stderr).toBe(0)
      expect(parseResponse(ok.stdout)[0][0].label).toBe('4')
      await writeFile(request, JSON.stringify({input_data: [`${base}/missing.png`]}))
      const missing = await runCli(['score', '-m', DIGITS_MODEL, '--request', request, '--allow-urls', '--allow-private-urls'])
      expect(missing.exitCode, 'a URL that fails is a remote failure').toBe(3)
      expect(unwrap(missing.stderr)).toMatch(/input_data\[0\]: could not fetch .*missing\.png/)
    } finally {
      server.close()
    }
  })
})
