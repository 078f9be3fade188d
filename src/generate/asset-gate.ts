/**
 * generate derives YAMLs only from an asset that passes `vitrine validate`: a wrong min-SKU spec or allow list would
 * otherwise turn into a wrong instance type. Errors refuse the run (exit 1) with the validator's diagnostics;
 * warnings pass.
 */
import {InvalidInputError} from '../core/errors.js'
import {SUPPORTED_INFERENCE_SKUS} from '../skus/supported-inference.js'
import type {SkuCatalog} from '../skus/types.js'
import {validateAssetFolder} from '../spec/validate-asset.js'
import {resolve} from 'node:path'

/** How many diagnostics the refusal lists before "and N more". */
const SHOWN = 10

export async function assertAssetValid(dir: string, catalog: SkuCatalog): Promise<void> {
  const checked = validateAssetFolder(resolve(dir), dir, {catalog, supportedInference: new Set(SUPPORTED_INFERENCE_SKUS)})
  const errors = checked.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length === 0) return
  const lines = errors.slice(0, SHOWN).map((d) => `  ${d.file}:${d.line}:${d.column} ${d.rule}: ${d.message}`)
  if (errors.length > SHOWN) lines.push(`  ... and ${errors.length - SHOWN} more`)
  throw new InvalidInputError(`${dir}: the asset fails validation (${errors.length} error${errors.length === 1 ? '' : 's'}), so nothing was generated:\n${lines.join('\n')}`, {
    file: dir,
    hint: `Run \`vitrine validate ${dir}\` for the details; \`vitrine validate --fix\` repairs min-SKU specs.`,
  })
}
