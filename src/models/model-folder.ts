/**
 * What package, verify and the ONNX export need of a Hugging Face model folder's config.json and weights: the
 * config read by its family's rules, and the weights' tensors compared with the family's tensor table.
 */
import {dirname} from 'node:path'

import {MAX_JSON_FILE_BYTES, readUserTextFile} from '../core/user-file.js'
import type {ModelConfig, ModelFamily} from './family.js'
import {type ModelOfConfig, parseModelConfigText} from './registry.js'

/** Reads and checks a config.json (a regular, size-capped file inside its folder); errors name the file and field. */
export async function readModelConfig(file: string): Promise<ModelOfConfig> {
  return parseModelConfigText(await readUserTextFile(file, {maxBytes: MAX_JSON_FILE_BYTES, within: dirname(file)}), file)
}

/** Shape mismatches between a checkpoint's tensors and the config: missing, unexpected, mis-shaped, each named. */
export function compareTensorShapes<C extends ModelConfig>(family: ModelFamily<C>, config: C, actual: ReadonlyArray<{name: string; shape: number[]}>): string[] {
  const problems: string[] = []
  const have = new Map(actual.map((t) => [t.name, t.shape]))
  const expected = family.tensorTable(config)
  const want = new Set(expected.map((t) => t.name))
  for (const t of expected) {
    const shape = have.get(t.name)
    if (!shape) problems.push(`tensor '${t.name}' is missing (expected shape [${t.shape.join(', ')}])`)
    else if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
      problems.push(`tensor '${t.name}' has shape [${shape.join(', ')}], expected [${t.shape.join(', ')}]`)
    }
  }
  for (const t of actual) if (!want.has(t.name)) problems.push(`tensor '${t.name}' is unexpected for this config`)
  return problems
}
