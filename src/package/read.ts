import {readFile} from 'node:fs/promises'

import {InvalidInputError, describeFsError} from '../core/errors.js'

/** A user-named text file; a path that is not there is a usage error naming it. */
export async function readUserText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw describeFsError(error, file) ?? error
  }
}

/** Parses text as JSON or YAML (`parser`), reporting a syntax error against the file. */
export function parseUserText(text: string, file: string, parser: (text: string) => unknown, kind: 'JSON' | 'YAML'): unknown {
  try {
    return parser(text)
  } catch (error) {
    throw new InvalidInputError(`${file}: not valid ${kind} (${(error as Error).message})`, {file})
  }
}
