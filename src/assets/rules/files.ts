/**
 * The file rules (validate_tree.py, validate_assets.py): `file-too-large` (every file of the folder at most 1 MB) and
 * `missing-file` (each file asset.yaml and model.yaml name exists).
 */
import {existsSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'

import {pathWithin} from '../../core/user-file.js'
import {assetRef} from '../asset.js'
import {walkFolders} from '../discover.js'
import type {FixableDiagnostic} from '../diagnostic.js'
import type {YamlFile} from '../yaml-file.js'
import {isRecord} from '../resolve.js'
import type {Reporter} from './reporter.js'

/** No file in an asset folder may be larger than this (validate_tree.py): weights belong in blob storage. */
export const MAX_ASSET_FILE_BYTES = 1024 * 1024

/** Whether `rel` exists under `base`, answered from the folder's listing when it can be. */
export type FileExists = (base: string, rel: string) => boolean

export function fileExistsIn(sizes: ReadonlyMap<string, number>): FileExists {
  return (base, rel) => sizes.has(join(base, rel)) || existsSync(join(base, rel))
}

/** missing-file for the spec, extra_config, description_file and release paths asset.yaml names. */
export function checkAssetYamlFiles(r: Reporter, asset: YamlFile, a: Record<string, unknown>, dir: string, display: string, fileExists: FileExists): void {
  for (const key of ['spec', 'extra_config', 'description_file'] as const) {
    const ref = assetRef(a, key)
    if (ref && pathWithin(dir, ref) === undefined) r.at(asset, [key], 'missing-file', `${key} names ${ref}, which is outside the asset folder ${display}; not read (an asset's files must be in its folder)`)
    else if (ref && !fileExists(dir, ref)) r.at(asset, [key], 'missing-file', `${key} names ${ref}, which does not exist in ${display}`)
  }
  if (Array.isArray(a.release_paths)) {
    a.release_paths.forEach((p, i) => {
      if (typeof p !== 'string') return
      const rel = p.startsWith('!') ? p.slice(1) : p
      if (rel && !fileExists(dir, rel)) r.at(asset, ['release_paths', i], 'missing-file', `release path ${rel} does not exist`)
    })
  }
}

/** missing-file for the description and local model path model.yaml names. Returns publish.type, when stated. */
export function checkModelYamlFiles(r: Reporter, config: YamlFile, cfg: Record<string, unknown>, dir: string, display: string, fileExists: FileExists): string | undefined {
  let publishType: string | undefined
  const publish = isRecord(cfg.publish) ? cfg.publish : undefined
  if (publish && typeof publish.description === 'string' && publish.description !== '' && !fileExists(dir, publish.description)) {
    r.at(config, ['publish', 'description'], 'missing-file', `publish.description names ${publish.description}, which does not exist in ${display}`)
  }
  if (publish && typeof publish.type === 'string') publishType = publish.type
  const path = isRecord(cfg.path) ? cfg.path : undefined
  if (path && path.type === 'local' && typeof path.uri === 'string' && path.uri !== '' && !fileExists(dir, path.uri)) {
    r.at(config, ['path', 'uri'], 'missing-file', `local model path ${path.uri} does not exist in ${display}`)
  }
  return publishType
}

/**
 * Every regular file of an asset folder with its size, walked iteratively; nested asset folders are theirs.
 * The sizes serve the 1 MB rule, spare loadYamlFile a second stat, and answer "does this referenced file exist".
 */
export function listAssetFiles(assetDir: string): Map<string, number> {
  const sizes = new Map<string, number>()
  walkFolders(assetDir, (dir, entries) => {
    if (dir !== assetDir && entries.some((e) => e.isFile() && e.name === 'asset.yaml')) return []
    for (const e of entries) {
      if (!e.isFile()) continue
      const abs = join(dir, e.name)
      try {
        sizes.set(abs, statSync(abs).size)
      } catch {
        // vanished while walking: not there
      }
    }
    return entries.filter((e) => e.isDirectory() && e.name !== '.git' && e.name !== 'node_modules').map((e) => e.name)
  })
  return sizes
}

/** file-too-large for every file of the listing over the limit. */
export function oversizedFiles(assetDir: string, display: string, sizes: ReadonlyMap<string, number>): FixableDiagnostic[] {
  const out: FixableDiagnostic[] = []
  for (const [abs, size] of sizes) {
    if (size <= MAX_ASSET_FILE_BYTES) continue
    const file = join(display, relative(assetDir, abs))
    out.push({rule: 'file-too-large', severity: 'error', message: `${file} is ${(size / 1048576).toFixed(1)} MB; files in an asset folder must be at most 1 MB (weights belong in blob storage, referenced by model.yaml)`, file, line: 1, column: 1})
  }
  return out.sort((a, b) => a.file.localeCompare(b.file))
}
