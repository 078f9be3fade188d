/**
 * `vitrine apply` as CI meets it: a hung ARM ends at --timeout with exit 3, and blob uploads go through the same
 * HTTP(S)_PROXY / NO_PROXY as the ARM calls. These spawn the built CLI with execa rather than runCli: the proxy
 * settings are read from the process environment once per process (core-rest-pipeline's proxy policy), so each case
 * needs a process of its own.
 */
import {createServer, request as httpRequest, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {FakeArm} from '../azure/fake-arm.js'
import {ROOT} from '../helpers/cli.js'
import {e2eBin} from '../helpers/e2e.js'
import {tempDir} from '../helpers/tmp.js'

const FIX = join(ROOT, 'test/azure/fixtures')
const PKG = join(FIX, 'vit-pkg')
const SUB = '00000000-1111-2222-3333-444444444444'
const TOKEN = 'fake-arm-token'

let fake: FakeArm
beforeEach(async () => {
  fake = await FakeArm.start()
})
afterEach(async () => {
  await fake.close()
})

async function apply(args: string[], env: Record<string, string> = {}) {
  const r = await execa('node', [await e2eBin(), 'apply', ...args, '--arm-endpoint', fake.url, '--workspace', 'vit-ws', '--registry', 'vitrine-test', '--poll-interval', '0.01'], {
    cwd: ROOT,
    reject: false,
    timeout: 60_000,
    env: {
      NO_COLOR: '1',
      AZURE_ACCESS_TOKEN: TOKEN,
      AZURE_SUBSCRIPTION_ID: SUB,
      AZURE_RESOURCE_GROUP: 'vit-rg',
      HTTP_PROXY: '',
      HTTPS_PROXY: '',
      ALL_PROXY: '',
      NO_PROXY: '',
      http_proxy: '',
      https_proxy: '',
      no_proxy: '',
      ...env,
    },
  })
  return {exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr)}
}

/** stderr as one line: oclif wraps error messages at the terminal width and prefixes them with ' ›   '. */
function flat(s: string): string {
  return s.replace(/\n? › {3}/g, ' ').replace(/\s+/g, ' ')
}

/** A forward HTTP proxy that records the absolute URLs it is asked for and passes them on. */
async function recordingProxy(): Promise<{server: Server; url: string; seen: string[]}> {
  const seen: string[] = []
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    const up = httpRequest(req.url!, {method: req.method, headers: req.headers}, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen}
}

describe('vitrine apply: the real Azure contract', {timeout: 120_000}, () => {
  it('an ARM that never answers: apply ends under --timeout with exit 3 and says so', async () => {
    fake.fail({path: /\/workspaces\/vit-ws$/, status: 0, hang: true})
    const started = Date.now()
    const r = await apply([join(FIX, 'online-endpoint.yaml'), '--timeout', '2s'])
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(r.exitCode, r.stderr).toBe(3)
    expect(flat(r.stderr)).toMatch(/timed out after 2s \(--timeout\) while reading what exists in Azure; nothing was changed/)
    expect(fake.writes()).toEqual([])
  })

  it('a bad --timeout is a usage error', async () => {
    const r = await apply([join(FIX, 'online-endpoint.yaml'), '--timeout', 'forever'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/--timeout: 'forever' is not a duration/)
  })

  it('blob uploads go through HTTP_PROXY like the ARM calls, and NO_PROXY bypasses it', async () => {
    const proxy = await recordingProxy()
    try {
      const r = await apply([PKG], {HTTP_PROXY: proxy.url})
      expect(r.exitCode, r.stderr).toBe(0)
      expect(proxy.seen.some((s) => s.startsWith(`POST ${fake.url}/subscriptions/`))).toBe(true)
      const blobPuts = proxy.seen.filter((s) => s.startsWith(`PUT ${fake.url}/blob/`))
      expect(blobPuts.length).toBe(fake.blobRequests().length)
      expect(blobPuts.length).toBeGreaterThan(0)

      proxy.seen.length = 0
      fake.clear()
      const again = await apply([PKG, '--plan'], {HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1'})
      expect(again.exitCode, again.stderr).toBe(0)
      expect(fake.requests.length).toBeGreaterThan(0)
      expect(proxy.seen).toEqual([])
    } finally {
      proxy.server.closeAllConnections()
      await new Promise((resolve) => proxy.server.close(resolve))
    }
  })
})

describe('vitrine apply: secrets and credentials', {timeout: 120_000}, () => {
  const WS = `/subscriptions/${SUB}/resourceGroups/vit-rg/providers/Microsoft.MachineLearningServices/workspaces/vit-ws`

  it('a plan over a changed secret environment variable names the key and prints no value, in text and --json', async () => {
    const dir = await tempDir()
    const file = join(dir, 'deployment.yaml')
    await writeFile(
      file,
      (await readFile(join(FIX, 'online-deployment.yaml'), 'utf8')).replace('  WORKER_COUNT: "1"\n', '  WORKER_COUNT: "1"\n  API_KEY: new-secret-value-123\n'),
    )
    const epPath = `${WS}/onlineEndpoints/vit-digits-ep`
    fake.seed(epPath, {id: epPath, name: 'vit-digits-ep', location: 'westeurope', properties: {authMode: 'Key', provisioningState: 'Succeeded', traffic: {}}})
    fake.seed(`${epPath}/deployments/blue`, {
      id: `${epPath}/deployments/blue`,
      name: 'blue',
      location: 'westeurope',
      sku: {name: 'Default', capacity: 1},
      properties: {provisioningState: 'Succeeded', environmentVariables: {WORKER_COUNT: '1', API_KEY: 'old-secret-value-456'}},
    })
    for (const json of [false, true]) {
      const r = await apply([file, '--plan', ...(json ? ['--json'] : [])])
      expect(r.exitCode, r.stderr).toBe(0)
      for (const s of [r.stdout, r.stderr]) {
        expect(s).not.toContain('secret-value')
      }
      if (json) {
        const changes = (JSON.parse(r.stdout) as {resources: Array<{changes: unknown[]}>}).resources[0].changes
        expect(changes).toContainEqual({path: 'properties.environmentVariables.API_KEY', hidden: true})
      } else {
        expect(r.stdout).toContain('properties.environmentVariables.API_KEY: changed (value not shown)')
      }
    }
  })

  it('--auth cli asks az for a token of the tenant AZURE_TENANT_ID names', async () => {
    const bin = await tempDir()
    const argsFile = join(bin, 'args.txt')
    // A stand-in `az` on PATH: records its arguments, answers as `az account get-access-token` does.
    await writeFile(
      join(bin, 'az'),
      `#!/bin/sh\necho "$@" >> '${argsFile}'\necho '{"accessToken": "${TOKEN}", "expiresOn": "2099-01-01 00:00:00.000000", "expires_on": 4070908800, "tenant": "t", "tokenType": "Bearer"}'\n`,
      {mode: 0o755},
    )
    const r = await apply([join(FIX, 'model-remote.yaml'), '--plan', '--auth', 'cli'], {
      AZURE_ACCESS_TOKEN: '',
      AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      PATH: `${bin}:${process.env.PATH}`,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    expect(await readFile(argsFile, 'utf8')).toMatch(/get-access-token .*--tenant 72f988bf-86f1-41af-91ab-2d7cd011db47/)
  })
})
