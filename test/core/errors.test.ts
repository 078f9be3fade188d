import {describe, expect, it} from 'vitest'

import {readFile} from 'node:fs/promises'

import {describeFsError, EXIT_CODE_MEANINGS, ExitCode, exitCodeRows, InvalidInputError, RemoteError, UsageError} from '../../src/core/errors.js'

describe('exit code table', () => {
  it('maps each error class to its code', () => {
    expect(new InvalidInputError('x').exitCode).toBe(1)
    expect(new UsageError('x').exitCode).toBe(2)
    expect(new RemoteError('x').exitCode).toBe(3)
  })

  it('describes every code, one row per code', () => {
    expect(Object.keys(EXIT_CODE_MEANINGS).sort()).toEqual(Object.keys(ExitCode).sort())
    expect(exitCodeRows().map(([c]) => c)).toEqual([0, 1, 2, 3, 4, 130])
    expect(exitCodeRows(['Usage', 'Ok', 'ChangesPending'])).toEqual([
      [0, 'success'],
      [2, 'usage error (unknown flag or command, path not found, no Azure credential); `apply --plan --detailed-exitcode`: changes pending'],
    ])
  })

  it("README's exit-code table is the table", async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
    const section = readme.slice(readme.indexOf('## Exit codes'))
    const rows = [...section.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2]])
    expect(rows).toEqual(exitCodeRows())
  })

  it('turns ENOENT into a usage error naming the path', () => {
    const err = Object.assign(new Error('nope'), {code: 'ENOENT'})
    const mapped = describeFsError(err, '/x/y')
    expect(mapped?.exitCode).toBe(2)
    expect(mapped?.message).toContain('/x/y')
  })
})
