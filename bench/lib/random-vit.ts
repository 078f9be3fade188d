import {vitConfigJson} from '../../src/models/vit/config.js'
import {writeRandomModelFolder} from './random-model.js'

export {randomTensor} from './random-model.js'

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

/**
 * Writes a Hugging Face ViT folder (config.json, preprocessor_config.json, model.safetensors, F32) of seeded random
 * weights with geometry `g` (bench/lib/random-model.ts).
 */
export async function writeRandomVitFolder(dir: string, geometry: VitGeometry = VIT_B16, seed = 1234): Promise<string> {
  return writeRandomModelFolder(dir, vitConfigJson({channels: 3, qkvBias: true, layerNormEps: 1e-12, ...geometry}), geometry.labels, seed)
}
