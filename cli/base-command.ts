import {Command, Errors} from '@oclif/core'

import {COMMON_EXIT_CODES, ExitCode, type ExitCodeName, isVitrineError} from '../src/core/errors.js'
import type {Progress} from '../src/core/progress.js'
import {redactSecrets} from '../src/core/redact.js'
import {silentProgress} from '../src/core/progress.js'
import {TtyProgress} from './progress.js'
import {printableLines} from '../src/core/printable.js'

/** The one shape of a `--json` failure (schemas/error.schema.json): the exit code, the message, and what helps. */
export interface JsonError {
  error: {code: number; message: string; hint?: string; file?: string}
}

/** What BaseCommand.catch keeps of a user error for `--json`, beside oclif's own CLIError. */
interface Described {
  vitrine?: JsonError['error']
}

/**
 * The base of every vitrine command: JSON output on (`--json`), user errors printed without a stack and mapped to
 * the exit-code table, progress drawn only on an interactive terminal.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  /** The exit codes this command can end with (rendered as EXIT CODES by cli/help.ts, from src/core/errors.ts). */
  static exitCodes: readonly ExitCodeName[] = COMMON_EXIT_CODES

  /** Progress for long work: drawn on stderr on a TTY; silent with --json, in CI, or when piped. */
  protected progress(): Progress {
    if (this.jsonEnabled() || process.env.CI || !process.stderr.isTTY) return silentProgress
    return new TtyProgress(process.stderr)
  }

  /** True when human output may use colour. */
  protected get color(): boolean {
    return !this.jsonEnabled() && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (isVitrineError(err)) {
      // The terminal gets the message with control characters shown as escapes; --json the true text.
      const message = printableLines(err.hint ? `${err.message}\nHint: ${err.hint}` : err.message)
      const cliError = new Errors.CLIError(message, {exit: err.exitCode})
      const described: JsonError['error'] = {code: err.exitCode, message: err.message}
      if (err.hint) described.hint = err.hint
      if (err.file) described.file = redactSecrets(err.file)
      return this.fail(Object.assign(cliError, {vitrine: described}))
    }
    // Every command-line parse error is a usage error (exit 2). oclif's exitCodes table misses some of them
    // (e.g. FlagInvalidOptionError for `--from onnx`), which would otherwise exit 1.
    if (err instanceof Errors.CLIError && 'parse' in err) {
      err.oclif.exit = ExitCode.Usage
      return this.fail(err)
    }
    if (err instanceof Errors.CLIError || (err as {oclif?: unknown}).oclif) return this.fail(err as Errors.CLIError)
    // Not a user error: a bug. Say so, keep the stack for the report (on stderr; --json gets the message only).
    // A bug's message may quote anything it met (a URL, an Azure answer): redacted like every user error's.
    const message = redactSecrets(`internal error (a bug in vitrine, please report it): ${err.message}`)
    const bug = new Errors.CLIError(printableLines(`${message}\n${redactSecrets(err.stack ?? '')}`), {exit: ExitCode.Bug})
    return this.fail(Object.assign(bug, {vitrine: {code: ExitCode.Bug, message}}))
  }

  /**
   * oclif prints the error (on stderr) and exits with its code; under --json it prints toErrorJson on stdout and
   * returns, so the exit code is set here from the same error.
   */
  private fail(err: Errors.CLIError & Described): Promise<unknown> {
    if (this.jsonEnabled()) process.exitCode = err.oclif?.exit ?? ExitCode.InvalidInput
    return super.catch(err)
  }

  /** `{"error": {"code", "message", "hint"?, "file"?}}` and nothing of oclif's internals. */
  protected override toErrorJson(err: unknown): JsonError {
    const e = err as Errors.CLIError & Described
    if (e.vitrine) return {error: e.vitrine}
    return {error: {code: e.oclif?.exit ?? ExitCode.InvalidInput, message: e.message}}
  }
}
