import {execa} from 'execa'
import {fileURLToPath} from 'node:url'

/** The repository root (tests run against the built CLI in dist/, which `npm test` builds first). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs `vitrine ARGS...` as a user would, never throwing on a non-zero exit. */
export async function runCli(
  args: string[],
  options: {cwd?: string; env?: Record<string, string>; input?: string | Uint8Array; timeout?: number} = {},
): Promise<CliResult> {
  const result = await execa('node', [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: {NO_COLOR: '1', ...options.env},
    input: options.input,
    reject: false,
    timeout: options.timeout ?? 60_000,
    stripFinalNewline: false,
  })
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)}
}
