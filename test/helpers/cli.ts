/// <reference types="vite/client" />
/**
 * `runCli`: runs a vitrine command in this process, on the sources (commands/, cli/, src/ as vitest compiles them,
 * never a possibly stale dist/), as a user's shell would see it: stdout, stderr and the exit code.
 *
 * The command class is imported from commands/ and run with oclif's `Command.run(argv, config)` against the
 * project's oclif Config; an error goes through oclif's own `handle` (its process exit stubbed), so messages and exit
 * codes are the ones the binary prints. For the duration of a run this helper owns the process-wide state a CLI
 * touches — stdout/stderr writes and the console, TTY flags, stdin, environment variables, the working directory,
 * argv and process.exitCode — and restores it afterwards. Runs are serialised (one at a time per test file).
 *
 * A test that needs a real process (signals, kill -9, a server soak, timing of a child) spawns bin/run.js with
 * execa through test/helpers/e2e.ts, which first checks that dist/ is built from the current sources.
 */
import {Console} from 'node:console'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {Readable, Writable} from 'node:stream'
import {fileURLToPath} from 'node:url'

import {Command, Config, Errors, Help, Interfaces} from '@oclif/core'
import {Exit, handle} from '@oclif/core/handle'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The built CLI, for end-to-end tests only (see test/helpers/e2e.ts). */
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface CliOptions {
  cwd?: string
  /** Added to the environment for the run (an empty string sets the variable to empty, as execa does). */
  env?: Record<string, string>
  /** What the command reads on stdin (default: nothing, stdin at its end). */
  input?: string | Uint8Array
  /** Ignored in-process (kept so call sites read the same in both tiers); the test's own timeout applies. */
  timeout?: number
}

type CommandClass = Command.Class
const COMMAND_FILES = import.meta.glob<{default: CommandClass}>('../../commands/**/*.ts')
const require = createRequire(import.meta.url)
// oclif's manifest builder, to render a command's help from its source class (not from dist/'s manifest).
const {cacheCommand} = require(join(ROOT, 'node_modules/@oclif/core/lib/util/cache-command.js')) as {
  cacheCommand(cmd: CommandClass): Promise<Command.Cached>
}

async function loadable(Cmd: CommandClass): Promise<Command.Loadable> {
  return {...(await cacheCommand(Cmd)), load: async () => Cmd}
}

let config: Promise<Config> | undefined
function loadConfig(): Promise<Config> {
  config ??= Config.load({root: ROOT})
  return config
}

/** `['skus', 'refresh', '--region', 'x']` -> the command file commands/skus/refresh.ts, its id and the rest. */
function resolveCommand(args: string[]): {id: string; load?: () => Promise<{default: CommandClass}>; argv: string[]} {
  let words = 0
  while (words < args.length && !args[words].startsWith('-')) words++
  for (let n = Math.min(words, 3); n >= 1; n--) {
    const load = COMMAND_FILES[`../../commands/${args.slice(0, n).join('/')}.ts`] as (() => Promise<{default: CommandClass}>) | undefined
    if (load) return {id: args.slice(0, n).join(':'), load, argv: args.slice(n)}
  }
  return {id: args[0] ?? '', argv: args.slice(1)}
}

let queue: Promise<unknown> = Promise.resolve()

/** Runs `vitrine ARGS...` in-process as a user would, never throwing on a non-zero exit. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const run = queue.then(() => runInProcess(args, options))
  queue = run.catch(() => undefined)
  return run
}

class Capture extends Writable {
  text = ''
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8')
    done()
  }
}

type WriteFn = typeof process.stdout.write

function captureWrite(into: Capture): WriteFn {
  return ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void) => {
    into.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    const done = typeof encoding === 'function' ? encoding : cb
    if (done) queueMicrotask(() => done())
    return true
  }) as WriteFn
}

/** Sets `obj[key]` for the run; returns the undo. */
function override<T extends object>(obj: T, key: PropertyKey, value: unknown): () => void {
  const before = Object.getOwnPropertyDescriptor(obj, key)
  Object.defineProperty(obj, key, {value, configurable: true, writable: true, enumerable: before?.enumerable ?? true})
  return () => {
    if (before) Object.defineProperty(obj, key, before)
    else delete (obj as Record<PropertyKey, unknown>)[key]
  }
}

