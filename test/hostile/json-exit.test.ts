/**
 * Hostile input (issue 13, finding 8): with --json an internal error must keep its exit code (4, the table's Bug),
 * as it does without --json. A bug is simulated by making convert's library call throw a TypeError, which no user
 * input can otherwise be relied on to do once the bugs found are fixed.
 */
import {describe, expect, it, vi} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {ExitCode} from '../../src/core/errors.js'
import {runCli} from '../helpers/cli.js'

vi.mock('../../src/weights/convert.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/weights/convert.js')>()),
  convertCheckpoint: async () => {
    throw new TypeError("Cannot read properties of undefined (reading 'shape')")
  },
}))

describe('finding 8: with --json, an internal error exits 1 instead of 4', () => {
  it('convert --json on a bug: exit 4, {"error": {"code": 4}} on stdout, no stack in it', async () => {
    const r = await runCli(['convert', 'test/fixtures/vit-tiny', '--out', 'nowhere-written', '--json'])
    expect(r.exitCode).toBe(ExitCode.Bug)
    const json = JSON.parse(r.stdout) as {error: {code: number; message: string}}
    const check = validateWithSchema('error.schema.json', json)
    expect(check.state === 'ok' ? [] : check.issues).toEqual([])
    expect(json.error.code).toBe(ExitCode.Bug)
    expect(json.error.message).toMatch(/^internal error \(a bug in vitrine, please report it\): Cannot read properties/)
    expect(json.error.message).not.toMatch(/\n\s+at /)
  })

  it('the same bug without --json: exit 4, the stack on stderr for the report', async () => {
    const r = await runCli(['convert', 'test/fixtures/vit-tiny', '--out', 'nowhere-written'])
    expect(r.exitCode).toBe(ExitCode.Bug)
    expect(r.stderr).toContain('internal error (a bug in vitrine, please report it)')
  })
})
