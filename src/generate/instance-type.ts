/**
 * Which VM size a generated YAML asks for: the smallest SKU of the asset's allow list for the scenario that meets
 * the asset's min-SKU spec, by the SKU catalog's figures.
 *
 * "Smallest" orders by GPUs first (a GPU costs more than any number of the vCPUs these lists offer), then vCPUs,
 * memory and disk, then name, so the choice is deterministic and never depends on the allow list's order.
 */
import {InvalidInputError} from '../core/errors.js'
import {formatMinSkuSpec, meetsSpec, parseMinSkuSpec, shortfalls, type MinSkuFigures} from '../skus/catalog.js'
import type {Scenario} from '../assets/facts.js'
import type {ModelAssetFacts} from '../assets/facts.js'
import type {SkuCatalog, SkuSpec} from '../skus/types.js'

export interface InstanceTypeChoice {
  name: string
  scenario: Scenario
  /** How it was chosen: by vitrine, by `--set instance_type=...` within the allow list, or forced outside it (--allow-sku-outside-list). */
  source: 'selected' | 'set' | 'forced'
  /** One sentence a person reads: why this SKU. */
  reason: string
  /** The catalog's figures for it, when the catalog knows it. */
  figures?: {vcpus: number; gpus: number; memoryGiB: number; diskGiB: number}
  /** The asset's min-SKU spec for the scenario, when it states one. */
  minSkuSpec?: string
}

function figuresOf(sku: SkuSpec): InstanceTypeChoice['figures'] {
  return {vcpus: sku.vcpus, gpus: sku.gpus, memoryGiB: sku.memoryGiB, diskGiB: sku.diskGiB}
}

