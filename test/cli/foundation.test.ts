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

describe('one meaning per flag across verbs', () => {
  it('score has no -r (it is --registry in apply); --request is spelled out', async () => {
    const r = await runCli(['score', '-m', 'test/fixtures/vit-digits', '-r', 'request.json'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('Nonexistent flag: -r')
  })

  it('generate --force no longer means "accept a SKU outside the allow list"', async () => {
    const r = await runCli(['generate', 'online-endpoint', '--asset', 'examples/assets/google-vit-base-patch16-224', '--set', 'instance_type=Standard_DS2_v2', '--force'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('Nonexistent flag: --force')
  })

  it('numbers given to decimal flags are checked at parse time (exit 2)', async () => {
    const t = await runCli(['evaluate', '-m', 'test/fixtures/vit-digits', '-d', 'nowhere.jsonl', '--threshold', 'abc'])
    expect(t.exitCode).toBe(2)
    expect(t.stderr).toContain("'abc' is not a number")
    const p = await runCli(['apply', 'nowhere.yaml', '--poll-interval', '-1'])
    expect(p.exitCode).toBe(2)
    expect(p.stderr).toContain('out of range')
  })
})
