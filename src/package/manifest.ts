import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {lstat, readdir, stat} from 'node:fs/promises'
import {isAbsolute, join} from 'node:path'

import {describeFsError, InvalidInputError} from '../core/errors.js'
import {validateWithSchema} from '../core/json-schema.js'
import {MAX_JSON_FILE_BYTES, parseJsonText, readOptionalUserTextFile} from '../core/user-file.js'

/**
 * DIR/manifest.json: the size and sha256 of every other file of a package, sorted by path, so that `vitrine verify`
 * (and `vitrine apply`, before it uploads) can prove the folder is exactly what `vitrine package` wrote.
 * This module is the only place that reads, writes or checks a manifest, and the only one that hashes package files.
 */
export const MANIFEST_FILE = 'manifest.json'
export const MANIFEST_SCHEMA_VERSION = 1

export interface ManifestEntry {
  /** POSIX path relative to the package folder. */
  path: string
  size: number
  /** Lower-case hex. */
  sha256: string
}

export interface PackageManifest {
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION
  name: string
  version: string
  files: ManifestEntry[]
}

/** Streams a file through sha256 (constant memory, for 350 MB weights). A file system error names the file. */
export async function hashFile(file: string, onBytes?: (n: number) => void): Promise<{size: number; sha256: string}> {
  const hash = createHash('sha256')
  let size = 0
  try {
    for await (const chunk of createReadStream(file, {highWaterMark: 1 << 20})) {
      const buf = chunk as Buffer
      hash.update(buf)
      size += buf.length
      onBytes?.(buf.length)
    }
  } catch (error) {
    throw describeFsError(error, file) ?? error
  }
  return {size, sha256: hash.digest('hex')}
}

/** Every regular file under `dir`, as sorted POSIX paths relative to it. Anything that is not a directory counts as a file. */
export async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = []
  const walk = async (sub: string): Promise<void> => {
    for (const e of await readdir(join(dir, sub), {withFileTypes: true})) {
      const rel = sub ? `${sub}/${e.name}` : e.name
      if (e.isDirectory()) await walk(rel)
      else files.push(rel)
    }
  }
  await walk('')
  return files.sort(comparePaths)
}

/** Total bytes of the files under `dir`, leaving out the relative paths in `except`. */
export async function folderBytes(dir: string, except: readonly string[] = []): Promise<number> {
  let total = 0
  for (const rel of await listFiles(dir)) if (!except.includes(rel)) total += (await stat(join(dir, rel))).size
  return total
}

/** Byte-wise (code unit) order, the same in every locale, so the manifest is deterministic. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The manifest of the package in `dir` (every file except manifest.json itself). `known` holds the size and hash of
 * files the caller hashed as it wrote them (by relative path): those are not read again.
 */
export async function buildManifest(
  dir: string, name: string, version: string, onBytes?: (n: number) => void, known?: ReadonlyMap<string, {size: number; sha256: string}>,
): Promise<PackageManifest> {
  const files: ManifestEntry[] = []
  for (const path of await listFiles(dir)) {
    if (path === MANIFEST_FILE) continue
    const hashed = known?.get(path)
    if (hashed) onBytes?.(hashed.size)
    files.push({path, ...(hashed ?? (await hashFile(join(dir, path), onBytes)))})
  }
  return {schemaVersion: MANIFEST_SCHEMA_VERSION, name, version, files}
}

/** The manifest as written: two-space JSON, keys in a fixed order, final newline. */
export function serializeManifest(m: PackageManifest): string {
  const ordered = {
    schemaVersion: m.schemaVersion,
    name: m.name,
    version: m.version,
    files: m.files.map((f) => ({path: f.path, size: f.size, sha256: f.sha256})),
  }
  return JSON.stringify(ordered, null, 2) + '\n'
}

/**
 * DIR/manifest.json, checked against schemas/manifest.schema.json; undefined when DIR holds no manifest.json (each
 * caller says in its own words that DIR is not a package). Paths are checked by `manifestPathProblems`.
 */
export async function readManifest(dir: string): Promise<PackageManifest | undefined> {
  const file = join(dir, MANIFEST_FILE)
  const text = await readOptionalUserTextFile(file, {within: dir, maxBytes: MAX_JSON_FILE_BYTES})
  if (text === undefined) return undefined
  const json = parseJsonText(text, file, {file})
  const checked = validateWithSchema<PackageManifest>('manifest.schema.json', json)
  if (checked.state === 'error') {
    const list = checked.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ')
    throw new InvalidInputError(`${file}: not a vitrine manifest: ${list}`, {file})
  }
  return checked.data
}

/** Whether `path` names a file inside the package: relative, POSIX separators, no `..`, `.` or empty segment. */
export function isPackagePath(path: string): boolean {
  return !isAbsolute(path) && !path.includes('\\') && !path.split('/').some((s) => s === '..' || s === '' || s === '.')
}

/** The manifest entries whose path is outside the package or listed twice, with what is wrong with each. */
export function manifestPathProblems(m: PackageManifest): Array<{index: number; path: string; message: string}> {
  const out: Array<{index: number; path: string; message: string}> = []
  const seen = new Set<string>()
  for (const [index, {path}] of m.files.entries()) {
    if (!isPackagePath(path)) out.push({index, path, message: 'is not a path inside the package'})
    else if (seen.has(path)) out.push({index, path, message: 'is listed twice'})
    seen.add(path)
  }
  return out
}

/** How a file on disk compares with its manifest entry. */
export type EntryCheck =
  | {state: 'ok'}
  | {state: 'missing'}
  | {state: 'not-a-file'}
  | {state: 'symlink'}
  | {state: 'size'; actual: number}
  | {state: 'sha256'; actual: string}

/**
 * Checks one file of `dir` against its manifest entry: the size first (no hashing of a file already known to be
 * different), then the sha256, each file read once. `onBytes` counts the bytes hashed.
 */
export async function checkManifestEntry(dir: string, entry: ManifestEntry, onBytes?: (n: number) => void): Promise<EntryCheck> {
  const path = join(dir, entry.path)
  let size: number
  try {
    // A listed file replaced by a symlink is not what package wrote, even if it points at the same bytes.
    const st = await lstat(path)
    if (st.isSymbolicLink()) return {state: 'symlink'}
    if (!st.isFile()) return {state: 'not-a-file'}
    size = st.size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return {state: 'missing'}
    throw describeFsError(error, path) ?? error
  }
  if (size !== entry.size) return {state: 'size', actual: size}
  const actual = await hashFile(path, onBytes)
  if (actual.size !== entry.size) return {state: 'size', actual: actual.size}
  return actual.sha256 === entry.sha256 ? {state: 'ok'} : {state: 'sha256', actual: actual.sha256}
}
