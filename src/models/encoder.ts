/**
 * The pre-LayerNorm transformer encoder that ViT-style families share (BEiT, DINOv2): embeddings of [CLS] + patches,
 * then blocks of x += attention(LN(x)); x += mlp(LN(x)). A family's differences live in its weights (layer scales are
 * folded into the output linears at load; BEiT's relative position bias rides along as `relBias`) and in its head.
 */
import type {Backend, Linear} from '../engine/backend.js'
import {foldRowScale} from './tensor-plan.js'

export interface EncoderLayerWeights {
  ln1Gamma: Float32Array // (C) LayerNorm before attention
  ln1Beta: Float32Array
  qkv: Linear // (3C, C) query | key | value
  attnOut: Linear // (C, C)
  ln2Gamma: Float32Array // (C) LayerNorm before the MLP
  ln2Beta: Float32Array
  fc1: Linear // (I, C), GELU
  fc2: Linear // (C, I)
  /** (NH, T, T) added to the attention scores (BEiT), or null. */
  relBias: Float32Array | null
}

/** One encoder layer's parameter views as a family's tensor table fills them (lambda1/2: layer scales, or null). */
export interface EncoderLayerViews {
  ln1Gamma: Float32Array
  ln1Beta: Float32Array
  qkvWeight: Float32Array
  qkvBias: Float32Array | null
  outWeight: Float32Array
  outBias: Float32Array
  ln2Gamma: Float32Array
  ln2Beta: Float32Array
  fc1Weight: Float32Array
  fc1Bias: Float32Array
  fc2Weight: Float32Array
  fc2Bias: Float32Array
  lambda1: Float32Array | null
  lambda2: Float32Array | null
}

/**
 * Prepares one layer for the forward pass: layer scales folded into the attention-output and fc2 linears (so the
 * blocks run as plain pre-LN blocks), every linear handed to the backend. C hidden, I intermediate.
 */
export function prepareEncoderLayer(backend: Backend, r: EncoderLayerViews, relBias: Float32Array | null, C: number, I: number): EncoderLayerWeights {
  if (r.lambda1) foldRowScale(r.outWeight, r.outBias, r.lambda1, C, C)
  if (r.lambda2) foldRowScale(r.fc2Weight, r.fc2Bias, r.lambda2, C, I)
  return {
    ln1Gamma: r.ln1Gamma,
    ln1Beta: r.ln1Beta,
    qkv: backend.prepareLinear(r.qkvWeight, r.qkvBias, 3 * C, C),
    attnOut: backend.prepareLinear(r.outWeight, r.outBias, C, C),
    ln2Gamma: r.ln2Gamma,
    ln2Beta: r.ln2Beta,
    fc1: backend.prepareLinear(r.fc1Weight, r.fc1Bias, I, C),
    fc2: backend.prepareLinear(r.fc2Weight, r.fc2Bias, C, I),
    relBias,
  }
}

/** The activations of the embeddings and the blocks, for `maxBatch` images of Np patches (T = Np + 1 tokens). */
export interface EncoderState {
  maxBatch: number
  patches: Float32Array // (B*Np, ch*PH*PW) im2col of the pixels
  patchEmbeds: Float32Array // (B*Np, C)
  x: Float32Array // (B*T, C) the residual stream
  xNorm: Float32Array // (B*T, C) LayerNorm output
  qkv: Float32Array // (B*T, 3C)
  attn: Float32Array // (B*T, C)
  mlp: Float32Array // (B*T, I)
}

export function createEncoderState(backend: Backend, maxBatch: number, Np: number, C: number, I: number, patchLength: number): EncoderState {
  const B = maxBatch
  const T = Np + 1
  return {
    maxBatch,
    patches: backend.alloc(B * Np * patchLength),
    patchEmbeds: backend.alloc(B * Np * C),
    x: backend.alloc(B * T * C),
    xNorm: backend.alloc(B * T * C),
    qkv: backend.alloc(B * T * 3 * C),
    attn: backend.alloc(B * T * C),
    mlp: backend.alloc(B * T * I),
  }
}

// x[B, T, C]: x[b, 0] = cls + pos[0]; x[b, 1 + p] = patchEmbeds[b, p] + pos[1 + p] (pos null: no position embeddings)
export function embedWithCls(x: Float32Array, patchEmbeds: Float32Array, cls: Float32Array, pos: Float32Array | null, B: number, Np: number, C: number): void {
  const T = Np + 1
  for (let b = 0; b < B; b++) {
    const row = b * T * C
    for (let c = 0; c < C; c++) x[row + c] = cls[c] + (pos ? pos[c] : 0)
    const src = b * Np * C
    for (let i = 0; i < Np * C; i++) x[row + C + i] = patchEmbeds[src + i] + (pos ? pos[C + i] : 0)
  }
}

/** Runs the blocks over s.x [B, T, C] in place. */
export function encoderLayers(backend: Backend, layers: EncoderLayerWeights[], s: EncoderState, B: number, T: number, C: number, NH: number, eps: number): void {
  const BT = B * T
  const scale = 1 / Math.sqrt(C / NH)
  for (const layer of layers) {
    // x = x + attention(layernorm_before(x))
    backend.layerNorm(s.xNorm, s.x, layer.ln1Gamma, layer.ln1Beta, BT, C, eps)
    backend.linear(s.qkv, s.xNorm, layer.qkv, BT, 'none')
    if (layer.relBias) backend.biasedAttention(s.attn, s.qkv, layer.relBias, 1, scale, null, B, T, C, NH)
    else backend.attention(s.attn, s.qkv, B, T, C, NH)
    backend.linear(s.x, s.attn, layer.attnOut, BT, 'none', s.x)
    // x = x + mlp(layernorm_after(x))
    backend.layerNorm(s.xNorm, s.x, layer.ln2Gamma, layer.ln2Beta, BT, C, eps)
    backend.linear(s.mlp, s.xNorm, layer.fc1, BT, 'gelu')
    backend.linear(s.x, s.mlp, layer.fc2, BT, 'none', s.x)
  }
}
