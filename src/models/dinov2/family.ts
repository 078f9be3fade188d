/**
 * The DINOv2 family (Dinov2ForImageClassification): what src/models/registry.ts registers. Its images need not be
 * config.json's image_size: the position embeddings are resampled to the processor's output grid, as the transformers
 * version that serves the model does it (see weights.ts).
 */
import type {ModelFamily} from '../family.js'
import {hfConfigOutput, hfTensorTable, refuseConfigFromTensors} from '../hf-family.js'
import {DINOV2_ARCHITECTURE, type Dinov2Config, parseDinov2Config} from './config.js'
import {createDinov2State, dinov2Forward} from './forward.js'
import {buildDinov2OnnxGraph} from './onnx-graph.js'
import {detectDinov2Scheme, dinov2NumLabelsOf, dinov2Parameters, dinov2Tensors} from './tensors.js'
import {createDinov2TrainModel} from './train.js'
import {prepareDinov2Weights} from './weights.js'

export const dinov2Family = {
  modelType: 'dinov2',
  architectures: [DINOV2_ARCHITECTURE],
  schemes: ['hf'],
  processorKind: 'bit',
  anyInputSize: true,
  // The first minor release whose interpolation (size=) the engine's current code follows, and one that still runs on
  // the Python 3.8 of package's MLflow environment (4.46 requires 3.9).
  currentTransformersVersion: '4.45.2',
  parseConfig: (json, file, options) => parseDinov2Config(json, file, options?.numLabelsFallback),
  tensorTable: (c, scheme = 'hf') => hfTensorTable(dinov2Tensors(c), scheme, 'DINOv2'),
  detectScheme: detectDinov2Scheme,
  numLabelsOf: dinov2NumLabelsOf,
  configFromTensors: (_scheme, _tensors, file) => refuseConfigFromTensors('DINOv2', file),
  outputConfig: (source, labels, torchDtype) => hfConfigOutput(source, labels, torchDtype, 'dinov2', DINOV2_ARCHITECTURE),
  describeConfig: (c) =>
    `hidden ${c.hiddenSize}, ${c.numLayers} layers, ${c.numHeads} heads, intermediate ${c.intermediateSize}, patch ${c.patchHeight}, position grid of image ${c.imageHeight}, ${c.numLabels} labels`,
  // BitImageProcessor as facebook/dinov2-base has it: shortest edge 256 BICUBIC, center crop 224, ImageNet mean/std.
  preprocessorDefaults: () => ({
    crop_size: {height: 224, width: 224},
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_processor_type: 'BitImageProcessor',
    image_std: [0.229, 0.224, 0.225],
    resample: 3,
    rescale_factor: 1 / 255,
    size: {shortest_edge: 256},
  }),
  modelCard: {
    template: 'description-dinov2.md',
    fields: (c) => ({
      num_channels: c.numChannels,
      patch_height: c.patchHeight,
      patch_width: c.patchWidth,
      image_height: c.imageHeight,
      image_width: c.imageWidth,
      num_layers: c.numLayers,
      hidden_size: c.hiddenSize,
      num_heads: c.numHeads,
      intermediate_size: c.intermediateSize,
    }),
  },
  buildOnnxGraph: buildDinov2OnnxGraph,
  onnxModelName: 'dinov2_image_classification',

  async createModel(config, backend, maxBatch, load, servingContext) {
    const serving = servingContext ?? {inputHeight: config.imageHeight, inputWidth: config.imageWidth, weightsFile: 'model.safetensors'}
    const geometry = {
      inputHeight: serving.inputHeight,
      inputWidth: serving.inputWidth,
      gridHeight: Math.floor(serving.inputHeight / config.patchHeight),
      gridWidth: Math.floor(serving.inputWidth / config.patchWidth),
    }
    const params = dinov2Parameters(config, (n) => backend.alloc(n))
    await load(params.plan.tensors)
    const weights = prepareDinov2Weights(params, config, {...geometry, transformersVersion: serving.transformersVersion}, backend, serving.weightsFile)
    const state = createDinov2State(config, geometry, backend, maxBatch)
    return {
      maxBatch,
      inputHeight: serving.inputHeight,
      inputWidth: serving.inputWidth,
      numParameters: params.plan.numParameters,
      parameters: params.plan.tensors,
      forward: (pixels, batch) => dinov2Forward(backend, config, geometry, weights, state, pixels, batch),
    }
  },
  createTrainModel: createDinov2TrainModel,
} satisfies ModelFamily<Dinov2Config>
