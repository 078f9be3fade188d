/**
 * Reading a model asset folder (asset.yaml + spec.yaml + model.yaml + description) into its effective facts.
 * `validate` checks the files; `generate`, `package` and `apply` call `readModelAssetFacts` and trust the result.
 */
import {existsSync, readFileSync, statSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {InvalidInputError, UsageError} from '../core/errors.js'
import {pathWithin} from '../core/user-file.js'
import {SCENARIOS, type ModelAssetFacts, type ScenarioSkus} from './facts.js'
import {isRecord, resolveSpec, type ResolvedSpec} from './resolve.js'
import {loadYamlFile, type YamlFile} from './yaml-file.js'

/** The files of one asset folder, parsed (each may have failed: see `problems`). */
export interface AssetFiles {
  dir: string
  asset: YamlFile
  assetData?: Record<string, unknown>
  spec?: YamlFile
  specData?: Record<string, unknown>
  /** The extra_config (model.yaml for models). */
  config?: YamlFile
  configData?: Record<string, unknown>
}

/** The file name asset.yaml's `key` names, when it is a non-empty string. */
export function assetRef(data: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = data?.[key]
  return typeof v === 'string' && v.trim() !== '' ? v : undefined
}

/**
 * Loads asset.yaml and the spec and extra_config it names. `display` is the folder as diagnostics should name it
 * (the path the user gave, joined), `dir` where it is on disk. A file named outside the folder (`spec:
 * ../../elsewhere.yaml`, or a symlink leaving it) is not read at all: it is `skipped: 'outside'`, so neither
 * `validate` nor `--fix` nor `generate` ever reads or rewrites a file beyond the asset (issue 13, finding 9).
 */
export function loadAssetFiles(dir: string, display = dir, sizes?: ReadonlyMap<string, number>): AssetFiles {
  const load = (rel: string): YamlFile => {
    const abs = pathWithin(dir, rel)
    if (abs === undefined) return {file: join(display, rel), text: '', problems: [], skipped: 'outside'} as unknown as YamlFile
    return loadYamlFile(abs, join(display, rel), sizes?.get(abs))
  }
  const asset = load('asset.yaml')
  const out: AssetFiles = {dir, asset}
  if (!isRecord(asset.data)) return out
  out.assetData = asset.data
  const specRef = assetRef(asset.data, 'spec')
  if (specRef) {
    out.spec = load(specRef)
    if (isRecord(out.spec.data)) out.specData = out.spec.data
  }
  const configRef = assetRef(asset.data, 'extra_config')
  if (configRef) {
    out.config = load(configRef)
    if (isRecord(out.config.data)) out.configData = out.config.data
  }
  return out
}

function unreadable(yf: YamlFile | undefined, what: string, fallback: string): InvalidInputError {
  const file = yf?.file ?? fallback
  if (!yf || yf.skipped === 'missing') return new InvalidInputError(`${file}: ${what} not found`, {file})
  if (yf.skipped === 'outside') return new InvalidInputError(`${file}: the ${what} is outside the asset folder; refusing to read it (an asset's files live in its folder)`, {file})
  if (yf.skipped === 'too-large') return new InvalidInputError(`${file}: larger than 1 MB, not a ${what}`, {file})
  const first = yf.problems.find((p) => p.severity === 'error')
  const detail = first ? ` (line ${first.line}, column ${first.column}: ${first.message})` : yf.data === undefined ? '' : ': not a YAML mapping'
  return new InvalidInputError(`${file}: cannot read the ${what}${detail}`, {file, hint: `Run \`vitrine validate ${file.replace(/[/\\][^/\\]*$/, '')}\` for every problem.`})
}

function scenarioSkus(r: ResolvedSpec): ModelAssetFacts['skus'] {
  const skus: ModelAssetFacts['skus'] = {}
  for (const s of SCENARIOS) {
    const sc = r.scenarios[s]
    const anyKey = sc.allowList !== undefined || sc.recommended !== undefined || sc.minSkuSpec !== undefined
    if (!anyKey) continue
    const entry: ScenarioSkus = {allowList: sc.allowList?.value ?? [], recommended: sc.recommended?.value ?? []}
    if (sc.minSkuSpec && sc.minSkuSpec.value.trim() !== '') entry.minSkuSpec = sc.minSkuSpec.value.trim()
    skus[s] = entry
  }
  return skus
}

function readText(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return undefined
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** Builds the facts from loaded files; assumes asset.yaml and spec.yaml parsed. */
export function factsFromFiles(files: AssetFiles, specResolved = resolveSpec(files.specData)): ModelAssetFacts {
  const a = files.assetData ?? {}
  const r = specResolved
  const config = files.configData
  const publish = config && isRecord(config.publish) ? config.publish : undefined
  const descRef = (publish && typeof publish.description === 'string' ? publish.description : undefined) ?? assetRef(a, 'description_file') ?? (existsSync(join(files.dir, 'description.md')) ? 'description.md' : undefined)
  const descPath = descRef === undefined ? undefined : pathWithin(files.dir, descRef)
  const description = (descPath ? readText(descPath) : undefined) ?? r.description
  const name = typeof a.name === 'string' && a.name !== '' ? a.name : (r.name?.value ?? '')
  const versionRaw = a.version ?? files.specData?.version
  const version = typeof versionRaw === 'string' || typeof versionRaw === 'number' ? String(versionRaw) : ''
  const facts: ModelAssetFacts = {
    dir: files.dir,
    form: r.form,
    name,
    version,
    inferenceTasks: r.inferenceTasks,
    finetuningTasks: r.finetuningTasks?.value ?? [],
    skus: scenarioSkus(r),
    tags: r.tags,
    properties: r.properties,
  }
  if (description !== undefined) facts.description = description
  if (r.task && r.task.value.trim() !== '') facts.task = r.task.value.trim()
  if (r.license && r.license.value.trim() !== '') facts.license = r.license.value.trim()
  if (r.publisher) facts.publisher = r.publisher
  if (r.huggingFaceModelId) facts.huggingFaceModelId = r.huggingFaceModelId
  facts.sharedComputeCapacityEnabled = r.sharedCompute.enabled
  if (config && isRecord(config.path) && typeof config.path.type === 'string') {
    facts.modelPath = {...config.path, type: config.path.type}
  }
  if (publish && typeof publish.type === 'string') facts.publishType = publish.type
  return facts
}

/** A model asset folder read for use: its effective facts and the files they came from (asset.yaml and spec parsed). */
export interface ModelAsset {
  facts: ModelAssetFacts
  files: AssetFiles & {assetData: Record<string, unknown>; spec: YamlFile; specData: Record<string, unknown>}
}

/**
 * Reads the model asset in `dir`. Throws UsageError when `dir` does not exist, InvalidInputError (naming the file)
 * when asset.yaml or spec.yaml cannot be read or parsed. It does not validate: run `validatePaths` for that.
 */
export function readModelAsset(dir: string): ModelAsset {
  const abs = resolve(dir)
  let isDir = false
  try {
    isDir = statSync(abs).isDirectory()
  } catch {
    throw new UsageError(`${dir}: no such directory`, {file: dir})
  }
  if (!isDir) throw new UsageError(`${dir}: is not a directory (expected a model asset folder holding asset.yaml)`, {file: dir})
  const files = loadAssetFiles(abs, dir)
  if (!files.assetData) throw unreadable(files.asset, 'asset.yaml', join(dir, 'asset.yaml'))
  if (!assetRef(files.assetData, 'spec')) {
    throw new InvalidInputError(`${files.asset.file}: 'spec' is missing (it names the spec.yaml)`, {file: files.asset.file})
  }
  if (!files.spec || !files.specData) throw unreadable(files.spec, 'model spec', join(dir, 'spec.yaml'))
  const read = {...files, assetData: files.assetData, spec: files.spec, specData: files.specData}
  return {facts: factsFromFiles(read), files: read}
}

/**
 * The effective facts of the model asset in `dir`: `system_metadata` wins over the legacy tags/properties.
 * Throws as `readModelAsset` does.
 */
export async function readModelAssetFacts(dir: string): Promise<ModelAssetFacts> {
  return readModelAsset(dir).facts
}
