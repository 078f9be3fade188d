/**
 * A Hugging Face model folder of any family (config.json, preprocessor_config.json, model.safetensors in F32) with
 * seeded random weights spread wide enough that two implementations disagreeing anywhere show it, for geometries and
 * config variants the PyTorch fixtures do not cover: LayerNorm weights near 1, layer scales around 0.5, SwinV2's logit
 * scales across the log(100) clamp, everything else uniform in +-0.15. (bench/lib/random-model.ts writes the
 * benchmarks' folders with init-scale weights, std ~0.02: attention is then nearly uniform and the logits tiny, so a
 * missing bias moves them by less than 1e-4 and a comparison there proves little.)
 */
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {seededRandom} from '../../src/core/random.js'
import {parseModelConfig} from '../../src/models/registry.js'
import {serializeSafetensorsHeader} from '../../src/weights/safetensors.js'

function value(name: string, rand: () => number): number {
  if (/norm\w*\.weight$/.test(name)) return 1 + (rand() - 0.5) * 0.1
  if (/(lambda_?\d|layer_scale\d\.lambda1)$/.test(name)) return 0.2 + rand() * 0.6
  if (name.endsWith('logit_scale')) return -1 + rand() * 7 // exp clamped at log(100) ~ 4.6 for some heads
  return (rand() - 0.5) * 0.3
}

/** Writes the folder; `config` is config.json's content (model_type and geometry; labels default to num_labels). */
export async function writeSpreadModelFolder(dir: string, config: Record<string, unknown>, seed = 1, preprocessor?: Record<string, unknown>): Promise<string> {
  await mkdir(dir, {recursive: true})
  const {family, config: parsed, labels} = parseModelConfig(config, join(dir, 'config.json'))
  const tensors = family.tensorTable(parsed).map(({name, shape}) => ({name, shape, dtype: 'F32'}))
  const {head} = serializeSafetensorsHeader(tensors)
  const rand = seededRandom(seed)
  const data = tensors.map((t) => Float32Array.from({length: t.shape.reduce((a, b) => a * b, 1)}, () => value(t.name, rand)))
  await writeFile(join(dir, 'model.safetensors'), Buffer.concat([head, ...data.map((d) => new Uint8Array(d.buffer))]))
  await writeFile(join(dir, 'config.json'), JSON.stringify(family.outputConfig(config, labels, 'float32'), null, 2) + '\n')
  await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(preprocessor ?? family.preprocessorDefaults(parsed), null, 2) + '\n')
  return dir
}
