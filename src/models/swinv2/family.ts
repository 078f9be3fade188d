/**
 * The SwinV2 family (Swinv2ForImageClassification): what src/models/registry.ts registers. The window geometry
 * (padding, shifts, masks) is worked out for config.json's image size, the size its image processor produces.
 */
import type {ModelFamily} from '../family.js'
import {hfConfigOutput, hfTensorTable, refuseConfigFromTensors} from '../hf-family.js'
import {SWINV2_ARCHITECTURE, type Swinv2Config, parseSwinv2Config, swinv2Geometry} from './config.js'
import {createSwinv2State, swinv2Forward} from './forward.js'
import {buildSwinv2OnnxGraph} from './onnx-graph.js'
import {detectSwinv2Scheme, swinv2NumLabelsOf, swinv2Parameters, swinv2Tensors} from './tensors.js'
import {prepareSwinv2Weights} from './weights.js'

export const swinv2Family = {
  modelType: 'swinv2',
  architectures: [SWINV2_ARCHITECTURE],
  schemes: ['hf'],
  parseConfig: (json, file, options) => parseSwinv2Config(json, file, options?.numLabelsFallback),
  tensorTable: (c, scheme = 'hf') => hfTensorTable(swinv2Tensors(c), scheme, 'SwinV2'),
  detectScheme: detectSwinv2Scheme,
  numLabelsOf: swinv2NumLabelsOf,
  configFromTensors: (_scheme, _tensors, file) => refuseConfigFromTensors('SwinV2', file),
  outputConfig: (source, labels, torchDtype) => hfConfigOutput(source, labels, torchDtype, 'swinv2', SWINV2_ARCHITECTURE),
  describeConfig: (c) =>
    `embed ${c.embedDim}, depths [${c.depths.join(', ')}], heads [${c.numHeads.join(', ')}], window ${c.windowSize}, patch ${c.patchSize}, image ${c.imageHeight}, ${c.numLabels} labels`,
  // ViTImageProcessor as the catalog's SwinV2 has it: resize to the image size, BICUBIC, ImageNet mean/std.
  preprocessorDefaults: (c) => ({
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_processor_type: 'ViTImageProcessor',
    image_std: [0.229, 0.224, 0.225],
    resample: 3,
    rescale_factor: 1 / 255,
    size: {height: c.imageHeight, width: c.imageWidth},
  }),
  modelCard: {
    template: 'description-swinv2.md',
    fields: (c) => ({
      num_channels: c.numChannels,
      image_height: c.imageHeight,
      image_width: c.imageWidth,
      patch_size: c.patchSize,
      embed_dim: c.embedDim,
      depths: c.depths.join(', '),
      num_heads: c.numHeads.join(', '),
      window_size: c.windowSize,
    }),
  },
  buildOnnxGraph: buildSwinv2OnnxGraph,
  onnxModelName: 'swinv2_image_classification',

  async createModel(config, backend, maxBatch, load, _serving) {
    const input = {height: config.imageHeight, width: config.imageWidth}
    const stages = swinv2Geometry(config, input.height, input.width)
    const params = swinv2Parameters(config, stages, (n) => backend.alloc(n))
    await load(params.plan.tensors)
    const weights = prepareSwinv2Weights(params, config, backend)
    const state = createSwinv2State(config, stages, backend, maxBatch)
    return {
      maxBatch,
      numParameters: params.plan.numParameters,
      parameters: params.plan.tensors,
      forward: (pixels, batch) => swinv2Forward(backend, config, input, weights, state, pixels, batch),
    }
  },
} satisfies ModelFamily<Swinv2Config>
