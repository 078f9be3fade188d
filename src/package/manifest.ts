import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * DIR/manifest.json: the size and sha256 of every other file of a package, sorted by path, so that `vitrine verify`
 * (and `vitrine apply`, before it uploads) can prove the folder is exactly what `vitrine package` wrote.
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

/** Streams a file through sha256 (constant memory, for 350 MB weights). */
export async function hashFile(file: string, onBytes?: (n: number) => void): Promise<{size: number; sha256: string}> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file, {highWaterMark: 1 << 20})) {
    const buf = chunk as Buffer
    hash.update(buf)
    size += buf.length
    onBytes?.(buf.length)
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
