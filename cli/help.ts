/**
 * vitrine's help: oclif's, plus an EXIT CODES section per command rendered from the one exit-code table
 * (src/core/errors.ts) and the codes the command declares (`static exitCodes`), so no command writes its own.
 */
import {type Command, CommandHelp, Help} from '@oclif/core'

import {COMMON_EXIT_CODES, type ExitCodeName, exitCodeRows} from '../src/core/errors.js'

class VitrineCommandHelp extends CommandHelp {
  protected override sections(): ReturnType<CommandHelp['sections']> {
    const names = (this.command as Command.Cached & {exitCodes?: readonly ExitCodeName[]}).exitCodes ?? COMMON_EXIT_CODES
    return [
      ...super.sections(),
      {header: 'EXIT CODES', generate: () => this.renderList(exitCodeRows(names).map(([code, meaning]) => [String(code), meaning]), {indentation: 2})},
    ]
  }
}

export default class VitrineHelp extends Help {
  protected override getCommandHelpClass(command: Command.Loadable): CommandHelp {
    return new VitrineCommandHelp(command, this.config, this.opts)
  }
}
