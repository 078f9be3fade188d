/**
 * `vitrine skus refresh`: the SKU catalog from the live Azure ML `vmSizes` API of one subscription and region —
 * the same source azureml-assets' min-SKU check uses — written as a file `validate --sku-catalog` reads.
 */
import type {TokenCredential} from '@azure/identity'

import {acquireToken} from '../azure/auth.js'
import {ArmClient, SDK_API_VERSION} from '../azure/client.js'
import type {RetryOptions} from '../azure/retry.js'
import {checkEndpointUrl, DEFAULT_ARM_ENDPOINT} from '../azure/target.js'
import {writeFileAtomic} from '../core/atomic.js'
import {RemoteError, UsageError} from '../core/errors.js'
import {entryToSpec, formatMinSkuSpec, loadSkuCatalog, type SkuCatalogEntry, type SkuCatalogFile} from './catalog.js'
import {SUPPORTED_INFERENCE_SKUS} from './supported-inference.js'

export interface RefreshOptions {
  subscription: string
  /** An Azure region name as ARM spells it (eastus, westeurope). */
  region: string
  credential: TokenCredential
  /** How the credential was chosen, for messages (never the token). */
  credentialSource: string
  /** The catalog file to write. */
  output: string
  /** ARM base URL (default https://management.azure.com; plain http only for a loopback fake). */
  armEndpoint?: string
  retry?: Partial<RetryOptions>
  log?: (line: string) => void
  /** Injectable clock, for the fetchedAt stamp. */
  now?: () => Date
}

export interface SkuDifference {
  name: string
  bundled: string
  api: string
}

/** The --json result of `vitrine skus refresh` (schemas/skus-refresh-result.schema.json). */
export interface SkusRefreshResult {
  file: string
  subscription: string
  region: string
  apiVersion: string
  fetchedAt: string
  /** VM sizes written. */
  skus: number
  /** Entries of the answer without the four figures (not written). */
  skipped: string[]
  /** Against the bundled catalog: what the live API says differently. */
  comparedToBundled: {
    differing: SkuDifference[]
    /** Supported inference SKUs this region does not offer. */
    supportedInferenceMissing: string[]
  }
}

const REGION_RE = /^[a-z][a-z0-9]{1,39}$/
const SUBSCRIPTION_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined
}

/** The VM sizes of an answer: `{value: [...]}` (documented) or `{amlCompute: [...]}` (what sku_utils.py reads). */
export function parseVmSizes(json: unknown, source: string): {entries: SkuCatalogEntry[]; skipped: string[]} {
  const body = (json ?? {}) as {value?: unknown; amlCompute?: unknown}
  const list = Array.isArray(body.value) ? body.value : Array.isArray(body.amlCompute) ? body.amlCompute : undefined
  if (!list) throw new RemoteError('vmSizes: the answer has no list of VM sizes (expected {"value": [...]})')
  const entries: SkuCatalogEntry[] = []
  const skipped: string[] = []
  for (const item of list as Array<Record<string, unknown>>) {
    const name = typeof item?.name === 'string' ? item.name : undefined
    const vCPUs = num(item?.vCPUs)
    const gpus = num(item?.gpus) ?? (name && vCPUs !== undefined ? 0 : undefined)
    const memoryGB = num(item?.memoryGB)
    const maxResourceVolumeMB = num(item?.maxResourceVolumeMB)
    if (!name || vCPUs === undefined || gpus === undefined || memoryGB === undefined || maxResourceVolumeMB === undefined) {
      skipped.push(name ?? JSON.stringify(item).slice(0, 60))
      continue
    }
    const entry: SkuCatalogEntry = {name, vCPUs: Math.trunc(vCPUs), gpus: Math.trunc(gpus), memoryGB, maxResourceVolumeMB, source}
    if (typeof item.family === 'string') entry.family = item.family
    entries.push(entry)
  }
  entries.sort((a, b) => a.name.localeCompare(b.name))
  return {entries, skipped}
}

/** Fetches the region's VM sizes and writes them as a catalog file (atomically). */
export async function refreshSkuCatalog(opts: RefreshOptions): Promise<SkusRefreshResult> {
  if (!SUBSCRIPTION_RE.test(opts.subscription)) throw new UsageError(`--subscription: '${opts.subscription}' is not a subscription id (a GUID)`)
  if (!REGION_RE.test(opts.region)) throw new UsageError(`--region: '${opts.region}' is not an Azure region name (e.g. eastus, westeurope)`)
  const {url, insecureLoopback} = checkEndpointUrl(opts.armEndpoint ?? DEFAULT_ARM_ENDPOINT, '--arm-endpoint')
  const target = {armEndpoint: url.origin + url.pathname.replace(/\/+$/, ''), insecureLoopback, subscription: opts.subscription, resourceGroup: ''}
  const scope = insecureLoopback ? 'https://management.azure.com/.default' : `${target.armEndpoint}/.default`
  await acquireToken({credential: opts.credential, source: opts.credentialSource}, scope)
  const client = new ArmClient(target, opts.credential, {retry: opts.retry, log: opts.log})
  const path = `/subscriptions/${opts.subscription}/providers/Microsoft.MachineLearningServices/locations/${opts.region}/vmSizes`
  const res = await client.request('GET', path, {apiVersion: SDK_API_VERSION, what: `vmSizes of ${opts.region}`})
  const fetchedAt = (opts.now ?? (() => new Date()))().toISOString()
  const source = `vmSizes API ${opts.region} ${fetchedAt.slice(0, 10)}`
  const {entries, skipped} = parseVmSizes(res.json, source)
  if (entries.length === 0) throw new RemoteError(`vmSizes of ${opts.region}: the answer lists no VM sizes${skipped.length ? ` with all four figures (${skipped.length} incomplete)` : ''}`)

  const file: SkuCatalogFile = {
    description: `Azure ML VM sizes of ${opts.region} from the vmSizes API (api-version ${SDK_API_VERSION}), written by vitrine skus refresh. Use with: vitrine validate --sku-catalog ${opts.output}`,
    origin: `vmSizes API ${opts.subscription}/${opts.region}`,
    region: opts.region,
    subscription: opts.subscription,
    apiVersion: SDK_API_VERSION,
    fetchedAt,
    skus: entries,
  }
  await writeFileAtomic(opts.output, JSON.stringify(file, null, 2) + '\n')

  const bundled = loadSkuCatalog()
  const differing: SkuDifference[] = []
  for (const e of entries) {
    const b = bundled.get(e.name)
    if (!b) continue
    const api = formatMinSkuSpec(entryToSpec(e, source))
    const old = formatMinSkuSpec(b)
    if (api !== old) differing.push({name: e.name, bundled: old, api})
  }
  const have = new Set(entries.map((e) => e.name))
  return {
    file: opts.output,
    subscription: opts.subscription,
    region: opts.region,
    apiVersion: SDK_API_VERSION,
    fetchedAt,
    skus: entries.length,
    skipped,
    comparedToBundled: {differing, supportedInferenceMissing: SUPPORTED_INFERENCE_SKUS.filter((n) => !have.has(n))},
  }
}