/** Smaller first: GPUs, vCPUs, memory, disk, then name. */
export function compareSkuSize(a: SkuSpec, b: SkuSpec): number {
  return a.gpus - b.gpus || a.vcpus - b.vcpus || a.memoryGiB - b.memoryGiB || a.diskGiB - b.diskGiB || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

const SCENARIO_LABEL: Record<Scenario, string> = {inference: 'inference', evaluation: 'evaluation', finetune: 'finetune'}

function describeFigures(s: SkuSpec): string {
  return `${s.vcpus} vCPU${s.vcpus === 1 ? '' : 's'}, ${s.gpus} GPU${s.gpus === 1 ? '' : 's'}, ${s.memoryGiB} GiB memory, ${s.diskGiB} GiB disk`
}

/** The asset's allow list for a scenario, or an error saying the asset declares none. */
function allowListOf(facts: ModelAssetFacts, scenario: Scenario): string[] {
  const list = facts.skus[scenario]?.allowList ?? []
  if (list.length === 0) {
    throw new InvalidInputError(`${facts.name}: the asset declares no ${SCENARIO_LABEL[scenario]} compute allow list, so no instance type can be chosen`, {
      file: facts.dir,
      hint: `Add the ${scenario} SKUs to the spec, or pass --set instance_type=<SKU> --allow-sku-outside-list.`,
    })
  }
  return list
}

/** Chooses the smallest allow-listed SKU meeting the min-SKU spec. Throws InvalidInputError when none does. */
export function selectInstanceType(facts: ModelAssetFacts, scenario: Scenario, catalog: SkuCatalog): InstanceTypeChoice {
  const allowList = allowListOf(facts, scenario)
  const minSkuSpec = facts.skus[scenario]?.minSkuSpec
  const spec: MinSkuFigures | undefined = minSkuSpec === undefined ? undefined : parseMinSkuSpec(minSkuSpec)
  const known = allowList.map((n) => catalog.get(n)).filter((s): s is SkuSpec => s !== undefined)
  const unknown = allowList.filter((n) => !catalog.get(n))
  const candidates = spec ? known.filter((s) => meetsSpec(s, spec)) : known
  if (candidates.length === 0) {
    const why = known.length === 0
      ? `none of its ${allowList.length} SKUs is in the SKU catalog (${catalog.origin})`
      : `none of the ${known.length} SKUs the catalog knows meets ${minSkuSpec}: ${known.slice(0, 3).map((s) => `${s.name} (${shortfalls(s, spec!).join(', ')})`).join('; ')}`
    throw new InvalidInputError(`${facts.name}: no ${scenario} instance type can be chosen: ${why}`, {
      file: facts.dir,
      hint: 'Run `vitrine validate` on the asset, or pass --set instance_type=<SKU>.',
    })
  }
  const best = [...candidates].sort(compareSkuSize)[0]
  const meets = spec ? `meets the ${scenario} min-SKU spec ${formatMinSkuSpec(spec)}` : 'the asset states no min-SKU spec'
  const ignored = unknown.length > 0 ? `; ${unknown.length} allow-list SKU(s) not in the catalog were skipped: ${unknown.join(', ')}` : ''
  return {
    name: best.name,
    scenario,
    source: 'selected',
    reason: `smallest (by GPUs, vCPUs, memory, disk) of the ${candidates.length} SKUs in the ${scenario} allow list that ${spec ? meets.replace('meets', 'meet') : `qualify (${meets})`}: ${describeFigures(best)}${ignored}`,
    figures: figuresOf(best),
    ...(minSkuSpec === undefined ? {} : {minSkuSpec}),
  }
}

/**
 * Checks a SKU the user named. Inside the allow list it is taken; outside it is refused unless `allowOutsideList` (--allow-sku-outside-list). A name the
 * catalog does not know gets "did you mean".
 */
export function checkRequestedInstanceType(
  facts: ModelAssetFacts,
  scenario: Scenario,
  name: string,
  catalog: SkuCatalog,
  allowOutsideList: boolean,
): {choice: InstanceTypeChoice; warnings: string[]} {
  const allowList = facts.skus[scenario]?.allowList ?? []
  const sku = catalog.get(name)
  const minSkuSpec = facts.skus[scenario]?.minSkuSpec
  const spec = minSkuSpec === undefined ? undefined : parseMinSkuSpec(minSkuSpec)
  const warnings: string[] = []
  const base = {name, scenario, ...(sku ? {figures: figuresOf(sku)} : {}), ...(minSkuSpec === undefined ? {} : {minSkuSpec})}
  if (allowList.includes(name)) {
    if (sku && spec && !meetsSpec(sku, spec)) warnings.push(`${name} is in the allow list but below the min-SKU spec ${minSkuSpec}: ${shortfalls(sku, spec).join(', ')}`)
    return {choice: {...base, source: 'set', reason: `set with --set; in the asset's ${scenario} allow list`}, warnings}
  }
  const caseMatch = allowList.find((n) => n.toLowerCase() === name.toLowerCase())
  const suggestions = caseMatch ? [caseMatch] : catalog.suggest(name).filter((n) => allowList.includes(n))
  if (!allowOutsideList) {
    throw new InvalidInputError(
      `instance type ${name} is not in ${facts.name}'s ${scenario} allow list (${allowList.length} SKUs)` +
        (suggestions.length ? `; did you mean ${suggestions.join(' or ')}?` : ''),
      {file: facts.dir, hint: 'Azure refuses a deployment on a SKU outside the model\'s allow list; pass --allow-sku-outside-list to write it anyway.'},
    )
  }
  warnings.push(`instance type ${name} is outside ${facts.name}'s ${scenario} allow list (written because of --allow-sku-outside-list)`)
  if (!sku) warnings.push(`instance type ${name} is not in the SKU catalog (${catalog.origin})`)
  else if (spec && !meetsSpec(sku, spec)) warnings.push(`${name} is below the ${scenario} min-SKU spec ${minSkuSpec}: ${shortfalls(sku, spec).join(', ')}`)
  return {choice: {...base, source: 'forced', reason: `set with --set and --allow-sku-outside-list; outside the asset's ${scenario} allow list`}, warnings}
}
