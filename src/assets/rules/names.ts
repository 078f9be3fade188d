/**
 * The name and version rules (validate_assets.py, config.py): `name-format`, `name-forbidden-word`, `name-mismatch`,
 * `version-mismatch`, and the asset's effective name and version (asset.yaml's, else the spec's).
 */
import {ASSETS_MODEL_NAME_RE, azureModelNameProblem} from '../../core/model-name.js'
import type {AssetFiles} from '../asset.js'
import {locate, type Position, type YamlFile} from '../yaml-file.js'
import type {Reporter} from './reporter.js'

export const ASSET_NAME_RE = /^[a-z][a-z0-9_.-]{0,254}$/
const TEMPLATE_RE = /\{\{.*\}\}/

/** No file in an asset folder may be larger than this (validate_tree.py): weights belong in blob storage. */
export const MAX_ASSET_FILE_BYTES = 1024 * 1024

/** Reserved words in a name (validate_name): models starting with "Azure-" are exempt (#4528). */
export function forbiddenWords(name: string, type: string): string[] {
  if (type === 'model' && name.startsWith('Azure-')) return []
  const lower = name.toLowerCase()
  const words = ['azureml', 'azure', 'aml', type]
  if (type !== 'model' && type !== 'evaluationresult') words.push('microsoft')
  const found = words.filter((w) => w !== '' && lower.includes(w))
  // "azureml" contains "azure" and "aml": name the longest match only.
  return found.filter((w) => !found.some((o) => o !== w && o.includes(w)))
}

/** The effective name and version of an asset, and where the name is stated (for duplicate-asset). */
export interface AssetIdentity {
  name: string | null
  version: string | null
  nameAt?: Position & {file: string}
}

/** Checks the name and version of an asset whose asset.yaml parsed (`a`, of `type`). */
export function checkNameAndVersion(r: Reporter, files: AssetFiles, a: Record<string, unknown>, type: string | null): AssetIdentity {
  const asset = files.asset
  const spec: YamlFile | undefined = files.spec
  const specData = files.specData
  const out: AssetIdentity = {name: null, version: null}
  // Name and version: asset.yaml may state them, else the spec does; when both do they must agree.
  const assetName = typeof a.name === 'string' ? a.name : undefined
  const specName = specData && typeof specData.name === 'string' ? specData.name : undefined
  const name = assetName ?? specName
  const nameYaml = assetName !== undefined ? asset : spec
  out.name = name ?? null
  const assetVersion = a.version !== undefined && a.version !== null ? String(a.version) : undefined
  const specVersion = specData && specData.version !== undefined && specData.version !== null ? String(specData.version) : undefined
  out.version = assetVersion ?? specVersion ?? null
  if (assetName !== undefined && specName !== undefined && assetName !== specName && !TEMPLATE_RE.test(specName)) {
    r.at(asset, ['name'], 'name-mismatch', `asset and spec name mismatch: asset.yaml says ${assetName}, ${spec!.file} says ${specName}`)
  }
  if (assetVersion !== undefined && specVersion !== undefined && assetVersion !== specVersion && assetVersion !== 'auto' && !TEMPLATE_RE.test(specVersion)) {
    r.at(asset, ['version'], 'version-mismatch', `asset and spec version mismatch: asset.yaml says ${assetVersion}, ${spec!.file} says ${specVersion}`)
  }
  if (name !== undefined && nameYaml && type) {
    const pos = locate(nameYaml, ['name'])
    out.nameAt = {...pos, file: nameYaml.file}
    if (!TEMPLATE_RE.test(name)) {
      const re = type === 'model' ? ASSETS_MODEL_NAME_RE : ASSET_NAME_RE
      if (!re.test(name)) {
        r.at(nameYaml, ['name'], 'name-format', `name ${JSON.stringify(name)} does not match ${re.source}${type === 'model' ? '' : ' (lower case for non-model assets)'}`)
      } else if (type === 'model') {
        // The azureml-assets CI accepts it; Azure's REST API will not (a dot): a warning, so validate still agrees with the CI.
        const refused = azureModelNameProblem(name)
        if (refused) r.at(nameYaml, ['name'], 'name-format', refused, {severity: 'warning'})
      }
      const words = forbiddenWords(name, type)
      if (words.length) {
        const exempt = type === 'model' && /^azure-/i.test(name) ? " (only the exact prefix 'Azure-' is exempt)" : ''
        r.at(nameYaml, ['name'], 'name-forbidden-word', `name ${JSON.stringify(name)} contains the reserved word${words.length > 1 ? 's' : ''} ${words.map((w) => `"${w}"`).join(', ')}${exempt}`)
      }
    }
  } else if (specData && type !== 'model' && name === undefined && spec) {
    r.missing(spec, ['name'], 'schema', `${spec.file}: the asset has no name (neither asset.yaml nor the spec states one)`)
  }
  return out
}
