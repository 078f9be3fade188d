import {copyFile, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {tempDir} from '../helpers/tmp.js'
import {FIXTURES} from '../helpers/weight-writers.js'

export const TINY = join(FIXTURES, 'vit-tiny')

/** The tiny ViT folder (config, processor, weights) in a fresh temp folder, with `edit` applied to its config.json. */
export async function tinyWithConfig(edit: (c: Record<string, unknown>) => void): Promise<{root: string; model: string}> {
  const root = await tempDir()
  const model = join(root, 'model')
  await mkdir(model)
  for (const f of ['preprocessor_config.json', 'model.safetensors']) await copyFile(join(TINY, f), join(model, f))
  const config = JSON.parse(await readFile(join(TINY, 'config.json'), 'utf8')) as Record<string, unknown>
  edit(config)
  await writeFile(join(model, 'config.json'), JSON.stringify(config))
  return {root, model}
}
