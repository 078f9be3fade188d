import {join} from 'node:path'

import {writeStreamAtomic} from '../core/atomic.js'
import {InvalidInputError} from '../core/errors.js'
import {openOrUsage} from '../core/fs.js'
import {type Progress, silentProgress} from '../core/progress.js'
import {compareTensorShapes, readModelConfig} from '../models/model-folder.js'
import {supportedFamiliesText} from '../models/registry.js'
import {readSafetensorsHeader} from '../weights/safetensors.js'
import {OnnxGraph, type WeightSource} from './graph.js'
import {OnnxDataType, modelProto, valueInfoProto} from './onnx-proto.js'

/**
 * A canonical Hugging Face folder (config.json + model.safetensors) as an ONNX model (opset 17): the model family
 * of config.json builds the graph (src/models/<family>/onnx-graph.ts) on the builder of ./graph.ts, which streams
 * the weights from the safetensors file into the protobuf as it is written.
 */

export const ONNX_OPSET = 17
/** IR version 8 is the one onnx 1.12 wrote with opset 17; every runtime that knows opset 17 reads it. */
export const ONNX_IR_VERSION = 8

/**
 * Writes `outFile` (atomically): the model in `modelDir` (config.json + model.safetensors, F32/F16/BF16 weights,
 * computed in float32) as an ONNX model with input `pixel_values` [batch, channels, H, W] and output
 * `logits` [batch, labels].
 */
export async function exportOnnx(modelDir: string, outFile: string, progress: Progress = silentProgress): Promise<void> {
  const configFile = join(modelDir, 'config.json')
  const {family, config} = await readModelConfig(configFile)
  if (!family.buildOnnxGraph) {
    throw new InvalidInputError(`${configFile}: ONNX export is not implemented for model_type ${JSON.stringify(family.modelType)} (vitrine supports ${supportedFamiliesText()})`, {file: configFile})
  }
  const weightsFile = join(modelDir, 'model.safetensors')
  const header = await readSafetensorsHeader(weightsFile)
  const problems = compareTensorShapes(family, config, header.tensors)
  if (problems.length) throw new InvalidInputError(`${weightsFile}: ${problems.join('; ')}`, {file: weightsFile})

  const fh = await openOrUsage(weightsFile)
  try {
    const src: WeightSource = {file: weightsFile, fh, dataStart: header.dataStart, byName: new Map(header.tensors.map((t) => [t.name, t]))}
    const g = new OnnxGraph(src, progress)
    family.buildOnnxGraph(g, config)
    const model = modelProto(
      {
        name: family.onnxModelName,
        nodes: g.nodes,
        initializers: g.initializers,
        inputs: [valueInfoProto('pixel_values', OnnxDataType.FLOAT, ['batch', config.numChannels, config.imageHeight, config.imageWidth])],
        outputs: [valueInfoProto('logits', OnnxDataType.FLOAT, ['batch', config.numLabels])],
      },
      {irVersion: ONNX_IR_VERSION, opset: ONNX_OPSET, producerName: 'vitrine', producerVersion: '1'},
    )
    progress.start('Exporting ONNX', header.tensors.length, 'tensors')
    await writeStreamAtomic(outFile, (write) => model.writeTo(write))
    progress.stop()
  } finally {
    await fh.close()
  }
}
