import type {Hook} from '@oclif/core'
import {Errors} from '@oclif/core'

import {ExitCode} from '../../src/core/errors.js'

/** An unknown command is a usage error (exit 2), with the list of commands to pick from. */
const hook: Hook.CommandNotFound = async function (opts) {
  const ids = [...opts.config.commandIDs].sort().join(', ')
  throw new Errors.CLIError(`unknown command '${opts.id}'. Commands: ${ids}`, {exit: ExitCode.Usage})
}

export default hook
