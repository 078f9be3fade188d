import {mkdir, open, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {seededRandom} from '../../src/core/random.js'
import {vitConfigJson} from '../../src/models/vit/config.js'
import {vitFamily} from '../../src/models/vit/family.js'
import {serializeSafetensorsHeader} from '../../src/weights/safetensors.js'

/** The geometry of a ViT (square images and patches; channels default to 3, qkv bias on); `VIT_B16` is google/vit-base-patch16-224's. */
export interface VitGeometry {
  hidden: number
  layers: number
  heads: number
  intermediate: number
  patch: number
  image: number
  labels: number
  channels?: number
  qkvBias?: boolean
}

export const VIT_B16: VitGeometry = {hidden: 768, layers: 12, heads: 12, intermediate: 3072, patch: 16, image: 224, labels: 1000}

/** Values for one tensor: LayerNorm weights near 1, everything else small (std ~0.02, like ViT's init). */
export function randomTensor(name: string, size: number, rand: () => number): Float32Array {
  const data = new Float32Array(size)
  const isLnWeight = /layernorm(_before|_after)?\.weight$/.test(name)
  for (let i = 0; i < size; i++) data[i] = isLnWeight ? 1 + (rand() - 0.5) * 0.1 : (rand() - 0.5) * 0.07
  return data
}

/**
 * Writes a Hugging Face model folder (config.json, preprocessor_config.json, model.safetensors, F32) of seeded random
 * weights with geometry `g`, streaming one tensor at a time so a full ViT-B/16 never sits in memory twice.
 */
export async function writeRandomVitFolder(dir: string, geometry: VitGeometry = VIT_B16, seed = 1234): Promise<string> {
  await mkdir(dir, {recursive: true})
  const labels = Array.from({length: geometry.labels}, (_, i) => `LABEL_${i}`)
  const raw = vitConfigJson({channels: 3, qkvBias: true, layerNormEps: 1e-12, ...geometry})
  const config = vitFamily.outputConfig(raw, labels, 'float32')
  const parsed = vitFamily.parseConfig(config, join(dir, 'config.json'))
  const tensors = vitFamily.tensorTable(parsed.config).map(({name, shape}) => ({name, shape, dtype: 'F32'}))
  const {head} = serializeSafetensorsHeader(tensors)
  const rand = seededRandom(seed)
  const fh = await open(join(dir, 'model.safetensors'), 'w')
  try {
    await fh.write(head)
    for (const t of tensors) {
      const data = randomTensor(t.name, t.shape.reduce((a, b) => a * b, 1), rand)
      await fh.write(new Uint8Array(data.buffer))
    }
  } finally {
    await fh.close()
  }
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n')
  await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(vitFamily.preprocessorDefaults(parsed.config), null, 2) + '\n')
  return dir
}
