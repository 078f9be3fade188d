/**
 * The SKU catalog: VM sizes with the figures the Azure ML `vmSizes` API reports, and the min-SKU arithmetic the
 * azureml-assets tooling does with them (`confirm_min_sku_spec`): a spec "vCPUs|GPUs|memoryGB|diskGB" must equal the
 * per-field minimum over a scenario's compute allow list, where memory is int(memoryGB) and disk is
 * floor(maxResourceVolumeMB / 1024).
 */
import {readFileSync} from 'node:fs'

import {InvalidInputError, UsageError, describeFsError} from '../core/errors.js'
import {assetPath} from '../core/paths.js'
import type {SkuCatalog, SkuSpec} from './types.js'

/** The four figures a min-SKU spec states. */
export interface MinSkuFigures {
  vcpus: number
  gpus: number
  memoryGiB: number
  diskGiB: number
}

/** One VM size as stored in a catalog file (the vmSizes API's own field names). */
export interface SkuCatalogEntry {
  name: string
  series?: string
  family?: string
  vCPUs: number
  gpus: number
  memoryGB: number
  maxResourceVolumeMB: number
  source?: string
  note?: string
}

/** A catalog file: data/sku-catalog.json, or what `vitrine skus refresh` writes. */
export interface SkuCatalogFile {
  description?: string
  origin?: string
  region?: string
  subscription?: string
  apiVersion?: string
  fetchedAt?: string
  skus: SkuCatalogEntry[]
}

export const MIN_SKU_FIELDS = ['vcpus', 'gpus', 'memoryGiB', 'diskGiB'] as const
export const MIN_SKU_FIELD_LABELS: Record<(typeof MIN_SKU_FIELDS)[number], string> = {
  vcpus: 'vCPUs',
  gpus: 'GPUs',
  memoryGiB: 'memory GiB',
  diskGiB: 'disk GiB',
}

/** The bundled catalog file. */
export function bundledSkuCatalogPath(): string {
  return assetPath('data', 'sku-catalog.json')
}

/** The figures the min-SKU rule compares, from a catalog entry. */
export function entryToSpec(entry: SkuCatalogEntry, defaultSource: string): SkuSpec {
  return {
    name: entry.name,
    vcpus: entry.vCPUs,
    gpus: entry.gpus,
    memoryGiB: Math.trunc(entry.memoryGB),
    diskGiB: Math.floor(entry.maxResourceVolumeMB / 1024),
    source: entry.source ?? defaultSource,
  }
}

/** Levenshtein distance, case-insensitive (SKU names differ from typos mostly by a letter or a digit). */
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  let prev = Array.from({length: t.length + 1}, (_, j) => j)
  for (let i = 1; i <= s.length; i++) {
    const cur = [i]
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[t.length]
}

/** Builds a catalog from entries; later entries with the same name replace earlier ones. */
export function makeSkuCatalog(entries: SkuCatalogEntry[], origin: string, defaultSource = origin): SkuCatalog {
  const byName = new Map<string, SkuSpec>()
  const byLower = new Map<string, SkuSpec>()
  for (const e of entries) {
    const spec = entryToSpec(e, defaultSource)
    byName.set(spec.name, spec)
    byLower.set(spec.name.toLowerCase(), spec)
  }
  return {
    origin,
    get: (name) => byName.get(name),
    names: () => [...byName.keys()],
    suggest(name: string): string[] {
      // A case-only difference is the best suggestion there is.
      const exact = byLower.get(name.toLowerCase())
      if (exact) return [exact.name]
      const scored = [...byName.keys()].map((n) => ({n, d: editDistance(name, n)}))
      scored.sort((x, y) => x.d - y.d || x.n.localeCompare(y.n))
      const limit = Math.max(2, Math.ceil(name.length / 4))
      return scored.filter((s) => s.d <= limit && s.d <= scored[0].d + 1).slice(0, 3).map((s) => s.n)
    },
  }
}

/**
 * The problems of a catalog file, by JSON path (what schemas/sku-catalog.schema.json says, checked by hand so
 * that loading a catalog does not pull ajv into start-up; a test keeps the two in agreement).
 */
export function catalogProblems(data: unknown): string[] {
  const problems: string[] = []
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return ['(root) must be an object']
  const skus = (data as {skus?: unknown}).skus
  if (!Array.isArray(skus)) return [skus === undefined ? "required property 'skus' is missing" : 'skus must be array']
  skus.forEach((e: unknown, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      problems.push(`skus.${i} must be object`)
      return
    }
    const entry = e as Record<string, unknown>
    if (typeof entry.name !== 'string' || entry.name === '') problems.push(`skus.${i}.name must be a non-empty string`)
    for (const k of ['vCPUs', 'gpus'] as const) {
      if (!Number.isInteger(entry[k]) || (entry[k] as number) < 0) problems.push(`skus.${i}.${k} must be a non-negative integer`)
    }
    for (const k of ['memoryGB', 'maxResourceVolumeMB'] as const) {
      if (typeof entry[k] !== 'number' || !Number.isFinite(entry[k]) || (entry[k] as number) < 0) problems.push(`skus.${i}.${k} must be a non-negative number`)
    }
    for (const k of ['series', 'family', 'source', 'note'] as const) {
      if (entry[k] !== undefined && typeof entry[k] !== 'string') problems.push(`skus.${i}.${k} must be string`)
    }
  })
  return problems
}

