/**
 * Finding what to validate under the paths a user gives: asset folders (holding asset.yaml) anywhere in a tree, as
 * `validate_assets.py -i assets` does, plus the tree mistakes validate_tree.py reports (a spec.yaml with no
 * asset.yaml beside it, a file named asset.yml).
 */
import {readdirSync, statSync, type Dirent} from 'node:fs'
import {basename, dirname, extname, join, normalize, relative, resolve} from 'node:path'

import {UsageError} from '../core/errors.js'

export interface FoundAsset {
  /** Absolute folder. */
  dir: string
  /** The folder as diagnostics name it: the user's path, joined. */
  display: string
  /** Which of the given paths it was found under (duplicates are looked for within one tree). */
  root?: number
}

export interface Discovery {
  assets: FoundAsset[]
  /** Folders with spec.yaml but no asset.yaml. */
  orphanSpecs: FoundAsset[]
  /** Folders holding a file named asset.yml (and no asset.yaml). */
  ymlAssets: FoundAsset[]
  /** Standalone YAML files given directly (Azure ML YAMLs). */
  yamlFiles: Array<{path: string; display: string}>
}

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '__pycache__'])

function displayOf(given: string, givenAbs: string, abs: string): string {
  const rel = relative(givenAbs, abs)
  return normalize(rel === '' ? given : join(given, rel))
}

/**
 * Visits `root` and the folders below it iteratively (a deep tree must not overflow the stack). `visit` gets each
 * folder's entries and returns the subfolder names to descend into. Unreadable folders are skipped.
 */
export function walkFolders(root: string, visit: (dir: string, entries: Dirent[]) => Iterable<string>): void {
  const stack = [root]
  while (stack.length) {
    const dir = stack.pop()!
    let entries: Dirent[]
    try {
      entries = readdirSync(dir, {withFileTypes: true})
    } catch {
      continue
    }
    for (const name of visit(dir, entries)) stack.push(join(dir, name))
  }
}

/** Finds asset folders (and tree mistakes) under `root`, skipping VCS, dependency and hidden folders. */
function walk(root: string, given: string, out: Discovery, seen: Set<string>, index: number): void {
  walkFolders(root, (dir, entries) => {
    const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name))
    const here = {dir, display: displayOf(given, root, dir), root: index}
    if (names.has('asset.yaml')) {
      if (!seen.has(dir)) {
        seen.add(dir)
        out.assets.push(here)
      }
    } else if (names.has('spec.yaml') && !names.has('asset.yml')) out.orphanSpecs.push(here)
    // validate_tree.py refuses any file named asset.yml, beside an asset.yaml or not.
    if (names.has('asset.yml')) out.ymlAssets.push(here)
    return entries.filter((e) => e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')).map((e) => e.name)
  })
}

/** What `paths` hold; a path that does not exist is a usage error (exit 2). */
export function discover(paths: string[], cwd: string): Discovery {
  const out: Discovery = {assets: [], orphanSpecs: [], ymlAssets: [], yamlFiles: []}
  const seen = new Set<string>()
  for (const [index, given] of paths.entries()) {
    const abs = resolve(cwd, given)
    let st
    try {
      st = statSync(abs)
    } catch {
      throw new UsageError(`${given}: no such file or directory`, {file: given})
    }
    if (st.isDirectory()) {
      walk(abs, given, out, seen, index)
      continue
    }
    const base = basename(abs)
    const parent = dirname(abs)
    const parentHasAsset = (() => {
      try {
        return statSync(join(parent, 'asset.yaml')).isFile()
      } catch {
        return false
      }
    })()
    if (base === 'asset.yaml' || (parentHasAsset && (base === 'spec.yaml' || base === 'model.yaml'))) {
      if (!seen.has(parent)) {
        seen.add(parent)
        out.assets.push({dir: parent, display: normalize(dirname(given)), root: index})
      }
    } else if (['.yaml', '.yml'].includes(extname(abs).toLowerCase()) || base === 'MLTable') {
      out.yamlFiles.push({path: abs, display: normalize(given)})
    } else {
      throw new UsageError(`${given}: not an asset folder, a tree of them, or a YAML file`, {file: given})
    }
  }
  out.assets.sort((a, b) => a.display.localeCompare(b.display))
  return out
}
