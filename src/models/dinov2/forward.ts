/**
 * The forward pass of Dinov2ForImageClassification (transformers/models/dinov2/modeling_dinov2.py): patch embedding,
 * [CLS], position embeddings (resampled at load to the input grid), pre-LN blocks with layer scale (folded into the
 * weights), the final LayerNorm on every token, and the classifier on concat([CLS], mean of the patch tokens).
 */
import type {Backend} from '../../engine/backend.js'
import {type EncoderState, createEncoderState, embedWithCls, encoderLayers} from '../encoder.js'
import {meanTokens, patchify} from '../ops.js'
import type {Dinov2Config} from './config.js'
import type {Dinov2Weights} from './weights.js'

/** The input the state is sized for: the processor's output size and its patch grid. */
export interface Dinov2Geometry {
  inputHeight: number
  inputWidth: number
  gridHeight: number
  gridWidth: number
}

export interface Dinov2State extends EncoderState {
  head: Float32Array // (B, 2C) [CLS] | mean of patch tokens, after the final LayerNorm
  logits: Float32Array // (B, numLabels)
}

export function createDinov2State(config: Dinov2Config, geometry: Dinov2Geometry, backend: Backend, maxBatch: number): Dinov2State {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW} = config
  return {
    ...createEncoderState(backend, maxBatch, geometry.gridHeight * geometry.gridWidth, C, I, ch * PH * PW),
    head: backend.alloc(maxBatch * 2 * C),
    logits: backend.alloc(maxBatch * config.numLabels),
  }
}

/** logits[B, numLabels] for pixels[B, ch, inputHeight, inputWidth]; returns a view of state.logits. */
export function dinov2Forward(
  backend: Backend,
  config: Dinov2Config,
  geometry: Dinov2Geometry,
  weights: Dinov2Weights,
  state: Dinov2State,
  pixels: Float32Array,
  B: number,
): Float32Array {
  if (B > state.maxBatch) throw new Error(`internal: batch ${B} is over the state's maxBatch ${state.maxBatch}`)
  const {hiddenSize: C, numHeads: NH, layerNormEps: eps} = config
  const Np = geometry.gridHeight * geometry.gridWidth
  const T = Np + 1
  const BT = B * T
  const s = state

  patchify(s.patches, pixels, B, config.numChannels, geometry.inputHeight, geometry.inputWidth, config.patchHeight, config.patchWidth, geometry.gridHeight, geometry.gridWidth)
  backend.linear(s.patchEmbeds, s.patches, weights.patchEmbed, B * Np, 'none')
  embedWithCls(s.x, s.patchEmbeds, weights.clsToken, weights.posEmbed, B, Np, C)
  encoderLayers(backend, weights.layers, s, B, T, C, NH, eps)

  // the final LayerNorm of every token (the mean is over normalised patch tokens), then [CLS] | mean(patches)
  backend.layerNorm(s.xNorm, s.x, weights.lnfGamma, weights.lnfBeta, BT, C, eps)
  for (let b = 0; b < B; b++) s.head.set(s.xNorm.subarray(b * T * C, b * T * C + C), b * 2 * C)
  meanTokens(s.head.subarray(C), s.xNorm, B, T, 1, C, 2 * C)
  backend.linear(s.logits, s.head, weights.classifier, B, 'none')
  return s.logits.subarray(0, B * config.numLabels)
}
