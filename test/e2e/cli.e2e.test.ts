/**
 * The built CLI as a user runs it (bin/run.js on dist/, built by `npm test` from the current sources): what only a
 * real process shows — start-up through oclif's manifest and help class, the exit status the shell sees, stdout and
 * stderr as separate pipes.
 */
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {ROOT} from '../helpers/cli.js'
import {e2eBin} from '../helpers/e2e.js'

async function vitrine(args: string[]): Promise<{exitCode: number; stdout: string; stderr: string}> {
  const r = await execa('node', [await e2eBin(), ...args], {cwd: ROOT, env: {NO_COLOR: '1'}, reject: false, timeout: 120_000})
  return {exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr)}
}

describe('the built CLI (end-to-end)', () => {
  it('prints its version', async () => {
    const r = await vitrine(['--version'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^vitrine\/\d+\.\d+\.\d+/)
  })

  it('help lists the exit codes from the table (through the manifest and the help class in dist/)', async () => {
    const r = await vitrine(['skus', 'refresh', '--help'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/EXIT CODES\n {2}0 {2}success\n[\s\S]* {2}3 {2}a remote service failed/)
    expect(r.stdout).toContain('-o, --out=<value>')
    expect(r.stdout).not.toContain('--output')
  })

  it('an unknown command is exit 2 without a stack trace', async () => {
    const r = await vitrine(['no-such-command'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain("unknown command 'no-such-command'")
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('a --json error: the schema on stdout, the exit code from the table', async () => {
    const r = await vitrine(['score', '-m', 'no/such/model', 'examples/images/digits', '--json'])
    expect(r.exitCode).toBe(2)
    const json = JSON.parse(r.stdout) as unknown
    const check = validateWithSchema('error.schema.json', json)
    expect(check.state === 'ok' ? [] : check.issues).toEqual([])
    expect(json).toMatchObject({error: {code: 2}})
  })

  it('scores the README digit as the endpoint would', async () => {
    const r = await vitrine(['score', '-m', 'examples/models/vit-digits', 'examples/images/digits/digit-7-0182.png', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const [[best]] = JSON.parse(r.stdout) as Array<Array<{label: string; score: number}>>
    expect(best.label).toBe('7')
  })
})
