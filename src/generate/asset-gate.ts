/**
 * generate derives YAMLs only from an asset that passes `vitrine validate` (the same `validatePaths`): a wrong
 * min-SKU spec or allow list would otherwise turn into a wrong instance type. Errors refuse the run (exit 1) with
 * the validator's diagnostics; warnings pass.
 */
import {InvalidInputError} from '../core/errors.js'
import {validatePaths} from '../assets/validate.js'

/** How many diagnostics the refusal lists before "and N more". */
const SHOWN = 10

export async function assertAssetValid(dir: string, options: {cwd?: string; skuCatalog?: string} = {}): Promise<void> {
  const checked = await validatePaths([dir], options)
  const errors = checked.assets.flatMap((a) => a.diagnostics).filter((d) => d.severity === 'error')
  if (errors.length === 0) return
  const lines = errors.slice(0, SHOWN).map((d) => `  ${d.file}:${d.line}:${d.column} ${d.rule}: ${d.message}`)
  if (errors.length > SHOWN) lines.push(`  ... and ${errors.length - SHOWN} more`)
  throw new InvalidInputError(`${dir}: the asset fails validation (${errors.length} error${errors.length === 1 ? '' : 's'}), so nothing was generated:\n${lines.join('\n')}`, {
    file: dir,
    hint: `Run \`vitrine validate ${dir}\` for the details; \`vitrine validate --fix\` repairs min-SKU specs.`,
  })
}
