/**
 * The BEiT family (BeitForImageClassification): what src/models/registry.ts registers. config.ts (config.json
 * rules), tensors.ts (the Hugging Face tensor names and the parameter layout), weights.ts (what the forward pass runs),
 * forward.ts (run state and forward pass), onnx-graph.ts.
 */
import type {ModelFamily} from '../family.js'
import {hfConfigOutput, hfTensorTable, refuseConfigFromTensors} from '../hf-family.js'
import {BEIT_ARCHITECTURE, type BeitConfig, parseBeitConfig} from './config.js'
import {beitForward, createBeitState} from './forward.js'
import {buildBeitOnnxGraph} from './onnx-graph.js'
import {beitNumLabelsOf, beitParameters, beitTensors, detectBeitScheme} from './tensors.js'
import {createBeitTrainModel} from './train.js'
import {prepareBeitWeights} from './weights.js'

export const beitFamily = {
  modelType: 'beit',
  architectures: [BEIT_ARCHITECTURE],
  schemes: ['hf'],
  processorKind: 'beit',
  parseConfig: (json, file, options) => parseBeitConfig(json, file, options?.numLabelsFallback),
  tensorTable: (c, scheme = 'hf') => hfTensorTable(beitTensors(c), scheme, 'BEiT'),
  detectScheme: detectBeitScheme,
  numLabelsOf: beitNumLabelsOf,
  configFromTensors: (_scheme, _tensors, file) => refuseConfigFromTensors('BEiT', file),
  outputConfig: (source, labels, torchDtype) => hfConfigOutput(source, labels, torchDtype, 'beit', BEIT_ARCHITECTURE),
  describeConfig: (c) =>
    `hidden ${c.hiddenSize}, ${c.numLayers} layers, ${c.numHeads} heads, intermediate ${c.intermediateSize}, patch ${c.patchHeight}, image ${c.imageHeight}, ${c.numLabels} labels`,
  // BeitImageProcessor as the catalog's BEiT has it: resize to the image size, BILINEAR, no crop, mean/std 0.5.
  preprocessorDefaults: (c) => ({
    do_center_crop: false,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_processor_type: 'BeitImageProcessor',
    image_std: [0.5, 0.5, 0.5],
    resample: 2,
    rescale_factor: 1 / 255,
    size: {height: c.imageHeight, width: c.imageWidth},
  }),
  modelCard: {
    template: 'description-beit.md',
    fields: (c) => ({
      image_height: c.imageHeight,
      image_width: c.imageWidth,
      num_channels: c.numChannels,
      patch_height: c.patchHeight,
      patch_width: c.patchWidth,
      token_count: c.numTokens,
      num_layers: c.numLayers,
      hidden_size: c.hiddenSize,
      num_heads: c.numHeads,
      intermediate_size: c.intermediateSize,
    }),
  },
  buildOnnxGraph: buildBeitOnnxGraph,
  onnxModelName: 'beit_image_classification',

  async createModel(config, backend, maxBatch, load, _serving) {
    const params = beitParameters(config, (n) => backend.alloc(n))
    await load(params.plan.tensors)
    const weights = prepareBeitWeights(params, config, backend)
    const state = createBeitState(config, backend, maxBatch)
    return {
      maxBatch,
      numParameters: params.plan.numParameters,
      parameters: params.plan.tensors,
      forward: (pixels, batch) => beitForward(backend, config, weights, state, pixels, batch),
    }
  },
  createTrainModel: (config, kernels, maxBatch) => createBeitTrainModel(config, kernels, maxBatch),
} satisfies ModelFamily<BeitConfig>
