/** Starts the built `vitrine serve` (end-to-end tier) on a free port and waits until it is ready. */
import {type ResultPromise, execa} from 'execa'

import {e2eBin} from '../helpers/e2e.js'

export interface ServeProcess {
  child: ResultPromise<{reject: false; buffer: true}>
  url: string
  stdout: () => string
  stderr: () => string
}

export async function startServeProcess(args: string[], timeoutMs = 120_000): Promise<ServeProcess> {
  const child = execa('node', [await e2eBin(), 'serve', '--port', '0', ...args], {reject: false, buffer: true, env: {NO_COLOR: '1'}})
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr.on('data', (c: Buffer) => (err += c.toString()))
  const deadline = Date.now() + timeoutMs
  let url: string | undefined
  while (Date.now() < deadline) {
    url ??= /listening on (http:\/\/\S+)/.exec(err)?.[1]
    if (url && /vitrine serve: ready/.test(err)) return {child, url, stdout: () => out, stderr: () => err}
    if (child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`vitrine serve did not become ready:\n${err}`)
}

/** The resident set size of a process, from /proc (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const {readFile} = await import('node:fs/promises')
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)
  if (!kb) throw new Error(`no VmRSS for ${pid}`)
  return Number(kb[1]) * 1024
}
