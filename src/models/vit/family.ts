/**
 * The ViT family (ViTForImageClassification; DeiT checkpoints are the same class): what src/models/registry.ts
 * registers. Each piece lives in its own file of this folder: config.ts (config.json rules), tensors.ts (the
 * Hugging Face tensor table and the timm / JAX layouts), preprocessor.ts (image processor defaults),
 * parameters.ts (the parameter views), state.ts and forward.ts (the run state and the forward pass).
 */
import type {FamilyModel, ModelFamily} from '../family.js'
import {VIT_ARCHITECTURE, type VitConfig, parseVitConfig, vitConfigJson} from './config.js'
import {vitForward} from './forward.js'
import {buildVitOnnxGraph} from './onnx-graph.js'
import {type VitLinears, type VitParameters, allocVitParameters, prepareVitLinears} from './parameters.js'
import {vitPreprocessorDefaults} from './preprocessor.js'
import {createVitState} from './state.js'
import {createVitTrainModel} from './train.js'
import {deriveVitGeometry, detectVitScheme, vitNumLabelsOf, vitTensorTable} from './tensors.js'

/** A loaded ViT: the family-neutral model plus its named views, for code that works on the ViT itself. */
export interface VitFamilyModel extends FamilyModel {
  params: VitParameters
  linears: VitLinears
}

/** layer_norm_eps for a checkpoint without a config: transformers' default for HF ones, 1e-6 for timm and JAX (what they were trained with). */
const DERIVED_LAYER_NORM_EPS = {hf: 1e-12, timm: 1e-6, jax: 1e-6} as const

export const vitFamily = {
  modelType: 'vit',
  architectures: [VIT_ARCHITECTURE],
  schemes: ['hf', 'timm', 'jax'],

  parseConfig: parseVitConfig,
  tensorTable: vitTensorTable,
  detectScheme: detectVitScheme,
  numLabelsOf: vitNumLabelsOf,
  preprocessorDefaults: vitPreprocessorDefaults,

  modelCard: {
    template: 'description.md',
    fields: (c) => ({
      patch_height: c.patchHeight,
      patch_width: c.patchWidth,
      image_height: c.imageHeight,
      image_width: c.imageWidth,
      num_channels: c.numChannels,
      patch_count: c.numPatches,
      token_count: c.numTokens,
      num_layers: c.numLayers,
      hidden_size: c.hiddenSize,
      num_heads: c.numHeads,
      intermediate_size: c.intermediateSize,
    }),
  },

  buildOnnxGraph: buildVitOnnxGraph,
  onnxModelName: 'vit_image_classification',

  describeConfig(c) {
    const size = (h: number, w: number): string => (h === w ? `${h}` : `${h}x${w}`)
    return `hidden ${c.hiddenSize}, ${c.numLayers} layers, ${c.numHeads} heads, intermediate ${c.intermediateSize}, patch ${size(c.patchHeight, c.patchWidth)}, image ${size(c.imageHeight, c.imageWidth)}, ${c.numChannels} channels, ${c.numLabels} labels`
  },

  configFromTensors(scheme, tensors, file, {numHeads}) {
    const g = deriveVitGeometry(scheme, tensors, file, numHeads)
    const size = (pair: [number, number]): number | [number, number] => (pair[0] === pair[1] ? pair[0] : pair)
    return vitConfigJson({
      hidden: g.hidden,
      layers: g.layers,
      heads: g.heads,
      intermediate: g.intermediate,
      image: size(g.image),
      patch: size(g.patch),
      channels: g.channels,
      qkvBias: g.qkvBias,
      layerNormEps: DERIVED_LAYER_NORM_EPS[scheme],
    })
  },

  outputConfig(source, labels, torchDtype) {
    const id2label: Record<string, string> = {}
    const label2id: Record<string, number> = {}
    labels.forEach((l, i) => {
      id2label[String(i)] = l
      label2id[l] = i
    })
    return {...source, architectures: source.architectures ?? [VIT_ARCHITECTURE], model_type: 'vit', id2label, label2id, torch_dtype: torchDtype}
  },

  async createModel(config, backend, maxBatch, load): Promise<VitFamilyModel> {
    const {params, tensors, numParameters} = allocVitParameters(config, (n) => backend.alloc(n))
    await load(tensors)
    // Linears are prepared only once every view is filled: a backend may pack (copy) the weight here.
    const linears = prepareVitLinears(params, config, backend)
    const state = createVitState(config, backend, maxBatch)
    return {
      maxBatch,
      numParameters,
      parameters: tensors,
      params,
      linears,
      forward: (pixels, batch) => vitForward(backend, config, params, linears, state, pixels, batch),
    }
  },
  createTrainModel: (config, kernels, maxBatch) => createVitTrainModel(config, kernels, maxBatch),
} satisfies ModelFamily<VitConfig>
