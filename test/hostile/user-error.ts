import {isVitrineError} from '../../src/core/errors.js'

/** The rejection of `p`, which must be a user-facing error (never a crash, never success). */
export async function userError(p: Promise<unknown>): Promise<{message: string; exitCode: number}> {
  try {
    await p
  } catch (error) {
    if (!isVitrineError(error)) throw error
    return {message: error.message, exitCode: error.exitCode}
  }
  throw new Error('expected a user error, got success')
}
