/**
 * Runs the steps of the example CI pipelines (examples/ci) and of action.yml on this machine, the way their runners
 * would: each `run`/`script` body through bash with the pipeline's environment, GitHub's GITHUB_ENV / GITHUB_OUTPUT /
 * GITHUB_STEP_SUMMARY files, Azure DevOps' `##vso[task.uploadsummary]`. `vitrine` on PATH is a shim that records
 * each command line and runs this checkout's bin/run.js in a separate process (the scripts are bash: it has to be
 * an executable); `az` is a stand-in for the Azure CLI after azure/login or the AzureCLI task, printing the fake
 * ARM's token. Steps that `uses:` a marketplace action or run an Azure DevOps task are checked by the caller.
 */
import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'

import {BIN} from './cli.js'

export interface StepRun {
  exitCode: number
  stdout: string
  stderr: string
}

export interface Shims {
  /** Directory to put first on PATH. */
  dir: string
  /** One JSON array of arguments per `vitrine` invocation, in order. */
  log: string
}

/** Writes the `vitrine` and `az` shims into DIR. */
export async function writeShims(dir: string, fake: {token: string; subscription: string}): Promise<Shims> {
  await mkdir(dir, {recursive: true})
  const log = join(dir, 'vitrine-calls.jsonl')
  await writeFile(log, '')
  const vitrine = [
    '#!/usr/bin/env bash',
    `node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)) + "\\n")' -- "$@" >> ${JSON.stringify(log)}`,
    `exec node ${JSON.stringify(BIN)} "$@"`,
  ].join('\n')
  // Only the two az calls the pipelines make, answered as az does with --output tsv; anything else fails loudly.
  const az = [
    '#!/usr/bin/env bash',
    'case "$*" in',
    `  "account get-access-token --resource https://management.azure.com/ --query accessToken --output tsv") echo ${JSON.stringify(fake.token)} ;;`,
    `  "account show --query id --output tsv") echo ${JSON.stringify(fake.subscription)} ;;`,
    '  *) echo "az stand-in: unexpected call: az $*" >&2; exit 64 ;;',
    'esac',
  ].join('\n')
  for (const [name, text] of [['vitrine', vitrine], ['az', az]]) {
    await writeFile(join(dir, name), text + '\n')
    await chmod(join(dir, name), 0o755)
  }
  return {dir, log}
}

export async function vitrineCalls(shims: Shims): Promise<string[][]> {
  const text = await readFile(shims.log, 'utf8')
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[])
}

/** Runs one shell body as GitHub (`bash --noprofile --norc -eo pipefail`) or Azure DevOps (`bash --noprofile --norc`) does. */
export async function runBash(body: string, opts: {cwd: string; env: Record<string, string>; flavour: 'github' | 'azure-devops'}): Promise<StepRun> {
  const file = join(opts.env.RUNNER_TEMP ?? opts.cwd, `step-${Math.random().toString(36).slice(2)}.sh`)
  await writeFile(file, body)
  const flags = opts.flavour === 'github' ? ['--noprofile', '--norc', '-eo', 'pipefail'] : ['--noprofile', '--norc']
  const r = await execa('bash', [...flags, file], {cwd: opts.cwd, env: opts.env, extendEnv: false, reject: false, timeout: 300_000})
  return {exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr)}
}

/** `${{ expr }}` replaced from CONTEXT (by the expression's text); an expression the test did not plan for throws. */
export function substituteExpressions(text: string, context: Record<string, string>): string {
  return text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, expr: string) => {
    if (!(expr in context)) throw new Error(`no value for the expression \${{ ${expr} }}`)
    return context[expr]
  })
}

/** KEY=VALUE lines appended to a GitHub command file (GITHUB_ENV, GITHUB_OUTPUT); heredoc form is not used here. */
export async function readCommandFile(file: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

/** The lines of shell bodies that run vitrine (comments and the npm install line aside). */
export function vitrineLines(body: string): string[] {
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => !l.startsWith('#') && /(^|[\s;|&(])vitrine\s/.test(l) && !/npm install/.test(l))
}
