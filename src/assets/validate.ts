/**
 * `validatePaths`: everything `vitrine validate` does, as a library call returning the --json result. The
 * command only renders it.
 */
import {realpathSync} from 'node:fs'
import {basename, join, relative, sep} from 'node:path'

import {writeFileAtomic} from '../core/atomic.js'
import {UsageError} from '../core/errors.js'
import {silentProgress, type Progress} from '../core/progress.js'
import {loadSkuCatalog} from '../skus/catalog.js'
import {loadSupportedInferenceSkus, SUPPORTED_INFERENCE_SKUS} from '../skus/supported-inference.js'
import {compareDiagnostics, toPlainDiagnostic, type AssetResult, type FixableDiagnostic, type FixRecord, type ValidateResult} from './diagnostic.js'
import {discover, type FoundAsset} from './discover.js'
import type {AssetValidation, ValidateContext} from './validate-asset.js'
import {validateInWorkers, workersFor} from './pool.js'

export interface ValidateOptions {
  /** Relative paths are resolved against this (default: process.cwd()). */
  cwd?: string
  /** A SKU catalog file replacing the bundled one (`vitrine skus refresh` writes one). */
  skuCatalog?: string
  /** A supported_inference_skus.json replacing the bundled list. */
  supportedInferenceSkus?: string
  /** Validate only assets with files changed since this git ref. */
  changedSince?: string
  /** Rewrite min-SKU specs and recommended lists in place. */
  fix?: boolean
  progress?: Progress
  /** Worker threads (--threads); default none (see workersFor in ./pool.ts). */
  workers?: number
}

function realDir(dir: string): string {
  try {
    return realpathSync(dir)
  } catch {
    return dir
  }
}

function touched(dir: string, changed: Set<string>): boolean {
  const prefix = realDir(dir) + sep
  for (const f of changed) if (f.startsWith(prefix)) return true
  return false
}

/** Marks every asset whose type and name another asset of the same tree (given path) also has. */
function markDuplicates(validations: AssetValidation[], dirs: Map<string, FoundAsset>): void {
  const groups = new Map<string, AssetValidation[]>()
  for (const v of validations) {
    if (!v.type || !v.name || !v.nameAt) continue
    const key = `${dirs.get(v.path)?.root ?? 0}\0${v.type} ${v.name}`
    groups.set(key, [...(groups.get(key) ?? []), v])
  }
  for (const [tagged, group] of groups) {
    const key = tagged.slice(tagged.indexOf('\0') + 1)
    if (group.length < 2) continue
    for (const v of group) {
      const others = group.filter((o) => o !== v).map((o) => o.path)
      v.diagnostics.push({rule: 'duplicate-asset', severity: 'error', message: `${key} is also defined in ${others.join(', ')}: a type and name may appear in one asset.yaml only`, file: v.nameAt!.file, line: v.nameAt!.line, column: v.nameAt!.column})
    }
  }
}

function toResult(v: AssetValidation): AssetResult {
  const diagnostics = v.diagnostics.map(toPlainDiagnostic).sort(compareDiagnostics)
  return {path: v.path, type: v.type, name: v.name, version: v.version, ok: !diagnostics.some((d) => d.severity === 'error'), diagnostics}
}

/** Applies the fixes the diagnostics carry; returns what changed. */
async function applyAllFixes(validations: AssetValidation[], dirs: Map<string, FoundAsset>): Promise<FixRecord[]> {
  const byFile = new Map<string, {abs: string; diags: FixableDiagnostic[]}>()
  for (const v of validations) {
    const asset = dirs.get(v.path)
    if (!asset) continue
    for (const d of v.diagnostics) {
      if (!d.fix) continue
      const abs = join(asset.dir, relative(asset.display, d.file))
      const entry = byFile.get(d.file) ?? {abs, diags: []}
      entry.diags.push(d)
      byFile.set(d.file, entry)
    }
  }
  const records: FixRecord[] = []
  const {applyFixes} = await import('./fix.js')
  const {loadYamlFile} = await import('./yaml-file.js')
  for (const [file, {abs, diags}] of byFile) {
    const yf = loadYamlFile(abs, file)
    if (!yf.doc) continue
    const result = applyFixes(yf, diags.map((d) => d.fix!))
    if (result.applied.length === 0) continue
    await writeFileAtomic(abs, result.text)
    for (const a of result.applied) {
      const d = diags.find((x) => x.fix === a.edit)!
      records.push({file, line: a.line, rule: d.rule, message: a.description})
    }
  }
  return records.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line))
}

