/** `--changed-since REF`: the files git says changed since REF (committed, staged, unstaged and untracked). */
import {resolve} from 'node:path'

import {execa} from 'execa'

import {UsageError} from '../core/errors.js'

async function git(args: string[], cwd: string): Promise<string> {
  const r = await execa('git', args, {cwd, reject: false, stripFinalNewline: false})
  if (r.exitCode !== 0) {
    const msg = String(r.stderr).trim().split('\n')[0] || `git ${args.join(' ')} failed`
    throw new UsageError(`--changed-since: ${msg}`, {hint: 'Give a ref git knows (a branch, tag or commit), inside a git work tree.'})
  }
  return String(r.stdout)
}

/** Absolute paths of the files changed since `ref` in the repository holding `cwd`. */
export async function changedFilesSince(ref: string, cwd: string): Promise<Set<string>> {
  if (ref.startsWith('-')) throw new UsageError(`--changed-since: ${ref} is not a git ref`)
  const top = (await git(['rev-parse', '--show-toplevel'], cwd)).trim()
  await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd).catch(() => {
    throw new UsageError(`--changed-since: unknown git ref ${ref}`, {hint: 'In CI, fetch the base branch first (e.g. git fetch origin main) and pass origin/main.'})
  })
  const diff = await git(['diff', '--name-only', '-z', ref, '--'], top)
  const untracked = await git(['ls-files', '--others', '--exclude-standard', '-z'], top)
  const files = new Set<string>()
  for (const f of [...diff.split('\0'), ...untracked.split('\0')]) if (f) files.add(resolve(top, f))
  return files
}
