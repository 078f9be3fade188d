/**
 * What package, verify, the ONNX export and the engine need of a Hugging Face model folder's config.json and weights:
 * the config read by its family's rules, the weights' tensors compared with the family's tensor table, and how the
 * model will be served (the input size its image processor gives, the transformers version that runs it).
 */
import {stat} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {InvalidInputError} from '../core/errors.js'
import {MAX_JSON_FILE_BYTES, readUserTextFile} from '../core/user-file.js'
import type {PreprocessorConfig} from '../image/preprocessor-config.js'
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

/**
 * The transformers version that will serve the model, where a family's arithmetic depends on it (DINOv2's position
 * interpolation changed in 4.45): MLmodel's flavors.transformers.transformers_version when `modelDir` is an MLflow
 * folder's model/, else config.json's transformers_version, else undefined (the current code).
 */
export async function servingVersion(modelDir: string, configText: string): Promise<string | undefined> {
  const mlmodel = join(modelDir, '..', 'MLmodel')
  if (await stat(mlmodel).then((s) => s.isFile(), () => false)) {
    const m = /^\s+transformers_version:\s*['"]?([0-9][\w.+-]*)/m.exec(await readUserTextFile(mlmodel, {maxBytes: MAX_JSON_FILE_BYTES}))
    if (m) return m[1]
  }
  try {
    const v = (JSON.parse(configText) as Record<string, unknown>).transformers_version
    return typeof v === 'string' ? v : undefined
  } catch {
    return undefined
  }
}

/**
 * The pixel_values size a model takes: the image processor's output for a family that takes any size (DINOv2
 * resamples its position embeddings to it), else config.json's image size, which a resizing or cropping processor
 * must then produce (`files` are named in that error).
 */
export function servingInputSize(
  family: ModelFamily,
  config: ModelConfig,
  preprocessor: PreprocessorConfig,
  files: {config: string; preprocessor: string},
): {inputHeight: number; inputWidth: number} {
  const fixedSize = preprocessor.doResize || preprocessor.doCenterCrop
  if (fixedSize && !family.anyInputSize && (preprocessor.height !== config.imageHeight || preprocessor.width !== config.imageWidth)) {
    throw new InvalidInputError(
      `${files.preprocessor}: size is ${preprocessor.height}x${preprocessor.width} but ${files.config} has image_size ${config.imageHeight}x${config.imageWidth}; the position embeddings need images of that size`,
      {file: files.preprocessor},
    )
  }
  return fixedSize && family.anyInputSize ? {inputHeight: preprocessor.height, inputWidth: preprocessor.width} : {inputHeight: config.imageHeight, inputWidth: config.imageWidth}
}
