import {describe, expect, it} from 'vitest'

import {describeFsError, EXIT_CODE_DESCRIPTIONS, ExitCode, InvalidInputError, RemoteError, UsageError} from '../../src/core/errors.js'

describe('exit code table', () => {
  it('maps each error class to its code', () => {
    expect(new InvalidInputError('x').exitCode).toBe(1)
    expect(new UsageError('x').exitCode).toBe(2)
    expect(new RemoteError('x').exitCode).toBe(3)
  })

  it('describes every code once', () => {
    const codes = EXIT_CODE_DESCRIPTIONS.map(([c]) => c)
    expect(new Set(codes).size).toBe(codes.length)
    expect(codes.sort()).toEqual(Object.values(ExitCode).sort())
  })

  it('turns ENOENT into a usage error naming the path', () => {
    const err = Object.assign(new Error('nope'), {code: 'ENOENT'})
    const mapped = describeFsError(err, '/x/y')
    expect(mapped?.exitCode).toBe(2)
    expect(mapped?.message).toContain('/x/y')
  })
})
