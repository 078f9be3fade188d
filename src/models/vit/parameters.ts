/**
 * The ViT's parameters as named Float32Array views (llm.c's ParameterTensors), and which Hugging Face tensor fills
 * each. `allocVitParameters` is the one place that lays them out: call it with `backend.alloc` for the weights, and
 * again with any other allocator for buffers of the same layout (gradients, optimizer moments), whose views then line
 * up one for one with the weights'.
 *
 * Query, key and value are fused into one [3C, C] linear per layer so attention's input is one matmul: each of the
 * three Hugging Face tensors is a row block of that view. With a bump allocator over one flat buffer (see
 * `flatAllocator` in src/engine/train/params.ts) every parameter lands in that buffer in allocation order, as llm.c lays them out for training.
 */
import type {Backend, Linear} from '../../engine/backend.js'
import type {ParameterTensor} from '../parameter-tensor.js'
import type {VitConfig} from './config.js'
import {vitTensorNames} from './tensors.js'

export interface VitLayerParameters {
  ln1Gamma: Float32Array // (C)        layernorm_before.weight
  ln1Beta: Float32Array // (C)         layernorm_before.bias
  qkvWeight: Float32Array // (3C, C)   attention.attention.{query,key,value}.weight, stacked
  qkvBias: Float32Array | null // (3C) their biases (null when qkv_bias is false)
  attnOutWeight: Float32Array // (C, C) attention.output.dense.weight
  attnOutBias: Float32Array // (C)
  ln2Gamma: Float32Array // (C)        layernorm_after.weight
  ln2Beta: Float32Array // (C)
  fc1Weight: Float32Array // (I, C)    intermediate.dense.weight
  fc1Bias: Float32Array // (I)
  fc2Weight: Float32Array // (C, I)    output.dense.weight
  fc2Bias: Float32Array // (C)
}

export interface VitParameters {
  patchWeight: Float32Array // (C, ch*PH*PW) patch_embeddings.projection.weight [C, ch, PH, PW], flattened per filter
  patchBias: Float32Array // (C)
  clsToken: Float32Array // (C)
  posEmbed: Float32Array // (T, C)
  layers: VitLayerParameters[]
  lnfGamma: Float32Array // (C)  vit.layernorm.weight
  lnfBeta: Float32Array // (C)
  classifierWeight: Float32Array // (numLabels, C)
  classifierBias: Float32Array // (numLabels)
}

export interface AllocatedVitParameters {
  params: VitParameters
  /** Every Hugging Face tensor with its shape and the view (or part of a view) it lands in, in table order. */
  tensors: ParameterTensor[]
  /** Total floats. */
  numParameters: number
}

/** Lays out the parameters of `config`'s ViT in buffers from `alloc(n)` (zeroed floats). */
export function allocVitParameters(config: VitConfig, alloc: (n: number) => Float32Array): AllocatedVitParameters {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW, numTokens: T, numLabels} = config
  const names = vitTensorNames(config.numLayers)
  const tensors: ParameterTensor[] = []
  // decay: false for biases and LayerNorm parameters (the Trainer's no-decay group), true for the rest.
  const want = (name: string, shape: number[], decay: boolean, dest?: Float32Array): Float32Array => {
    const view = dest ?? alloc(shape.reduce((a, b) => a * b, 1))
    tensors.push({name, shape, view, decay})
    return view
  }

  const clsToken = want(names.clsToken, [1, 1, C], true)
  const posEmbed = want(names.positionEmbeddings, [1, T, C], true)
  const patchWeight = want(names.patchEmbedding.weight, [C, ch, PH, PW], true)
  const patchBias = want(names.patchEmbedding.bias, [C], false)
  const layers = names.layers.map((n): VitLayerParameters => {
    const ln1Gamma = want(n.layernormBefore.weight, [C], false)
    const ln1Beta = want(n.layernormBefore.bias, [C], false)
    const qkvWeight = alloc(3 * C * C)
    const qkvBias = config.qkvBias ? alloc(3 * C) : null
    ;[n.query, n.key, n.value].forEach((part, i) => want(part.weight, [C, C], true, qkvWeight.subarray(i * C * C, (i + 1) * C * C)))
    if (qkvBias) [n.query, n.key, n.value].forEach((part, i) => want(part.bias, [C], false, qkvBias.subarray(i * C, (i + 1) * C)))
    return {
      ln1Gamma,
      ln1Beta,
      qkvWeight,
      qkvBias,
      attnOutWeight: want(n.attentionOutput.weight, [C, C], true),
      attnOutBias: want(n.attentionOutput.bias, [C], false),
      ln2Gamma: want(n.layernormAfter.weight, [C], false),
      ln2Beta: want(n.layernormAfter.bias, [C], false),
      fc1Weight: want(n.intermediate.weight, [I, C], true),
      fc1Bias: want(n.intermediate.bias, [I], false),
      fc2Weight: want(n.output.weight, [C, I], true),
      fc2Bias: want(n.output.bias, [C], false),
    }
  })
  const lnfGamma = want(names.layernorm.weight, [C], false)
  const lnfBeta = want(names.layernorm.bias, [C], false)
  const classifierWeight = want(names.classifier.weight, [numLabels, C], true)
  const classifierBias = want(names.classifier.bias, [numLabels], false)
  return {
    params: {patchWeight, patchBias, clsToken, posEmbed, layers, lnfGamma, lnfBeta, classifierWeight, classifierBias},
    tensors,
    numParameters: tensors.reduce((a, t) => a + t.view.length, 0),
  }
}

/** A layer's linears as the backend prepared them (the WebAssembly backend packs the weight views in place). */
export interface VitLayerLinears {
  qkv: Linear
  attnOut: Linear
  fc1: Linear
  fc2: Linear
}

export interface VitLinears {
  patchEmbed: Linear
  layers: VitLayerLinears[]
  classifier: Linear
}

/**
 * Hands the linears' weight views to `backend.prepareLinear`, once they are filled. From then on those views belong
 * to the backend: read them as [N, K] only on the TypeScript backend. The other views stay as loaded.
 */
export function prepareVitLinears(p: VitParameters, config: VitConfig, backend: Backend): VitLinears {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW, numLabels} = config
  return {
    patchEmbed: backend.prepareLinear(p.patchWeight, p.patchBias, C, ch * PH * PW),
    layers: p.layers.map((l) => ({
      qkv: backend.prepareLinear(l.qkvWeight, l.qkvBias, 3 * C, C),
      attnOut: backend.prepareLinear(l.attnOutWeight, l.attnOutBias, C, C),
      fc1: backend.prepareLinear(l.fc1Weight, l.fc1Bias, I, C),
      fc2: backend.prepareLinear(l.fc2Weight, l.fc2Bias, C, I),
    })),
    classifier: backend.prepareLinear(p.classifierWeight, p.classifierBias, numLabels, C),
  }
}
