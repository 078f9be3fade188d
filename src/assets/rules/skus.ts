/**
 * The SKU rules of each declared scenario (inference always; evaluation and finetune when declared):
 * `sku-allow-list-missing`, `sku-recommended-mismatch`, `sku-unsupported`, `sku-unknown`, `min-sku-spec-format`,
 * `min-sku-spec-mismatch` (the per-field minimum over the allow list, from the SKU catalog).
 */
import {formatMinSkuSpec, minimumOverAllowList, parseMinSkuSpec, shortfalls} from '../../skus/catalog.js'
import type {SkuCatalog} from '../../skus/types.js'
import type {Scenario} from '../facts.js'
import type {ResolvedScenario} from '../resolve.js'
import type {YamlFile, YamlPath} from '../yaml-file.js'
import type {Reporter} from './reporter.js'
import {previewValue} from '../../core/errors.js'

const SCENARIO_LABEL: Record<Scenario, string> = {inference: 'inference', evaluation: 'evaluation', finetune: 'finetune'}

export function checkScenario(r: Reporter, spec: YamlFile, s: Scenario, sc: ResolvedScenario, ctx: {catalog: SkuCatalog; supportedInference: ReadonlySet<string>}): void {
  const label = SCENARIO_LABEL[s]
  const allow = sc.allowList?.value ?? []
  if (allow.length === 0) {
    const msg = `${label}: no compute allow list (${sc.homes.allowList.join('.')})${s === 'inference' ? ': the inference scenario is always validated' : ': the scenario is declared by its other keys'}`
    if (sc.allowList) r.at(spec, sc.allowList.path, 'sku-allow-list-missing', msg, {prefer: 'key'})
    else r.missing(spec, sc.homes.allowList, 'sku-allow-list-missing', msg)
    return
  }
  const allowItemPath = (i: number): YamlPath => sc.allowList?.itemPaths?.[i] ?? sc.allowList!.path

  // Recommended SKUs: the same set as the allow list (order does not matter).
  const rec = sc.recommended?.value ?? []
  const recPath = sc.recommended?.path ?? sc.homes.recommended
  if (rec.length === 0) {
    const fix = sc.recommended
      ? {kind: 'set-list' as const, path: recPath, values: allow, description: `${label} recommended SKUs := the ${allow.length} allow-list SKUs`}
      : {kind: 'add-key' as const, parentPath: recPath.slice(0, -1), key: String(recPath[recPath.length - 1]), value: allow, description: `added ${recPath.join('.')} = the ${allow.length} allow-list SKUs`}
    const msg = `${label}: no recommended SKUs (${recPath.join('.')}); they must be the same set as the compute allow list`
    if (sc.recommended) r.at(spec, recPath, 'sku-recommended-mismatch', msg, {prefer: 'key', fix})
    else r.missing(spec, recPath, 'sku-recommended-mismatch', msg, fix)
  } else {
    const recSet = new Set(rec)
    const allowSet = new Set(allow)
    const notRecommended = allow.filter((x) => !recSet.has(x))
    const notAllowed = rec.filter((x) => !allowSet.has(x))
    if (notRecommended.length || notAllowed.length) {
      const parts: string[] = []
      if (notRecommended.length) parts.push(`in the allow list but not recommended: ${notRecommended.join(', ')}`)
      if (notAllowed.length) parts.push(`recommended but not in the allow list: ${notAllowed.join(', ')}`)
      r.at(spec, recPath, 'sku-recommended-mismatch', `${label}: recommended SKUs differ from the compute allow list (${parts.join('; ')})`, {
        prefer: 'key',
        fix: {kind: 'set-list', path: recPath, values: allow, description: `${label} recommended SKUs := the ${allow.length} allow-list SKUs`},
      })
    }
  }

  if (s === 'inference') {
    allow.forEach((name, i) => {
      if (!ctx.supportedInference.has(name)) {
        r.at(spec, allowItemPath(i), 'sku-unsupported', `inference: ${name} is not a supported inference SKU (supported_inference_skus.json)`)
      }
    })
  }
  const unknownSeen = new Set<string>()
  allow.forEach((name, i) => {
    if (ctx.catalog.get(name) || unknownSeen.has(name)) return
    unknownSeen.add(name)
    const near = ctx.catalog.suggest(name)
    const hint = near.length ? `; did you mean ${near.join(' or ')}?` : ''
    r.at(spec, allowItemPath(i), 'sku-unknown', `${label}: unknown SKU ${name} (not in the SKU catalog ${ctx.catalog.origin})${hint}`)
  })

  // Min-SKU spec: the per-field minimum over the allow list.
  const {minimum, unknown} = minimumOverAllowList(allow, ctx.catalog)
  const expected = unknown.length === 0 && minimum ? formatMinSkuSpec(minimum) : undefined
  const stated = sc.minSkuSpec?.value.trim() ?? ''
  const minPath = sc.minSkuSpec?.path ?? sc.homes.minSkuSpec
  if (stated === '') {
    const should = expected ? `; the allow list's minimum is ${expected}` : ''
    const msg = `${label}: no min-SKU spec (${minPath.join('.')})${should}`
    if (sc.minSkuSpec) {
      r.at(spec, minPath, 'min-sku-spec-mismatch', msg, {prefer: 'key', fix: expected ? {kind: 'set-scalar', path: minPath, value: expected, description: `${label} min-SKU spec := ${expected}`} : undefined})
    } else {
      const fix = expected ? {kind: 'add-key' as const, parentPath: minPath.slice(0, -1), key: String(minPath[minPath.length - 1]), value: expected, description: `added ${minPath.join('.')} = ${expected}`} : undefined
      r.missing(spec, minPath, 'min-sku-spec-mismatch', msg, fix)
    }
    return
  }
  const figures = parseMinSkuSpec(stated)
  if (!figures) {
    r.at(spec, minPath, 'min-sku-spec-format', `${label}: min-SKU spec ${previewValue(stated)} is not "vCPUs|GPUs|memoryGB|diskGB" (four integers)${expected ? `; the allow list's minimum is ${expected}` : ''}`)
    return
  }
  if (!expected) return // unknown SKUs: sku-unknown said so; the minimum cannot be trusted.
  if (formatMinSkuSpec(figures) !== expected) {
    const below = allow
      .map((n) => ctx.catalog.get(n)!)
      .filter((sku) => shortfalls(sku, figures).length > 0)
      .map((sku) => `${sku.name} (${shortfalls(sku, figures).join(', ')})`)
    const belowText = below.length ? `; below the stated spec: ${below.join(', ')}` : '; no allowed SKU falls below it (the spec understates the minimum)'
    r.at(spec, minPath, 'min-sku-spec-mismatch', `${label}: min-SKU spec states ${stated}, the allow list's minimum is ${expected}${belowText}`, {
      fix: {kind: 'set-scalar', path: minPath, value: expected, description: `${label} min-SKU spec ${stated} -> ${expected}`},
    })
  }
}
