import {copyFile, mkdir} from 'node:fs/promises'
import {join} from 'node:path'

import {tempDir} from '../helpers/tmp.js'
import {FIXTURES} from '../helpers/weight-writers.js'

/** A copy of the tiny ViT's Hugging Face folder (config, processor, weights) in a fresh temp folder. */
export async function tinyFolder(): Promise<{root: string; model: string}> {
  const root = await tempDir()
  const model = join(root, 'model')
  await mkdir(model)
  for (const f of ['config.json', 'preprocessor_config.json', 'model.safetensors']) await copyFile(join(FIXTURES, 'vit-tiny', f), join(model, f))
  return {root, model}
}
