/**
 * KIND model: the model version YAML (model.schema.json) that registers the asset, as the azureml-assets publish
 * step would: name and version from the spec, type from model.yaml's publish.type, path where the weights live,
 * the description file's text, and the spec's tags, properties and system_metadata as written (legacy or current
 * form alike: this is not a migration).
 */
import {resolve} from 'node:path'

import {InvalidInputError} from '../core/errors.js'
import {loadAssetFiles} from '../assets/asset.js'
import {isRecord} from '../assets/resolve.js'
import {azureMlSchemaUrl} from '../azureml/schemas.js'
import {provenance, relativeFromBase, type BuildContext, type BuildOutput} from './context.js'

/** Where the weights are, as a model version `path`: an https blob URL, or a local path relative to the YAML. */
function modelLocation(ctx: BuildContext): string {
  const p = ctx.facts.modelPath
  const file = `${ctx.facts.dir}/model.yaml`
  if (!p) throw new InvalidInputError(`${ctx.facts.name}: the asset has no model.yaml path, so there is nothing to register`, {file})
  const str = (key: string) => (typeof p[key] === 'string' ? (p[key] as string) : undefined)
  switch (p.type) {
    case 'azureblob': {
      const storage = str('storage_name')
      const container = str('container_name')
      const path = str('container_path')
      if (!storage || !container || !path) {
        throw new InvalidInputError(`${file}: path.type azureblob needs storage_name, container_name and container_path`, {file})
      }
      return `https://${storage}.blob.core.windows.net/${container}/${path.replace(/^\/+/, '')}`
    }
    case 'local': {
      const uri = str('uri')
      if (!uri) throw new InvalidInputError(`${file}: path.type local needs uri`, {file})
      return relativeFromBase(ctx.baseDir, resolve(ctx.facts.dir, uri))
    }
    default:
      throw new InvalidInputError(`${file}: path.type ${p.type} cannot be registered from a YAML (use azureblob or local)`, {file})
  }
}

export function buildModel(ctx: BuildContext): BuildOutput {
  const f = ctx.facts
  const spec = loadAssetFiles(f.dir).specData ?? {}
  const warnings: string[] = []
  const data: Record<string, unknown> = {$schema: azureMlSchemaUrl('model'), name: f.name}
  if (/^\d+$/.test(f.version)) data.version = Number(f.version)
  else warnings.push(`version ${f.version}: left out, so Azure assigns the next version`)
  data.type = f.publishType ?? 'custom_model'
  data.path = modelLocation(ctx)
  if (f.description !== undefined) data.description = f.description
  if (Object.keys(f.tags).length > 0) data.tags = f.tags
  if (Object.keys(f.properties).length > 0) data.properties = f.properties
  if (isRecord(spec.system_metadata)) data.system_metadata = spec.system_metadata
  if (f.form === 'legacy') warnings.push('the spec uses the legacy tags/properties form; azureml-assets now requires system_metadata (see `vitrine validate`)')
  return {
    documents: [
      {
        role: 'model',
        schema: 'model',
        fileName: 'model-version.yaml',
        content: {
          data,
          header: [...provenance(ctx), 'Register: az ml model create --file model-version.yaml --registry-name <registry>  (or: vitrine apply model-version.yaml)'],
        },
      },
    ],
    dataFiles: [],
    warnings,
  }
}