/**
 * Validates asset folders, trees of them, and standalone Azure ML YAML files. Never throws for invalid assets
 * (they are diagnostics); throws UsageError for a path that does not exist or a bad git ref, InvalidInputError for
 * an unreadable --sku-catalog.
 */
export async function validatePaths(paths: string[], options: ValidateOptions = {}): Promise<ValidateResult> {
  const cwd = options.cwd ?? process.cwd()
  const progress = options.progress ?? silentProgress
  const given = paths.length ? paths : ['.']
  const catalog = loadSkuCatalog(options.skuCatalog)
  const supported = new Set(options.supportedInferenceSkus ? loadSupportedInferenceSkus(options.supportedInferenceSkus) : SUPPORTED_INFERENCE_SKUS)
  const ctx: ValidateContext = {catalog, supportedInference: supported}

  const found = discover(given, cwd)
  const nothing = found.assets.length + found.orphanSpecs.length + found.ymlAssets.length + found.yamlFiles.length === 0
  if (nothing && !options.changedSince) {
    throw new UsageError(`no asset.yaml found under ${given.join(', ')}`, {hint: 'Give an asset folder (holding asset.yaml), a tree of them, or an Azure ML YAML file.'})
  }
  let selected = (_dir: string): boolean => true
  let selectedFile = (_file: string): boolean => true
  if (options.changedSince) {
    // execa is loaded only when git is needed: start-up time counts for a validator run on every commit.
    const {changedFilesSince} = await import('./changed.js')
    const changed = await changedFilesSince(options.changedSince, cwd)
    selected = (dir) => touched(dir, changed)
    selectedFile = (file) => changed.has(join(realDir(join(file, '..')), basename(file)))
  }

  progress.start('validating assets', found.assets.length, 'assets')
  // Every asset is read (duplicates are a property of the whole tree); only the selected ones are reported.
  const workers = workersFor(found.assets.length, options.workers)
  let validations: AssetValidation[]
  if (workers > 1) {
    validations = await validateInWorkers(found.assets, {skuCatalog: options.skuCatalog, supportedInferenceSkus: [...supported]}, workers, progress)
  } else {
    // Loaded here, not at the top: with workers, the main thread never needs yaml or ajv.
    const {validateAssetFolder} = await import('./validate-asset.js')
    validations = []
    for (const asset of found.assets) {
      const v = validateAssetFolder(asset.dir, asset.display, ctx)
      validations.push(v)
      progress.advance(1)
    }
  }
  progress.stop()
  const dirs = new Map<string, FoundAsset>()
  found.assets.forEach((asset, i) => dirs.set(validations[i].path, asset))
  markDuplicates(validations, dirs)
  const reported = validations.filter((v) => selected(dirs.get(v.path)!.dir))

  let fixes: FixRecord[] | undefined
  if (options.fix) {
    fixes = await applyAllFixes(reported, dirs)
    if (fixes.length) {
      const again = await validatePaths(paths, {...options, fix: false})
      return {...again, fixes}
    }
  }

  const assets: AssetResult[] = reported.map(toResult)
  for (const o of found.orphanSpecs.filter((a) => selected(a.dir))) {
    const file = join(o.display, 'spec.yaml')
    assets.push(toResult({path: o.display, type: null, name: null, version: null, diagnostics: [{rule: 'missing-file', severity: 'error', message: `${file} has no asset.yaml beside it`, file, line: 1, column: 1}]}))
  }
  for (const o of found.ymlAssets.filter((a) => selected(a.dir))) {
    const file = join(o.display, 'asset.yml')
    assets.push(toResult({path: o.display, type: null, name: null, version: null, diagnostics: [{rule: 'missing-file', severity: 'error', message: `${file}: the asset file must be named asset.yaml (asset.yml is not read)`, file, line: 1, column: 1}]}))
  }
  for (const y of found.yamlFiles) {
    if (!selectedFile(y.path)) continue
    const {checkStandaloneYaml} = await import('./yaml-hook.js')
    const diagnostics = await checkStandaloneYaml(y.path, y.display)
    assets.push(toResult({path: y.display, type: 'yaml', name: null, version: null, diagnostics}))
  }
  assets.sort((a, b) => a.path.localeCompare(b.path))
  const all = assets.flatMap((a) => a.diagnostics)
  const errors = all.filter((d) => d.severity === 'error').length
  const result: ValidateResult = {
    ok: errors === 0,
    assets,
    summary: {assets: assets.length, errors, warnings: all.length - errors},
    skuCatalog: catalog.origin,
  }
  if (fixes) result.fixes = fixes
  return result
}
