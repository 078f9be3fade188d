/**
 * The model name `package` uses when neither --name nor the spec template gives one it should keep: a name of the
 * source's own, never the shipped template's google-vit-base-patch16-224 (which would claim another model's identity
 * for any weights). In order:
 *   1. the source's name: its folder's (for a weights file, the file's own stem unless it is a generic
 *      `model` / `pytorch_model`, else its folder's), unless that is generic too (`model`, `mlflow_model_folder`,
 *      or a Hugging Face cache snapshot's 40-hex commit);
 *   2. config.json's `_name_or_path` when it is a Hugging Face id (`microsoft/beit-base-patch16-224` becomes
 *      `microsoft-beit-base-patch16-224`, the azureml-assets form of catalog names);
 *   3. `<model_type>-model`.
 * Each is made publishable by core/model-name.ts's modelNameFrom (a name not starting with a letter gets the
 * config's model_type before it).
 */
import {stat} from 'node:fs/promises'
import {basename, dirname, extname, join, resolve} from 'node:path'

import {modelNameFrom} from '../core/model-name.js'
import {readUserJsonFile} from '../core/user-file.js'

const GENERIC = /^(model|pytorch_model|mlflow_model_folder|[0-9a-f]{40})$/i
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/

/**
 * config.json beside the source, read through the one user-file opener (no FIFO, device or symlink out of the folder,
 * size-capped), leniently: a bad one is {} here and convert, which runs next, reports it properly.
 */
async function sourceConfig(folder: string): Promise<Record<string, unknown>> {
  const file = join(folder, 'config.json')
  let json: unknown
  try {
    json = await readUserJsonFile(file, {within: folder})
  } catch {
    return {}
  }
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {}
}

export async function defaultModelName(src: string): Promise<string> {
  const path = resolve(src)
  const isDir = await stat(path).then((s) => s.isDirectory(), () => false)
  const folder = isDir ? path : dirname(path)
  const config = await sourceConfig(folder)
  const modelType = typeof config.model_type === 'string' && /^[a-z][a-z0-9_]*$/.test(config.model_type) ? config.model_type : 'model'

  const stem = basename(path, isDir ? '' : extname(path))
  const own = [stem, basename(folder)].find((n) => n && !GENERIC.test(n))
  const hubId = typeof config._name_or_path === 'string' && HUB_ID.test(config._name_or_path) ? config._name_or_path : undefined
  for (const candidate of [own, hubId]) {
    const name = candidate === undefined ? undefined : modelNameFrom(candidate, modelType)
    if (name) return name
  }
  return `${modelType}-model`
}
