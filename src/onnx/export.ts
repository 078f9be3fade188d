import {stat} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {writeStreamAtomic} from '../core/atomic.js'
import {InvalidInputError, previewValue} from '../core/errors.js'
import {openOrUsage} from '../core/fs.js'
import {type Progress, silentProgress} from '../core/progress.js'
import {MAX_JSON_FILE_BYTES, parseJsonText, readUserTextFile} from '../core/user-file.js'
import {parsePreprocessorConfig} from '../image/preprocessor.js'
import type {ServingContext} from '../models/family.js'
import {compareTensorShapes, servingInputSize, servingVersion} from '../models/model-folder.js'
import {parseModelConfigText, supportedFamiliesText} from '../models/registry.js'
import {readSafetensorsHeader} from '../weights/safetensors.js'
import {OnnxGraph, type WeightSource} from './graph.js'
import {OnnxDataType, modelProto, valueInfoProto} from './onnx-proto.js'

/**
 * A canonical Hugging Face folder (config.json + model.safetensors) as an ONNX model (opset 17): the model family
 * of config.json builds the graph (src/models/<family>/onnx-graph.ts) on the builder of ./graph.ts, which streams
 * the weights from the safetensors file into the protobuf as it is written.
 *
 * The graph takes images of the size the model is served at, as the engine does (src/engine/classifier.ts): config.json's
 * image size, or for a family that takes any size (DINOv2) the size the folder's image processor produces, with
 * what depends on that size (DINOv2's resampled position embeddings) computed at export, for the transformers version
 * that serves the model. The batch dimension is dynamic.
 */

export const ONNX_OPSET = 17
/** IR version 8 is the one onnx 1.12 wrote with opset 17; every runtime that knows opset 17 reads it. */
export const ONNX_IR_VERSION = 8

export interface OnnxExportOptions {
  /**
   * The transformers version that will serve the model (where the family's arithmetic depends on it), when the caller
   * knows it better than the folder does (`package` decides it before MLmodel is written); default: the folder's.
   */
  transformersVersion?: string
}

export interface OnnxExportResult {
  /** pixel_values' shape without the batch: [channels, height, width]. */
  inputShape: [number, number, number]
  numLabels: number
}

/** The folder's preprocessor_config.json: beside config.json, or in ../components/image_processor/ (MLflow layout). */
async function findPreprocessor(modelDir: string): Promise<string | undefined> {
  for (const file of [join(modelDir, 'preprocessor_config.json'), join(modelDir, '..', 'components', 'image_processor', 'preprocessor_config.json')]) {
    if (await stat(file).then((s) => s.isFile(), () => false)) return file
  }
  return undefined
}

/**
 * Writes `outFile` (atomically): the model in `modelDir` (config.json + model.safetensors, F32/F16/BF16 weights,
 * computed in float32) as an ONNX model with input `pixel_values` [batch, channels, H, W] and output
 * `logits` [batch, labels].
 */
export async function exportOnnx(modelDir: string, outFile: string, progress: Progress = silentProgress, options: OnnxExportOptions = {}): Promise<OnnxExportResult> {
  const configFile = join(modelDir, 'config.json')
  const configText = await readUserTextFile(configFile, {maxBytes: MAX_JSON_FILE_BYTES, within: dirname(configFile)})
  const {family, config} = parseModelConfigText(configText, configFile)
  if (!family.buildOnnxGraph) {
    throw new InvalidInputError(`${configFile}: ONNX export is not implemented for model_type ${previewValue(family.modelType)} (vitrine supports ${supportedFamiliesText()})`, {file: configFile})
  }
  const weightsFile = join(modelDir, 'model.safetensors')
  const header = await readSafetensorsHeader(weightsFile)
  const problems = compareTensorShapes(family, config, header.tensors)
  if (problems.length) throw new InvalidInputError(`${weightsFile}: ${problems.join('; ')}`, {file: weightsFile})

  // The served input size, as the engine's loader works it out (no image processor: config.json's image size).
  const preprocessorFile = await findPreprocessor(modelDir)
  const input = preprocessorFile
    ? servingInputSize(
        family,
        config,
        parsePreprocessorConfig(parseJsonText(await readUserTextFile(preprocessorFile, {maxBytes: MAX_JSON_FILE_BYTES}), preprocessorFile, {file: preprocessorFile}), preprocessorFile, family.processorKind ?? 'vit'),
        {config: configFile, preprocessor: preprocessorFile},
      )
    : {inputHeight: config.imageHeight, inputWidth: config.imageWidth}
  const serving: ServingContext = {...input, transformersVersion: options.transformersVersion ?? (await servingVersion(modelDir, configText)), weightsFile}

  const fh = await openOrUsage(weightsFile)
  try {
    const src: WeightSource = {file: weightsFile, fh, dataStart: header.dataStart, byName: new Map(header.tensors.map((t) => [t.name, t]))}
    const g = new OnnxGraph(src, progress)
    family.buildOnnxGraph(g, config, serving)
    const inputShape: [number, number, number] = [config.numChannels, serving.inputHeight, serving.inputWidth]
    const model = modelProto(
      {
        name: family.onnxModelName,
        nodes: g.nodes,
        initializers: g.initializers,
        inputs: [valueInfoProto('pixel_values', OnnxDataType.FLOAT, ['batch', ...inputShape])],
        outputs: [valueInfoProto('logits', OnnxDataType.FLOAT, ['batch', config.numLabels])],
      },
      {irVersion: ONNX_IR_VERSION, opset: ONNX_OPSET, producerName: 'vitrine', producerVersion: '1'},
    )
    progress.start('Exporting ONNX', header.tensors.length, 'tensors')
    await writeStreamAtomic(outFile, (write) => model.writeTo(write))
    progress.stop()
    return {inputShape, numLabels: config.numLabels}
  } finally {
    await fh.close()
  }
}
