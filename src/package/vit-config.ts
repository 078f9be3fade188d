import {dirname} from 'node:path'

import {InvalidInputError} from '../core/errors.js'
import {type VitConfig, parseVitConfigText} from '../engine/config.js'
import {canonicalTensors} from '../weights/layout.js'
import {readUserText} from './read.js'

/**
 * A model folder's config.json as packaging, verification and the ONNX export need it: the engine's parse of the
 * ViTConfig (same defaults and checks as transformers) plus the labels, restricted to the square images and patches
 * that `vitrine convert` writes.
 */
export interface VitConfigFacts extends VitConfig {
  imageSize: number
  patchSize: number
  /** Labels in class-index order (id2label). */
  labels: string[]
}

/** Reads and checks a config.json; errors name the file and field. */
export async function readVitConfig(file: string): Promise<VitConfigFacts> {
  const {config, labels} = parseVitConfigText(await readUserText(file, dirname(file)), file)
  if (config.imageHeight !== config.imageWidth || config.patchHeight !== config.patchWidth) {
    throw new InvalidInputError(
      `${file}: image_size ${config.imageHeight}x${config.imageWidth} / patch_size ${config.patchHeight}x${config.patchWidth}: vitrine packages square images and patches`,
      {file},
    )
  }
  if (config.imageHeight % config.patchHeight !== 0) {
    throw new InvalidInputError(`${file}: image_size ${config.imageHeight} is not a multiple of patch_size ${config.patchHeight}`, {file})
  }
  return {...config, imageSize: config.imageHeight, patchSize: config.patchHeight, labels}
}

/** The Hugging Face ViTForImageClassification tensors a config implies, with their shapes. */
export function expectedVitTensors(c: VitConfigFacts): Array<{name: string; shape: number[]}> {
  return canonicalTensors({
    hidden: c.hiddenSize,
    layers: c.numLayers,
    heads: c.numHeads,
    intermediate: c.intermediateSize,
    patch: c.patchSize,
    image: c.imageSize,
    channels: c.numChannels,
    labels: c.labels.length,
    qkvBias: c.qkvBias,
  })
}

/** Shape mismatches between a checkpoint's tensors and the config: missing, unexpected, mis-shaped, each named. */
export function compareTensorShapes(c: VitConfigFacts, actual: ReadonlyArray<{name: string; shape: number[]}>): string[] {
  const problems: string[] = []
  const have = new Map(actual.map((t) => [t.name, t.shape]))
  const expected = expectedVitTensors(c)
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
