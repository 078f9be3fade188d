/**
 * The forward pass of BeitForImageClassification (transformers/models/beit/modeling_beit.py), top to bottom: patch
 * embedding, [CLS] (and absolute positions when the config has them), pre-LN blocks whose attention adds a relative
 * position bias and whose two branches are scaled by lambda_1 / lambda_2 (folded into the weights at load), then mean
 * pooling of the patch tokens + LayerNorm (or the final LayerNorm of [CLS]) and the classifier.
 */
import type {Backend} from '../../engine/backend.js'
import {type EncoderState, createEncoderState, embedWithCls, encoderLayers} from '../encoder.js'
import {meanTokens, patchify} from '../ops.js'
import type {BeitConfig} from './config.js'
import type {BeitWeights} from './weights.js'

export interface BeitState extends EncoderState {
  pooled: Float32Array // (B, C) mean of the patch tokens, or [CLS]
  pooledNorm: Float32Array // (B, C)
  logits: Float32Array // (B, numLabels)
}

export function createBeitState(config: BeitConfig, backend: Backend, maxBatch: number): BeitState {
  const {hiddenSize: C, intermediateSize: I, numPatches: Np, numChannels: ch, patchHeight: PH, patchWidth: PW} = config
  return {
    ...createEncoderState(backend, maxBatch, Np, C, I, ch * PH * PW),
    pooled: backend.alloc(maxBatch * C),
    pooledNorm: backend.alloc(maxBatch * C),
    logits: backend.alloc(maxBatch * config.numLabels),
  }
}

/** logits[B, numLabels] for pixels[B, ch, imageHeight, imageWidth]; returns a view of state.logits. */
export function beitForward(backend: Backend, config: BeitConfig, weights: BeitWeights, state: BeitState, pixels: Float32Array, B: number): Float32Array {
  if (B > state.maxBatch) throw new Error(`internal: batch ${B} is over the state's maxBatch ${state.maxBatch}`)
  const {hiddenSize: C, numHeads: NH, numPatches: Np, numTokens: T, layerNormEps: eps} = config
  const s = state

  patchify(s.patches, pixels, B, config.numChannels, config.imageHeight, config.imageWidth, config.patchHeight, config.patchWidth, config.gridHeight, config.gridWidth)
  backend.linear(s.patchEmbeds, s.patches, weights.patchEmbed, B * Np, 'none')
  embedWithCls(s.x, s.patchEmbeds, weights.clsToken, weights.posEmbed, B, Np, C)
  encoderLayers(backend, weights.layers, s, B, T, C, NH, eps)

  // BeitPooler: LayerNorm(mean of the patch tokens); without mean pooling, the final LayerNorm of [CLS]
  if (config.meanPooling) meanTokens(s.pooled, s.x, B, T, 1, C)
  else for (let b = 0; b < B; b++) s.pooled.set(s.x.subarray(b * T * C, b * T * C + C), b * C)
  backend.layerNorm(s.pooledNorm, s.pooled, weights.headGamma, weights.headBeta, B, C, eps)
  backend.linear(s.logits, s.pooledNorm, weights.classifier, B, 'none')
  return s.logits.subarray(0, B * config.numLabels)
}
