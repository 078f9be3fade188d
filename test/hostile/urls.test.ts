/**
 * Hostile input, `--allow-urls` (issue 13, finding 4): internal addresses are refused after resolution, at connect
 * time and on every redirect, and every refused or failed fetch reads the same. Servers on 127.0.0.1 only.
 */
import {type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {isVitrineError} from '../../src/core/errors.js'
import {isPublicAddress} from '../../src/runner/address.js'
import {fetchImageUrl} from '../../src/runner/fetch-url.js'

async function fetchError(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (error) {
    if (!isVitrineError(error)) throw error
    return error.message
  }
  throw new Error('expected the fetch to fail')
}

describe('finding 4: --allow-urls fetches internal addresses', () => {
  it('classifies loopback, private, link-local, unique-local, unspecified and their IPv6-mapped forms as not public', () => {
    const internal = [
      '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '0.0.0.0',
      '100.64.0.1', '224.0.0.1', '255.255.255.255',
      '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', 'ff02::1',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::ffff:10.0.0.1', '::127.0.0.1',
      '64:ff9b::a9fe:a9fe', '2002:7f00:1::1', '2002:c0a8:101::', 'not-an-ip',
    ]
    const external = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']
    expect(internal.filter((ip) => isPublicAddress(ip))).toEqual([])
    expect(external.filter((ip) => !isPublicAddress(ip))).toEqual([])
  })

  let server: Server
  let port = 0
  let connections = 0
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hop') res.writeHead(302, {location: `http://localhost:${port}/secret`}).end()
      else if (req.url === '/hop-literal') res.writeHead(302, {location: `http://127.0.0.1:${port}/secret`}).end()
      else if (req.url === '/secret') res.end('internal data')
      else res.writeHead(404).end()
    })
    server.on('connection', () => connections++)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  it('refuses loopback by IP, by name, in hex, decimal and IPv6 forms before connecting, with one error text', async () => {
    const before = connections
    const urls = [
      `http://127.0.0.1:${port}/secret`,
      `http://localhost:${port}/secret`,
      `http://0x7f000001:${port}/secret`,
      `http://2130706433:${port}/secret`,
      `http://0177.0.0.1:${port}/secret`,
      `http://[::1]:${port}/secret`,
      `http://[::ffff:127.0.0.1]:${port}/secret`,
      `http://169.254.169.254/metadata/instance?api-version=2021-02-01`,
      `http://10.0.0.1:${port}/secret`,
    ]
    const messages = await Promise.all(urls.map((u) => fetchError(fetchImageUrl(u, 'input_data[0]', {timeoutMs: 2000}))))
    expect(connections, 'no connection reached the internal server').toBe(before)
    const shapes = new Set(messages.map((m, i) => m.replace(urls[i], 'URL')))
    expect([...shapes]).toEqual(['input_data[0]: could not fetch URL (the address is not allowed, did not answer in time, or did not answer 200 with an image)'])
  })

  it('checks every redirect: an allowed first hop cannot redirect to a refused address (by name or literal)', async () => {
    // The policy allows the first connection only, standing in for "a public server" on 127.0.0.1.
    for (const path of ['/hop', '/hop-literal']) {
      let checks = 0
      const firstOnly = (): boolean => ++checks === 1
      const before = connections
      const m = await fetchError(fetchImageUrl(`http://127.0.0.1:${port}${path}`, 'input_data[0]', {timeoutMs: 2000}, firstOnly))
      expect(m).toMatch(/could not fetch/)
      expect(checks, path).toBe(2)
      expect(connections - before, `${path}: only the first hop connected`).toBe(1)
    }
  })

  it('an open port, a closed port and a 404 read the same with --allow-private-urls too', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port
        s.close(() => resolve(p))
      })
    })
    const urls = [`http://127.0.0.1:${closed}/a.png`, `http://127.0.0.1:${port}/missing`]
    const messages = await Promise.all(urls.map((u) => fetchError(fetchImageUrl(u, 'f', {timeoutMs: 2000, allowPrivate: true}))))
    expect(new Set(messages.map((m, i) => m.replace(urls[i], 'URL'))).size).toBe(1)
    // And with --allow-private-urls the internal server is reachable (the flag does what it says).
    expect(Buffer.from(await fetchImageUrl(`http://localhost:${port}/secret`, 'f', {allowPrivate: true})).toString()).toBe('internal data')
  })

  it('finding 7: a failing image URL\'s SAS sig= never appears in the error (serve\'s 400 body and log, score\'s stderr and --json carry this text)', async () => {
    const url = `http://127.0.0.1:${port}/missing.png?sv=2022-11-02&se=2030-01-01&sp=r&sig=SuperSecretSignature%3D`
    for (const allowPrivate of [false, true]) {
      const m = await fetchError(fetchImageUrl(url, 'input_data[0]', {timeoutMs: 2000, allowPrivate}))
      expect(m).toContain('sig=<redacted>')
      expect(m).not.toContain('SuperSecretSignature')
    }
  })
})
