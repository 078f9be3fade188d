import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {ROOT, runCli} from '../helpers/cli.js'

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

describe('--json errors', () => {
  /** A --json failure: schemas/error.schema.json on stdout, its code the exit code, nothing of oclif's internals. */
  async function jsonError(args: string[], code: number): Promise<{code: number; message: string; hint?: string; file?: string}> {
    const r = await runCli([...args, '--json'])
    expect(r.exitCode, r.stderr).toBe(code)
    const json = JSON.parse(r.stdout) as {error: {code: number; message: string; hint?: string; file?: string}}
    const check = validateWithSchema('error.schema.json', json)
    expect(check.state === 'ok' ? [] : check.issues).toEqual([])
    expect(json.error.code).toBe(code)
    expect(r.stdout).not.toMatch(/"oclif"|"name"|"stack"|"kind"/)
    return json.error
  }

  it('a user error carries code, message, hint and file', async () => {
    const e = await jsonError(['generate', 'online-endpoint', '--asset', 'examples/assets/google-vit-base-patch16-224', '--set', 'instance_type=Standard_DS2_v2'], 1)
    expect(e.message).toContain('is not in google-vit-base-patch16-224\'s inference allow list')
    expect(e.hint).toContain('--allow-sku-outside-list')
    expect(e.file).toContain('google-vit-base-patch16-224')
  })

  it('a missing path is exit 2 naming the file', async () => {
    const e = await jsonError(['verify', 'no/such/package'], 2)
    expect(e.file).toContain('no/such/package')
  })

  it('a parse error (unknown flag, bad option value) is exit 2, also under --json', async () => {
    expect((await jsonError(['validate', '--no-such-flag'], 2)).message).toContain('Nonexistent flag: --no-such-flag')
    expect((await jsonError(['convert', 'x', '--out', 'y', '--from', 'onnx'], 2)).message).toContain('Expected --from=onnx to be one of')
  })
})

describe('help', () => {
  it("renders each command's exit codes from the one table", async () => {
    const apply = await runCli(['apply', '--help'])
    expect(apply.exitCode).toBe(0)
    const section = apply.stdout.slice(apply.stdout.indexOf('EXIT CODES'))
    expect(section.replace(/\s+/g, ' ')).toContain(
      'EXIT CODES 0 success 1 the input is invalid (validation errors, bad weights, bad images) 2 usage error (unknown flag or command, path not found, no Azure credential); `apply --plan --detailed-exitcode`: changes pending 3 a remote service failed (Azure, blob upload, URL fetch) 4 internal error (a bug in vitrine: please report it) 130 interrupted by Ctrl-C (`apply --wait`)',
    )
    const validate = await runCli(['validate', '--help'])
    expect(validate.stdout).toMatch(/EXIT CODES\n {2}0 {2}success\n {2}1 {2}the input is invalid/)
    expect(validate.stdout).not.toContain('130')
  })

  it('no command writes its own exit-code paragraph', async () => {
    const {readdir, readFile} = await import('node:fs/promises')
    const {join} = await import('node:path')
    const offenders: string[] = []
    for (const dir of ['commands', 'commands/skus']) {
      for (const f of await readdir(join(ROOT, dir))) {
        if (!f.endsWith('.ts')) continue
        const text = await readFile(join(ROOT, dir, f), 'utf8')
        if (/Exit codes?:|exitCode = \d|exit: \d|process\.exit\(\d/.test(text)) offenders.push(`${dir}/${f}`)
      }
    }
    expect(offenders).toEqual([])
  })
})
