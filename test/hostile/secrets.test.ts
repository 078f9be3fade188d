/**
 * Hostile input, secrets (issue 13, finding 7): a SAS signature planted in what a user hands vitrine never comes
 * back out of any message or output: serve's access log and bodies, score's, batch's and evaluate's stderr and
 * --json (and evaluate's report), generate's errors. (apply's plan and errors: test/hostile/apply.test.ts.)
 */
import {readFile, readdir, writeFile} from 'node:fs/promises'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {Scorer} from '../../src/runner/scorer.js'
import {type AccessLogEntry, startRunnerServer} from '../../src/runner/server.js'
import {ROOT, runCli, type CliResult} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES} from '../helpers/weight-writers.js'
import {post} from '../runner/http.js'

const TINY = join(FIXTURES, 'vit-tiny')
const SIG = 'PlantedSignature0123%2B%3D'
const SAS = `sv=2022-11-02&se=2030-01-01&sp=r&sig=${SIG}`

function expectNoSecret(r: CliResult): void {
  expect(r.stdout).not.toContain(SIG)
  expect(r.stderr).not.toContain(SIG)
}

describe('finding 7: SAS signatures printed', () => {
  it('serve: a failing image URL\'s sig= is in neither the 400 body nor the access log', async () => {
    // A server that answers 404: the fetch fails, and its error is what the body and the log carry.
    const blob = createServer((_req, res) => res.writeHead(404).end())
    await new Promise<void>((resolve) => blob.listen(0, '127.0.0.1', resolve))
    const port = (blob.address() as AddressInfo).port
    const scorer = await Scorer.load(TINY, {threads: 1})
    const log: AccessLogEntry[] = []
    const server = await startRunnerServer(Promise.resolve(scorer), {port: 0, log: (e) => log.push(e), allowUrls: true, urlLimits: {allowPrivate: true}})
    try {
      await server.ready
      const a = await post(`${server.url}/score?code=${SIG}`, {input_data: [`http://127.0.0.1:${port}/c/img.png?${SAS}`]})
      expect(a.status).toBeGreaterThanOrEqual(400)
      expect(a.body).toContain('sig=<redacted>')
      expect(a.body).not.toContain(SIG)
      expect(log).toHaveLength(1)
      expect(log[0].error).toContain('sig=<redacted>')
      expect(JSON.stringify(log)).not.toContain(SIG)
    } finally {
      await server.close()
      scorer.dispose()
      await new Promise<void>((resolve) => blob.close(() => resolve()))
    }
  })

  it('score: an image argument that is a blob URL with its SAS (not a file): stderr and --json redact it', async () => {
    const url = `https://acct.blob.core.windows.net/c/img.png?${SAS}`
    for (const json of [[], ['--json']]) {
      const r = await runCli(['score', '-m', TINY, url, ...json])
      expect(r.exitCode).toBe(2)
      expect(r.stdout + r.stderr).toContain('sig=<redacted>')
      expectNoSecret(r)
    }
  })

  it('batch: an id carrying a SAS, on a row that fails: the summary on stderr and --json redact it', async () => {
    const dir = await tempDir()
    const input = join(dir, 'in.csv')
    await writeFile(input, `id,image\n"https://acct.blob.core.windows.net/c/a.png?${SAS}",not-base64!\n`)
    for (const [i, json] of [[], ['--json']].entries()) {
      const r = await runCli(['batch', '-m', TINY, input, '--out', join(dir, `out${i}.csv`), ...json])
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout + r.stderr).toContain('sig=<redacted>')
      expectNoSecret(r)
    }
  })

  it('evaluate: a row whose image_url is a blob URL with its SAS: stderr, --json and the report redact it', async () => {
    const dir = await tempDir()
    const data = join(dir, 'test.jsonl')
    await writeFile(data, [
      JSON.stringify({image_url: join(FIXTURES, 'images', 'chelsea.png'), label: '0'}),
      JSON.stringify({image_url: `https://acct.blob.core.windows.net/c/b.png?${SAS}`, label: '1'}),
      '',
    ].join('\n'))
    const labels = JSON.parse(await readFile(join(TINY, 'config.json'), 'utf8')) as {id2label: Record<string, string>}
    await writeFile(data, (await readFile(data, 'utf8')).replace('"label":"0"', `"label":${JSON.stringify(labels.id2label['0'])}`).replace('"label":"1"', `"label":${JSON.stringify(labels.id2label['1'])}`))
    for (const [i, json] of [[], ['--json']].entries()) {
      const out = join(dir, `out${i}`)
      const r = await runCli(['evaluate', '-m', TINY, '--data', data, '--out', out, ...json])
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout + r.stderr).toContain('sig=<redacted>')
      expectNoSecret(r)
      for (const f of await readdir(out)) expect(await readFile(join(out, f), 'utf8'), f).not.toContain(SIG)
    }
  })

  it('generate: a --set value carrying a SAS, refused: the error redacts it (stderr and --json)', async () => {
    for (const json of [[], ['--json']]) {
      const r = await runCli(['generate', 'online-endpoint', '--asset', join(ROOT, 'examples/assets/google-vit-base-patch16-224'), '--set', `nosuchfield=https://a.blob.core.windows.net/c?${SAS}`, ...json])
      expect(r.exitCode).toBe(2)
      expect(r.stdout + r.stderr).toContain('sig=<redacted>')
      expectNoSecret(r)
    }
  })
})