async function runInProcess(args: string[], options: CliOptions): Promise<CliResult> {
  const cfg = await loadConfig()
  const out = new Capture()
  const err = new Capture()
  const undo: Array<() => void> = []
  const envBefore = new Map<string, string | undefined>()
  const cwdBefore = process.cwd()
  let exitCode: number | undefined
  try {
    for (const [k, v] of Object.entries({NO_COLOR: '1', ...options.env})) {
      envBefore.set(k, process.env[k])
      process.env[k] = v
    }
    process.chdir(options.cwd ?? ROOT)
    undo.push(override(process.stdout, 'write', captureWrite(out)), override(process.stderr, 'write', captureWrite(err)))
    undo.push(override(process.stdout, 'isTTY', false), override(process.stderr, 'isTTY', false))
    undo.push(override(globalThis, 'console', new Console({stdout: out, stderr: err})))
    const stdin = Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)])
    undo.push(override(process, 'stdin', stdin))
    undo.push(override(process, 'argv', [process.argv[0], BIN, ...args]))
    const exit = Exit.exit
    Exit.exit = ((code = 0) => {
      exitCode = code
    }) as typeof Exit.exit
    undo.push(() => {
      Exit.exit = exit
    })
    process.exitCode = undefined
    try {
      await runCommand(cfg, args, out)
      exitCode = Number(process.exitCode ?? 0)
    } catch (error) {
      await handle(error as Error)
    }
  } finally {
    while (undo.length) undo.pop()!()
    process.exitCode = undefined
    process.chdir(cwdBefore)
    for (const [k, v] of envBefore) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  return {exitCode: exitCode ?? 0, stdout: out.text, stderr: err.text}
}

/** What oclif's `run` does with ARGS, with the command classes taken from the sources. */
async function runCommand(cfg: Config, args: string[], out: Capture): Promise<void> {
  if (args.length === 1 && ['--version', '-v'].includes(args[0])) {
    out.text += `${cfg.userAgent}\n`
    return
  }
  const {id, load, argv} = resolveCommand(args)
  if (!load) {
    const hook = (await import('../../cli/hooks/command-not-found.js')).default
    const context: Interfaces.Hook.Context = {
      config: cfg,
      debug() {},
      error(message, options) {
        throw new Errors.CLIError(message instanceof Error ? message.message : message, options)
      },
      exit(code) {
        throw new Errors.ExitError(code ?? 0)
      },
      log: (message) => void process.stdout.write(`${String(message)}\n`),
      warn: (message) => void process.stderr.write(`${String(message)}\n`),
    }
    await hook.call(context, {id, argv, config: cfg, context})
    return
  }
  const Cmd = (await load()).default
  Object.assign(Cmd, {id})
  if (argv.includes('--help') || argv.includes('-h')) {
    const HelpClass = (await import('../../cli/help.js')).default as typeof Help
    await new HelpClass(cfg, cfg.pjson.oclif.helpOptions).showCommandHelp(await loadable(Cmd))
    return
  }
  try {
    await Cmd.run(argv, cfg)
  } catch (error) {
    // A parse error shows the command's help under the message, as oclif does; rendered here from the source class.
    const e = error as {showHelp?: boolean; parse?: unknown}
    if (e.showHelp && e.parse) {
      e.showHelp = false
      const HelpClass = (await import('../../cli/help.js')).default as typeof Help
      await handleWithHelp(error as Error, async () => {
        console.error()
        await new HelpClass(cfg, {...cfg.pjson.oclif.helpOptions, sections: ['flags', 'usage', 'arguments'], sendToStderr: true}).showCommandHelp(await loadable(Cmd))
      })
    }
    throw error
  }
}

/** Prints an error as `handle` does, followed by the help; `handle` then only sets the exit code. */
async function handleWithHelp(error: Error, help: () => Promise<void>): Promise<void> {
  const exit = Exit.exit
  let code: number | undefined
  Exit.exit = ((c = 0) => {
    code = c
  }) as typeof Exit.exit
  try {
    await handle(error)
  } finally {
    Exit.exit = exit
  }
  await help()
  Object.assign(error, {skipOclifErrorHandling: true, oclif: {...(error as {oclif?: object}).oclif, exit: code}})
}
