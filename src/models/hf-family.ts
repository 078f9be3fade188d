/**
 * What the families that read only Hugging Face checkpoints (BEiT, SwinV2, DINOv2) share: their tensor table (each
 * tensor made from itself), their refusal to guess a config from tensor shapes, and the config.json they write.
 */
import {InvalidInputError} from '../core/errors.js'
import type {SourceScheme, TensorRecipe} from './family.js'
import type {PlannedTensor} from './tensor-plan.js'

export function hfTensorTable(tensors: readonly PlannedTensor[], scheme: SourceScheme, family: string): TensorRecipe[] {
  if (scheme !== 'hf') throw new Error(`internal: ${family} reads Hugging Face checkpoints only, not ${scheme}`)
  return tensors.map((t) => ({name: t.name, shape: t.shape, source: t.name, sourceShape: t.shape}))
}

export function refuseConfigFromTensors(family: string, file: string): never {
  throw new InvalidInputError(`${file}: a ${family} checkpoint needs its config.json (its geometry cannot be read off the tensor shapes alone): put config.json beside it or pass --config`, {file})
}

/** The config.json to write: the source's fields kept, with the family's model_type/architectures, labels and dtype. */
export function hfConfigOutput(source: Record<string, unknown>, labels: readonly string[], torchDtype: string, modelType: string, architecture: string): Record<string, unknown> {
  const id2label: Record<string, string> = {}
  const label2id: Record<string, number> = {}
  labels.forEach((l, i) => {
    id2label[String(i)] = l
    label2id[l] = i
  })
  return {...source, architectures: source.architectures ?? [architecture], model_type: modelType, id2label, label2id, torch_dtype: torchDtype}
}
