import {describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'

describe('vitrine CLI foundation', () => {
  it('an unknown command is a usage error (exit 2) without a stack trace', async () => {
    const r = await runCli(['no-such-command'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain("unknown command 'no-such-command'")
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('prints its version', async () => {
    const r = await runCli(['--version'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^vitrine\/\d+\.\d+\.\d+/)
  })
})
