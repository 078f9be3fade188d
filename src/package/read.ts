import {InvalidInputError} from '../core/errors.js'
import {MAX_JSON_FILE_BYTES, readUserTextFile} from '../core/user-file.js'

/** A user-named text file (regular, size-capped); a path that is not there is a usage error naming it. */
export async function readUserText(file: string, within?: string): Promise<string> {
  return readUserTextFile(file, {maxBytes: MAX_JSON_FILE_BYTES, within})
}

/** Parses text as YAML (`parser`), reporting a syntax error against the file. */
export function parseUserText(text: string, file: string, parser: (text: string) => unknown, kind: 'YAML'): unknown {
  try {
    return parser(text)
  } catch (error) {
    throw new InvalidInputError(`${file}: not valid ${kind} (${(error as Error).message})`, {file})
  }
}
