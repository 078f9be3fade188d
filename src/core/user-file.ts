/**
 * The one way vitrine opens a file a user (or a model author) handed it:
 * - regular files only: a FIFO, a socket or a device (`/dev/zero`, a tty) is refused, never read (the file is opened
 *   non-blocking, so even opening a FIFO with no writer cannot hang);
 * - never through a symlink that leaves the folder being read (`within`): a model folder's `config.json` linked to
 *   `~/.azure/credentials` or `/etc/passwd` is refused by name, not read, not copied into a package;
 * - size-capped: a file larger than `maxBytes` is refused from its size before a byte is read;
 * - errors name the file, a byte offset or a size, and never quote the file's content (V8's own JSON.parse messages
 *   do: `Unexpected token 'r', "root:x:0:0"... is not valid JSON`), see parseJsonText.
 */
import {constants, realpathSync} from 'node:fs'
import {type FileHandle, open, realpath} from 'node:fs/promises'
import {isAbsolute, relative, resolve, sep} from 'node:path'

import {InvalidInputError, describeFsError} from './errors.js'

/** JSON files users hand vitrine (configs, labels, manifests) are small; 64 MiB is far above any real one. */
export const MAX_JSON_FILE_BYTES = 64 * 1024 * 1024
/** No config, header or request vitrine reads nests deeper than a few levels. */
export const MAX_JSON_DEPTH = 64
/** Lists read whole (batch CSV/JSONL, evaluation JSONL, request files): 256 MiB. */
export const MAX_LIST_FILE_BYTES = 256 * 1024 * 1024

export interface UserFileOptions {
  /** The folder being read: the file's real path must stay inside it (a symlink that leaves it is refused). */
  within?: string
  /** Refuse a file larger than this, from its size, before reading. */
  maxBytes?: number
}

/** True when `path` (absolute, real) is `dir` or inside it. */
export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path)
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel))
}

/**
 * `rel` resolved against the folder `dir`, when it stays inside it both as written (no `../` out of it, not
 * absolute) and through symlinks; undefined when it leaves. A missing file passes on its written path (reading it
 * then reports it missing). Synchronous, for the YAML of asset folders, which is read synchronously.
 */
export function pathWithin(dir: string, rel: string): string | undefined {
  const abs = resolve(dir, rel)
  if (!isInside(abs, resolve(dir))) return undefined
  let real: string
  try {
    real = realpathSync(abs)
  } catch {
    return abs
  }
  let root: string
  try {
    root = realpathSync(dir)
  } catch {
    root = resolve(dir)
  }
  return isInside(real, root) ? abs : undefined
}

async function realOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path)
  } catch {
    return undefined
  }
}

/**
 * Refuses `path` when it resolves (through symlinks) outside `within`. A missing path passes (the open that follows
 * reports it as missing).
 */
export async function checkWithin(path: string, within: string): Promise<void> {
  const real = await realOrUndefined(path)
  if (real === undefined) return
  const root = (await realOrUndefined(within)) ?? resolve(within)
  if (!isInside(real, root)) {
    throw new InvalidInputError(`${path}: is a symbolic link to a file outside ${within}; refusing to read it (copy the file into the folder instead)`, {file: path})
  }
}

/** Opens a user file for reading under the rules above. The caller closes the handle. */
export async function openUserFile(path: string, options: UserFileOptions = {}): Promise<{fh: FileHandle; size: number}> {
  if (options.within !== undefined) await checkWithin(path, options.within)
  let fh: FileHandle
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw describeFsError(error, path) ?? error
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new InvalidInputError(`${path}: not a regular file (${fileKind(st)}); refusing to read it`, {file: path})
    if (options.maxBytes !== undefined && st.size > options.maxBytes) {
      throw new InvalidInputError(`${path}: ${st.size} bytes, over the limit of ${options.maxBytes} bytes for this file`, {file: path})
    }
    return {fh, size: st.size}
  } catch (error) {
    await fh.close().catch(() => undefined)
    throw error
  }
}

function fileKind(st: {isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean}): string {
  if (st.isFIFO()) return 'a FIFO'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  if (st.isSocket()) return 'a socket'
  if (st.isDirectory()) return 'a directory'
  return 'not a file'
}

/** The whole file, read under the rules above (never more than `maxBytes` + 0 bytes: a file growing while read is cut). */
export async function readUserFile(path: string, options: UserFileOptions = {}): Promise<Buffer> {
  const {fh, size} = await openUserFile(path, options)
  try {
    const cap = options.maxBytes ?? size
    const buf = Buffer.alloc(Math.min(size, cap))
    let done = 0
    while (done < buf.length) {
      const {bytesRead} = await fh.read(buf, done, buf.length - done, done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    return buf.subarray(0, done)
  } finally {
    await fh.close()
  }
}

/** A user text file (UTF-8), read under the rules above. */
export async function readUserTextFile(path: string, options: UserFileOptions = {}): Promise<string> {
  return (await readUserFile(path, options)).toString('utf8')
}

/** Like readUserTextFile, but a missing file is `undefined`. */
export async function readOptionalUserTextFile(path: string, options: UserFileOptions = {}): Promise<string | undefined> {
  try {
    return await readUserTextFile(path, options)
  } catch (error) {
    if ((error as {file?: string; message?: string}).message === `${path}: no such file or directory`) return undefined
    throw error
  }
}

/**
 * How deep `text`'s arrays and objects nest, scanning no further than `limit + 1` levels (strings skipped). Linear,
 * no recursion: it runs before JSON.parse so that no code after it (messages, walkers, JSON.stringify) meets a
 * 200,000-deep value.
 */
export function jsonNestingDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
      continue
    }
    if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      depth++
      if (depth > max) max = depth
      if (max > limit) return max
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return max
}

/**
 * JSON.parse whose errors name `where` and a byte offset, never the text (V8 quotes the start of it), and which refuses
 * values nested deeper than `maxDepth`.
 */
export function parseJsonText(text: string, where: string, options: {maxDepth?: number; file?: string} = {}): unknown {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH
  if (jsonNestingDepth(text, maxDepth) > maxDepth) {
    throw new InvalidInputError(`${where}: JSON nested more than ${maxDepth} levels deep; refusing it`, {file: options.file})
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    const at = /position (\d+)/.exec((error as Error).message)
    throw new InvalidInputError(`${where}: not valid JSON${at ? ` (syntax error at character ${at[1]})` : ''}`, {file: options.file})
  }
}

/** A user JSON file, read and parsed under the rules above. */
export async function readUserJsonFile(path: string, options: UserFileOptions = {}): Promise<unknown> {
  const text = await readUserTextFile(path, {maxBytes: MAX_JSON_FILE_BYTES, ...options})
  return parseJsonText(text, path, {file: path})
}
