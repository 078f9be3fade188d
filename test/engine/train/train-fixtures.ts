/**
 * Reading the PyTorch training references: test/fixtures/vit-{tiny,geom}/train-{basic,accum} (see
 * ../shared/fixtures/README.md) and {dinov2,beit}-tiny/train-{basic,accum} (scripts/reference/train_family.py; see
 * test/fixtures/FIXTURES.md).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import type {TrainKernels} from '../../../src/engine/train/kernels.js'
import type {TrainModel} from '../../../src/engine/train/model.js'
import {parsePreprocessorConfig} from '../../../src/image/index.js'
import {servingInputSize, servingVersion} from '../../../src/models/model-folder.js'
import {parseModelConfigText} from '../../../src/models/registry.js'
import {loadSafetensors, tensorBytes, tensorToFloat32} from '../../../src/weights/safetensors.js'
import {FIXTURES} from '../fixtures.js'

export interface TrainCase {
  hyperparameters: {
    batch: number
    accum: number
    steps: number
    lr: number
    warmup: number
    schedule: 'linear' | 'cosine'
    weight_decay: number
    max_grad_norm: number
    label_smoothing: number
  }
  data: {images: string[]; pixel_values: string[]; labels: number[]; label_names: string[]; epochs: number}
  steps: Array<{step: number; lr: number; loss: number; grad_norm: number}>
  final_logits_on_inputs: number[][]
}

export const TRAIN_CASES = [
  ['vit-tiny', 'train-basic'],
  ['vit-tiny', 'train-accum'],
  ['vit-geom', 'train-basic'],
  ['vit-geom', 'train-accum'],
  ['dinov2-tiny', 'train-basic'],
  ['dinov2-tiny', 'train-accum'],
  ['beit-tiny', 'train-basic'],
  ['beit-tiny', 'train-accum'],
] as const

/** The fixture's family training model for `maxBatch` images at its processor's size (weights not loaded). */
export async function createFixtureTrainModel(fixture: string, kernels: TrainKernels, maxBatch: number): Promise<TrainModel> {
  const dir = join(FIXTURES, fixture)
  const files = {dir, config: join(dir, 'config.json'), preprocessor: join(dir, 'preprocessor_config.json'), weights: join(dir, 'model.safetensors')}
  const configText = readFileSync(files.config, 'utf8')
  const {family, config} = parseModelConfigText(configText, files.config)
  const pre = parsePreprocessorConfig(JSON.parse(readFileSync(files.preprocessor, 'utf8')), files.preprocessor, family.processorKind ?? 'vit')
  const serving = {...servingInputSize(family, config, pre, files), transformersVersion: await servingVersion(dir, configText), weightsFile: files.weights}
  if (!family.createTrainModel) throw new Error(`${fixture}: the ${family.modelType} family does not train`)
  return family.createTrainModel(config, kernels, maxBatch, serving)
}

export function readTrainCase(fixture: string, name: string): TrainCase {
  return JSON.parse(readFileSync(join(FIXTURES, fixture, name, 'train.json'), 'utf8')) as TrainCase
}

/** Every tensor of the case's final.safetensors, by name. */
export async function readFinalWeights(fixture: string, name: string): Promise<Map<string, Float32Array>> {
  const file = join(FIXTURES, fixture, name, 'final.safetensors')
  const st = await loadSafetensors(file)
  return new Map(st.header.tensors.map((t) => [t.name, tensorToFloat32(tensorBytes(st, t), t.dtype, t.name, file)]))
}

/** The bars. */
export const LOSS_TOL = 1e-4
export const GRAD_NORM_REL_TOL = 1e-4
export const WEIGHT_TOL = 1e-3
/** The trained model's logits against PyTorch's after training (weights within 1e-3 move logits by about as much). */
export const FINAL_LOGITS_TOL = 2e-3
