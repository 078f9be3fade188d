/** Reads a fixture's model.safetensors into a family's planned views (what the engine's loader does). */
import {readTensors} from '../../src/engine/weights.js'
import type {PlannedTensor} from '../../src/models/tensors.js'

export async function readPlanned(file: string, tensors: PlannedTensor[]): Promise<void> {
  await readTensors(file, tensors.map((t) => ({name: t.name, shape: t.shape, dest: t.view})))
}
