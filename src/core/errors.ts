/**
 * The one table of exit codes every vitrine command uses, and the error classes that carry them.
 *
 * A `VitrineError` is a user-facing failure: its message is printed as is (no stack trace) and the process exits
 * with its code. Anything else that escapes a command is a bug in vitrine and exits with `ExitCode.Bug`.
 */
import {redactSecrets} from './redact.js'

export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** The input is invalid: validation errors, bad weights, bad images, a bad YAML value. */
  InvalidInput: 1,
  /** Usage error: unknown flag or command, missing argument, path not found. */
  Usage: 2,
  /** `apply --plan --detailed-exitcode`: changes are pending (2, as terraform's -detailed-exitcode). */
  ChangesPending: 2,
  /** A remote service failed (Azure, a blob store, a URL). */
  Remote: 3,
  /** An internal error: a bug in vitrine, reported with its stack. */
  Bug: 4,
  /** Ctrl-C stopped the command (128 + SIGINT, as shells report it). */
  Interrupted: 130,
} as const
export type ExitCodeName = keyof typeof ExitCode
export type ExitCode = (typeof ExitCode)[ExitCodeName]

/** What each exit code means to a user: rendered into every command's help (EXIT CODES) and README's table. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCodeName, string>> = {
  Ok: 'success',
  InvalidInput: 'the input is invalid (validation errors, bad weights, bad images)',
  Usage: 'usage error (unknown flag or command, path not found, no Azure credential)',
  ChangesPending: '`apply --plan --detailed-exitcode`: changes pending',
  Remote: 'a remote service failed (Azure, blob upload, URL fetch)',
  Bug: 'internal error (a bug in vitrine: please report it)',
  Interrupted: 'interrupted by Ctrl-C (`apply --wait`)',
}

/** The codes every command can end with; each command declares the others it uses (`static exitCodes`). */
export const COMMON_EXIT_CODES: readonly ExitCodeName[] = ['Ok', 'InvalidInput', 'Usage', 'Bug']

/** `[code, meaning]` rows of NAMES in code order, one row per code (meanings of a shared code joined with "; "). */
export function exitCodeRows(names: readonly ExitCodeName[] = Object.keys(ExitCode) as ExitCodeName[]): Array<[number, string]> {
  const byCode = new Map<number, string[]>()
  for (const name of names) byCode.set(ExitCode[name], [...(byCode.get(ExitCode[name]) ?? []), EXIT_CODE_MEANINGS[name]])
  return [...byCode.entries()].sort(([a], [b]) => a - b).map(([code, meanings]) => [code, meanings.join('; ')])
}

export interface VitrineErrorOptions {
  /** The file the error is about, when there is one. */
  file?: string
  /** A hint on how to fix it, printed on its own line. */
  hint?: string
  cause?: unknown
}

/**
 * Base class of every error a user can fix. Never printed with a stack trace. Its message and hint go through the one
 * redaction function when the error is made: whatever a message quotes (an Azure error echoing a SAS URI, a URL a user
 * gave), no stderr line, `--json` error, serve body or log built from it can carry a `sig=`, key or token.
 */
export class VitrineError extends Error {
  readonly exitCode: ExitCode
  readonly file?: string
  readonly hint?: string

  constructor(message: string, exitCode: ExitCode, options: VitrineErrorOptions = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.exitCode = exitCode
    this.file = options.file
    this.hint = options.hint === undefined ? undefined : redactSecrets(options.hint)
  }
}

/** Exit 1: the input (a file, a value, an image, weights) is invalid. */
export class InvalidInputError extends VitrineError {
  constructor(message: string, options: VitrineErrorOptions = {}) {
    super(message, ExitCode.InvalidInput, options)
  }
}

/** Exit 2: the command line is wrong (a path that does not exist, conflicting flags). */
export class UsageError extends VitrineError {
  constructor(message: string, options: VitrineErrorOptions = {}) {
    super(message, ExitCode.Usage, options)
  }
}

/** Exit 3: a remote service failed. */
export class RemoteError extends VitrineError {
  readonly status?: number
  readonly code?: string
  constructor(message: string, options: VitrineErrorOptions & {status?: number; code?: string} = {}) {
    super(message, ExitCode.Remote, options)
    this.status = options.status
    this.code = options.code
  }
}

export function isVitrineError(err: unknown): err is VitrineError {
  return err instanceof VitrineError
}

/** Node's filesystem errors that mean "the user named something that is not there / not usable". */
export function describeFsError(err: unknown, path: string): VitrineError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ENOENT':
      return new UsageError(`${path}: no such file or directory`, {file: path})
    case 'EISDIR':
      return new UsageError(`${path}: is a directory, expected a file`, {file: path})
    case 'ENOTDIR':
      return new UsageError(`${path}: is not a directory`, {file: path})
    case 'EACCES':
    case 'EPERM':
      return new UsageError(`${path}: permission denied`, {file: path})
    default:
      return undefined
  }
}

/**
 * A user value as a message may show it: strings and numbers quoted and cut to `max` characters; a small list or object
 * as JSON when it fits in `max` characters (`[224,224]`), a larger one only described (`a list of 3000`, `an
 * object`). Never a recursive serialisation of the whole value: a 200,000-deep or 100 MB value must not end up in a
 * message, or crash making it. Control characters are escaped, so a value cannot forge lines or terminal sequences.
 */
export function previewValue(value: unknown, max = 60): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string': {
      const cut = value.length > max ? `${value.slice(0, max)}...` : value
      return JSON.stringify(cut)
    }
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
    case 'undefined':
      return 'nothing'
    case 'object':
      return compactJson(value, max) ?? (Array.isArray(value) ? `a list of ${value.length}` : 'an object')
    default:
      return `a ${typeof value}`
  }
}

/** Nesting compactJson walks at most (its recursion is bounded by this, not by the value). */
const PREVIEW_DEPTH = 8

/** `value` as JSON when it fits in `max` characters, else undefined; stops as soon as it cannot fit. */
function compactJson(value: unknown, max: number): string | undefined {
  let out = ''
  const put = (text: string): boolean => {
    out += text
    return out.length <= max
  }
  const walk = (v: unknown, depth: number): boolean => {
    if (depth > PREVIEW_DEPTH) return false
    if (v === null || typeof v === 'boolean') return put(String(v))
    if (typeof v === 'number') return put(Number.isFinite(v) ? String(v) : 'null')
    if (typeof v === 'string') return v.length <= max && put(JSON.stringify(v))
    if (Array.isArray(v)) {
      if (!put('[')) return false
      for (let i = 0; i < v.length; i++) if ((i > 0 && !put(',')) || !walk(v[i], depth + 1)) return false
      return put(']')
    }
    if (typeof v === 'object') {
      if (!put('{')) return false
      let first = true
      for (const k in v as Record<string, unknown>) {
        if (!Object.hasOwn(v as object, k)) continue
        if ((!first && !put(',')) || k.length > max || !put(`${JSON.stringify(k)}:`) || !walk((v as Record<string, unknown>)[k], depth + 1)) return false
        first = false
      }
      return put('}')
    }
    return false
  }
  return walk(value, 0) ? out : undefined
}
