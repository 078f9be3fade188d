/** Reads a fixture's model.safetensors into a family's planned views (what the engine's loader does). */
import {readParameters} from '../../src/engine/read-parameters.js'
import type {PlannedTensor} from '../../src/models/tensor-plan.js'

export async function readPlanned(file: string, tensors: PlannedTensor[]): Promise<void> {
  await readParameters(file, tensors)
}
