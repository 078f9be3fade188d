import {Command, Errors} from '@oclif/core'

import {ExitCode, isVitrineError} from '../src/core/errors.js'
import type {Progress} from '../src/core/progress.js'
import {silentProgress} from '../src/core/progress.js'
import {TtyProgress} from './progress.js'

/**
 * The base of every vitrine command: JSON output on (`--json`), user errors printed without a stack and mapped to
 * the exit-code table, progress drawn only on an interactive terminal.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

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
      const message = err.hint ? `${err.message}\nHint: ${err.hint}` : err.message
      const cliError = new Errors.CLIError(message, {exit: err.exitCode})
      // Keep the file and code in --json error output.
      Object.assign(cliError, {file: err.file, exitCode: err.exitCode, kind: err.name})
      return super.catch(cliError)
    }
    // Every command-line parse error is a usage error (exit 2). oclif's exitCodes table misses some of them
    // (e.g. FlagInvalidOptionError for `--from onnx`), which would otherwise exit 1.
    if (err instanceof Errors.CLIError && 'parse' in err) {
      err.oclif.exit = ExitCode.Usage
      return super.catch(err)
    }
    if (err instanceof Errors.CLIError || (err as {oclif?: unknown}).oclif) return super.catch(err)
    // Not a user error: a bug. Say so, keep the stack for the report.
    const bug = new Errors.CLIError(
      `internal error (a bug in vitrine, please report it): ${err.message}\n${err.stack ?? ''}`,
      {exit: ExitCode.Bug},
    )
    return super.catch(bug)
  }
}
