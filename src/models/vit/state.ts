/**
 * The run state: every activation of the forward pass, allocated once through the backend for a maximum batch size
 * and reused by every call (llama2.c's RunState). Larger batches are run in chunks of `maxBatch`.
 */
import type {Backend} from '../../engine/backend.js'
import type {VitConfig} from './config.js'

export interface VitState {
  /** Images the buffers hold (B). */
  maxBatch: number
  patches: Float32Array // (B*Np, ch*P*P) im2col of the pixels: one row per patch
  patchEmbeds: Float32Array // (B*Np, C) the patch projection
  x: Float32Array // (B*T, C) the residual stream
  xNorm: Float32Array // (B*T, C) LayerNorm output feeding attention and the MLP
  qkv: Float32Array // (B*T, 3C) query | key | value per token
  attn: Float32Array // (B*T, C) attention output, heads concatenated
  mlp: Float32Array // (B*T, I) the MLP's hidden layer, after GELU
  cls: Float32Array // (B, C) the CLS token of each image after the last block
  clsNorm: Float32Array // (B, C) the same after the final LayerNorm
  logits: Float32Array // (B, numLabels)
}

export function createVitState(config: VitConfig, backend: Backend, maxBatch: number): VitState {
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`)
  const B = maxBatch
  const {hiddenSize: C, intermediateSize: I, numPatches: Np, numTokens: T, numChannels: ch, patchHeight: PH, patchWidth: PW} = config
  return {
    maxBatch,
    patches: backend.alloc(B * Np * ch * PH * PW),
    patchEmbeds: backend.alloc(B * Np * C),
    x: backend.alloc(B * T * C),
    xNorm: backend.alloc(B * T * C),
    qkv: backend.alloc(B * T * 3 * C),
    attn: backend.alloc(B * T * C),
    mlp: backend.alloc(B * T * I),
    cls: backend.alloc(B * C),
    clsNorm: backend.alloc(B * C),
    logits: backend.alloc(B * config.numLabels),
  }
}
