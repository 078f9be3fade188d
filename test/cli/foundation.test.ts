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

describe('usage errors', () => {
  it('an invalid option value is exit 2, like an unknown flag', async () => {
    const bad = await runCli(['convert', 'test/fixtures/vit-geom', '--out', '/tmp/never-written', '--from', 'onnx'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('Expected --from=onnx to be one of')
    const unknown = await runCli(['validate', '--no-such-flag'])
    expect(unknown.exitCode).toBe(2)
  })
})
