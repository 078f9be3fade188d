/** Reading the PyTorch training references (test/fixtures/vit-{tiny,geom}/train-{basic,accum}; see ../shared/fixtures/README.md). */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

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
] as const

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
