/**
 * The one rule for every output a command writes (convert, package, batch, evaluate, finetune, ...):
 * - an existing non-empty file or folder is never replaced or deleted without `--force` (an empty one may be);
 * - an output is never one of the inputs, nor a folder holding one (replacing it would destroy what is read), whatever
 *   `--force` says, and symlinks or `..` do not hide the fact.
 */
import {lstat, readdir, realpath} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'

import {UsageError, describeFsError} from './errors.js'
import {isInside} from './user-file.js'

export interface OutputCheck {
  /** What the output is, for messages: `--out`. */
  flag?: string
  /** 'file' or 'dir': an existing path of the other kind is refused. */
  kind: 'file' | 'dir'
  /** Every path the command reads (files or folders). */
  inputs: readonly string[]
  /** `--force`: replace a non-empty output. */
  force: boolean
  /** Files that may exist beside or instead of the output without counting as "non-empty" (batch's `--resume`). */
  allowExisting?: boolean
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest (the output may not exist yet). */
async function realish(path: string): Promise<string> {
  const abs = resolve(path)
  try {
    return await realpath(abs)
  } catch {
    const parent = dirname(abs)
    if (parent === abs) return abs
    return join(await realish(parent), basename(abs))
  }
}

/** Refuses `out` under the rules above; call it before any work whose result would be lost. */
export async function checkOutputPath(out: string, check: OutputCheck): Promise<void> {
  const flag = check.flag ?? '--out'
  const outReal = await realish(out)
  for (const input of check.inputs) {
    const inReal = await realish(input)
    if (inReal === outReal || (check.kind === 'dir' && isInside(inReal, outReal))) {
      throw new UsageError(`${flag} ${out} would replace the source ${input}${inReal === outReal ? '' : ' (it holds it)'}: choose another output`, {file: out})
    }
  }
  let st
  try {
    st = await lstat(out)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw describeFsError(error, out) ?? error
  }
  if (check.kind === 'dir' && !st.isDirectory()) throw new UsageError(`${flag} ${out} exists and is not a folder`, {file: out})
  if (check.kind === 'file' && !st.isFile()) throw new UsageError(`${flag} ${out} exists and is not a regular file`, {file: out})
  if (check.force || check.allowExisting) return
  const empty = st.isDirectory() ? (await readdir(out)).length === 0 : st.size === 0
  if (!empty) throw new UsageError(`${flag} ${out} exists and is not empty`, {file: out, hint: 'Pass --force to replace it, or choose a new path.'})
}