/** Parses and checks a catalog file's text; errors name the file and the offending field. */
export function parseSkuCatalogFile(text: string, file: string): SkuCatalogFile {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new InvalidInputError(`${file}: not valid JSON (${(err as Error).message})`, {file})
  }
  const problems = catalogProblems(data)
  if (problems.length) {
    throw new InvalidInputError(`${file}: not a SKU catalog: ${problems.slice(0, 3).join('; ')}`, {
      file,
      hint: 'Write one with `vitrine skus refresh --subscription ID --region REGION --out FILE`.',
    })
  }
  return data as SkuCatalogFile
}

const loaded = new Map<string, SkuCatalog>()

/**
 * The SKU catalog in `file`, or the bundled data/sku-catalog.json. Read once per process and file.
 * Throws UsageError when the file does not exist, InvalidInputError when it is not a catalog.
 */
export function loadSkuCatalog(file?: string): SkuCatalog {
  const path = file ?? bundledSkuCatalogPath()
  const cached = loaded.get(path)
  if (cached) return cached
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw describeFsError(err, path) ?? new UsageError(`${path}: cannot read the SKU catalog (${(err as Error).message})`)
  }
  // The bundled file is checked by the tests; skipping its schema check keeps ajv out of start-up.
  const parsed = file === undefined ? (JSON.parse(text) as SkuCatalogFile) : parseSkuCatalogFile(text, path)
  const origin = file === undefined ? 'bundled data/sku-catalog.json' : path
  const defaultSource = parsed.origin && parsed.origin !== 'bundled' ? parsed.origin : origin
  const catalog = makeSkuCatalog(parsed.skus, origin, defaultSource)
  loaded.set(path, catalog)
  return catalog
}

const FIELD_RE = /^\s*(\d+)\s*$/

/**
 * Parses a min-SKU spec "vCPUs|GPUs|memoryGB|diskGB" (four non-negative integers; blanks around a field are
 * allowed, as Python's int() allows them). Undefined when the text is not such a spec.
 */
export function parseMinSkuSpec(spec: string): MinSkuFigures | undefined {
  const parts = spec.split('|')
  if (parts.length !== 4) return undefined
  const nums: number[] = []
  for (const p of parts) {
    const m = FIELD_RE.exec(p)
    if (!m) return undefined
    const n = Number(m[1])
    if (!Number.isSafeInteger(n)) return undefined
    nums.push(n)
  }
  return {vcpus: nums[0], gpus: nums[1], memoryGiB: nums[2], diskGiB: nums[3]}
}

/** "vCPUs|GPUs|memory|disk" for figures. */
export function formatMinSkuSpec(f: MinSkuFigures): string {
  return `${f.vcpus}|${f.gpus}|${f.memoryGiB}|${f.diskGiB}`
}

export interface AllowListMinimum {
  /** The per-field minimum over the known SKUs; undefined when no SKU of the list is known. */
  minimum?: MinSkuFigures
  /** Allow-list names the catalog does not know (the minimum ignores them, so it is not trustworthy then). */
  unknown: string[]
}

/**
 * The per-field minimum over an allow list: each of vCPUs, GPUs, memory and disk minimised independently, so the
 * result need not be a real SKU (that is what azureml-assets requires a min-SKU spec to equal).
 */
export function minimumOverAllowList(allowList: string[], catalog: SkuCatalog): AllowListMinimum {
  let minimum: MinSkuFigures | undefined
  const unknown: string[] = []
  for (const name of allowList) {
    const sku = catalog.get(name)
    if (!sku) {
      unknown.push(name)
      continue
    }
    minimum = minimum
      ? {
          vcpus: Math.min(minimum.vcpus, sku.vcpus),
          gpus: Math.min(minimum.gpus, sku.gpus),
          memoryGiB: Math.min(minimum.memoryGiB, sku.memoryGiB),
          diskGiB: Math.min(minimum.diskGiB, sku.diskGiB),
        }
      : {vcpus: sku.vcpus, gpus: sku.gpus, memoryGiB: sku.memoryGiB, diskGiB: sku.diskGiB}
  }
  return {minimum, unknown}
}

/** True when the SKU has at least the spec's figure in every field. */
export function meetsSpec(sku: Pick<SkuSpec, 'vcpus' | 'gpus' | 'memoryGiB' | 'diskGiB'>, spec: MinSkuFigures): boolean {
  return MIN_SKU_FIELDS.every((f) => sku[f] >= spec[f])
}

/** The fields in which a SKU falls below a spec, e.g. ["memory GiB 14 < 28"]. */
export function shortfalls(sku: Pick<SkuSpec, 'vcpus' | 'gpus' | 'memoryGiB' | 'diskGiB'>, spec: MinSkuFigures): string[] {
  return MIN_SKU_FIELDS.filter((f) => sku[f] < spec[f]).map((f) => `${MIN_SKU_FIELD_LABELS[f]} ${sku[f]} < ${spec[f]}`)
}
