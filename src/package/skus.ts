import {UsageError} from '../core/errors.js'
import {formatMinSkuSpec, minimumOverAllowList} from '../skus/catalog.js'
import type {SkuCatalog} from '../skus/types.js'
import type {Scenario} from './asset-yaml.js'

/**
 * SKUs given on the command line for one scenario become its allow list, its recommended list (azureml-assets wants
 * the two equal) and its min-SKU spec, which must be the per-field minimum over the list: computed here from the SKU
 * catalog so the package passes `vitrine validate` by construction.
 */
export function scenarioSkus(scenario: Scenario, names: string[], catalog: SkuCatalog): {skus: string[]; minSkuSpec: string} {
  const skus = [...new Set(names.map((n) => n.trim()).filter(Boolean))]
  if (skus.length === 0) throw new UsageError(`--${scenario}-sku: give at least one SKU name`)
  const {minimum, unknown} = minimumOverAllowList(skus, catalog)
  if (unknown.length || !minimum) {
    const hints = unknown.map((n) => {
      const near = catalog.suggest(n)
      return near.length ? `${n} (did you mean ${near.join(', ')}?)` : n
    })
    throw new UsageError(`--${scenario}-sku: unknown SKU ${hints.join('; ')} in the SKU catalog ${catalog.origin}`, {
      hint: 'Check the name, or refresh the catalog with `vitrine skus refresh` and pass it with --sku-catalog.',
    })
  }
  return {skus, minSkuSpec: formatMinSkuSpec(minimum)}
}
