/**
 * Training state and the forward and backward passes of ViTForImageClassification (llm.c's gpt2_forward /
 * gpt2_backward): every activation the backward pass reads is kept per layer in buffers allocated once for the batch,
 * the gradients of the activations are scratch reused layer after layer, and the gradients of the parameters are
 * ACCUMULATED into a buffer of the parameters' layout (so micro-batches of one optimizer step sum, as loss.backward()
 * does). The forward order is src/models/vit/forward.ts's; the arithmetic is the TrainKernels'.
 */
import type {VitConfig} from '../../models/vit/config.js'
import {embedTokens, im2col} from '../../models/vit/forward.js'
import type {TrainKernels} from './kernels.js'
import {type ParamLayout, type VitParams, vitParamLayout, vitParamViews} from './params.js'

export interface VitTrainActivations {
  maxBatch: number
  patches: Float32Array // (B*Np, ch*PH*PW) im2col of the pixels
  patchEmbeds: Float32Array // (B*Np, C)
  residual: Float32Array // (L+1, B*T, C) the residual stream entering each layer, and leaving the last
  ln1: Float32Array // (L, B*T, C)
  ln1Mean: Float32Array // (L, B*T)
  ln1Rstd: Float32Array // (L, B*T)
  qkv: Float32Array // (L, B*T, 3C)
  att: Float32Array // (L, B, NH, T, T) attention probabilities
  attn: Float32Array // (L, B*T, C) attention output, heads concatenated
  residualMid: Float32Array // (L, B*T, C) the stream after the attention branch
  ln2: Float32Array // (L, B*T, C)
  ln2Mean: Float32Array // (L, B*T)
  ln2Rstd: Float32Array // (L, B*T)
  fc1Pre: Float32Array // (L, B*T, I) before GELU
  fc1: Float32Array // (L, B*T, I) after GELU
  cls: Float32Array // (B, C)
  clsNorm: Float32Array // (B, C)
  lnfMean: Float32Array // (B)
  lnfRstd: Float32Array // (B)
  logits: Float32Array // (B, numLabels)
  // gradients of the activations: scratch for one layer at a time
  dResidual: Float32Array // (B*T, C)
  dLn: Float32Array // (B*T, C)
  dQkv: Float32Array // (B*T, 3C)
  dAttn: Float32Array // (B*T, C)
  dFc1: Float32Array // (B*T, I)
  dFc1Pre: Float32Array // (B*T, I)
  dPatchEmbeds: Float32Array // (B*Np, C)
  dCls: Float32Array // (B, C)
  dClsNorm: Float32Array // (B, C)
  dLogits: Float32Array // (B, numLabels)
}

export interface VitTrainModel {
  config: VitConfig
  kernels: TrainKernels
  layout: ParamLayout
  /** params, grads and AdamW's two moments: `layout.total` floats each, laid out alike. */
  params: Float32Array
  grads: Float32Array
  m: Float32Array
  v: Float32Array
  p: VitParams
  g: VitParams
  acts: VitTrainActivations
}

function createActivations(config: VitConfig, kernels: TrainKernels, maxBatch: number): VitTrainActivations {
  const {hiddenSize: C, intermediateSize: I, numPatches: Np, numTokens: T, numChannels: ch, patchHeight: PH, patchWidth: PW, numLayers: L, numHeads: NH, numLabels} = config
  const B = maxBatch
  const BT = B * T
  const a = (n: number): Float32Array => kernels.alloc(n)
  return {
    maxBatch,
    patches: a(B * Np * ch * PH * PW),
    patchEmbeds: a(B * Np * C),
    residual: a((L + 1) * BT * C),
    ln1: a(L * BT * C),
    ln1Mean: a(L * BT),
    ln1Rstd: a(L * BT),
    qkv: a(L * BT * 3 * C),
    att: a(L * B * NH * T * T),
    attn: a(L * BT * C),
    residualMid: a(L * BT * C),
    ln2: a(L * BT * C),
    ln2Mean: a(L * BT),
    ln2Rstd: a(L * BT),
    fc1Pre: a(L * BT * I),
    fc1: a(L * BT * I),
    cls: a(B * C),
    clsNorm: a(B * C),
    lnfMean: a(B),
    lnfRstd: a(B),
    logits: a(B * numLabels),
    dResidual: a(BT * C),
    dLn: a(BT * C),
    dQkv: a(BT * 3 * C),
    dAttn: a(BT * C),
    dFc1: a(BT * I),
    dFc1Pre: a(BT * I),
    dPatchEmbeds: a(B * Np * C),
    dCls: a(B * C),
    dClsNorm: a(B * C),
    dLogits: a(B * numLabels),
  }
}

/** Parameters, gradients, moments and activations for `config` at `maxBatch` images, all zero. */
export function createVitTrainModel(config: VitConfig, kernels: TrainKernels, maxBatch: number): VitTrainModel {
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`)
  const layout = vitParamLayout(config)
  const params = kernels.alloc(layout.total)
  const grads = kernels.alloc(layout.total)
  return {
    config,
    kernels,
    layout,
    params,
    grads,
    m: kernels.alloc(layout.total),
    v: kernels.alloc(layout.total),
    p: vitParamViews(config, layout, params),
    g: vitParamViews(config, layout, grads),
    acts: createActivations(config, kernels, maxBatch),
  }
}

/** One layer's slice of a per-layer activation buffer. */
function at(buf: Float32Array, l: number, size: number): Float32Array {
  return buf.subarray(l * size, (l + 1) * size)
}

/** logits[B, numLabels] of pixels[B, ch, H, W], keeping every activation for `vitBackward`. Returns a view. */
export function vitTrainForward(model: VitTrainModel, pixels: Float32Array, B: number): Float32Array {
  const {config, kernels: k, p, acts: s} = model
  if (B > s.maxBatch) throw new Error(`internal: batch ${B} is over the training state's maxBatch ${s.maxBatch}`)
  const {hiddenSize: C, intermediateSize: I, numHeads: NH, numPatches: Np, numTokens: T, layerNormEps: eps, numChannels: ch, patchHeight: PH, patchWidth: PW} = config
  const BT = B * T
  const SBT = s.maxBatch * T // per-layer stride of the buffers (sized for maxBatch)
  const SA = s.maxBatch * NH * T * T

  im2col(s.patches, pixels, config, B)
  k.matmul(s.patchEmbeds, s.patches, p.patchWeight, p.patchBias, B * Np, ch * PH * PW, C)
  embedTokens(s.residual, s.patchEmbeds, p.clsToken, p.posEmbed, B, Np, C)

  for (let l = 0; l < config.numLayers; l++) {
    const w = p.layers[l]
    const xIn = at(s.residual, l, SBT * C)
    const ln1 = at(s.ln1, l, SBT * C)
    const qkv = at(s.qkv, l, SBT * 3 * C)
    const att = at(s.att, l, SA)
    const attn = at(s.attn, l, SBT * C)
    const xMid = at(s.residualMid, l, SBT * C)
    const ln2 = at(s.ln2, l, SBT * C)
    const fc1Pre = at(s.fc1Pre, l, SBT * I)
    const fc1 = at(s.fc1, l, SBT * I)
    const xOut = at(s.residual, l + 1, SBT * C)
    k.layerNorm(ln1, at(s.ln1Mean, l, SBT), at(s.ln1Rstd, l, SBT), xIn, w.ln1Gamma, w.ln1Beta, BT, C, eps)
    k.matmul(qkv, ln1, w.qkvWeight, w.qkvBias, BT, C, 3 * C)
    k.attention(attn, att, qkv, B, T, C, NH)
    k.matmul(xMid, attn, w.attnOutWeight, w.attnOutBias, BT, C, C, xIn)
    k.layerNorm(ln2, at(s.ln2Mean, l, SBT), at(s.ln2Rstd, l, SBT), xMid, w.ln2Gamma, w.ln2Beta, BT, C, eps)
    k.matmul(fc1Pre, ln2, w.fc1Weight, w.fc1Bias, BT, C, I)
    k.gelu(fc1, fc1Pre, BT * I)
    k.matmul(xOut, fc1, w.fc2Weight, w.fc2Bias, BT, I, C, xMid)
  }

  const last = at(s.residual, config.numLayers, SBT * C)
  for (let b = 0; b < B; b++) s.cls.set(last.subarray(b * T * C, b * T * C + C), b * C)
  k.layerNorm(s.clsNorm, s.lnfMean, s.lnfRstd, s.cls, p.lnfGamma, p.lnfBeta, B, C, eps)
  k.matmul(s.logits, s.clsNorm, p.classifierWeight, p.classifierBias, B, C, config.numLabels)
  return s.logits.subarray(0, B * config.numLabels)
}

/**
 * Adds d loss / d parameters to `model.grads`, given `acts.dLogits` (B rows, written by the loss) and the activations
 * of the last `vitTrainForward` on the same B images.
 */
export function vitBackward(model: VitTrainModel, B: number): void {
  const {config, kernels: k, p, g, acts: s} = model
  const {hiddenSize: C, intermediateSize: I, numHeads: NH, numPatches: Np, numTokens: T, numChannels: ch, patchHeight: PH, patchWidth: PW, numLabels} = config
  const BT = B * T
  const SBT = s.maxBatch * T
  const SA = s.maxBatch * NH * T * T

  // classifier and final LayerNorm (on the CLS rows only)
  s.dClsNorm.fill(0, 0, B * C)
  s.dCls.fill(0, 0, B * C)
  k.matmulBackward(s.dClsNorm, g.classifierWeight, g.classifierBias, s.dLogits, s.clsNorm, p.classifierWeight, B, C, numLabels)
  k.layerNormBackward(s.dCls, g.lnfGamma, g.lnfBeta, s.dClsNorm, s.cls, p.lnfGamma, s.lnfMean, s.lnfRstd, B, C)
  const dRes = s.dResidual
  dRes.fill(0, 0, BT * C)
  for (let b = 0; b < B; b++) dRes.set(s.dCls.subarray(b * C, b * C + C), b * T * C)

  for (let l = config.numLayers - 1; l >= 0; l--) {
    const w = p.layers[l]
    const gw = g.layers[l]
    const xIn = at(s.residual, l, SBT * C)
    const xMid = at(s.residualMid, l, SBT * C)
    // x_out = x_mid + fc2(gelu(fc1(ln2(x_mid)))): dRes is d/dx_out and becomes d/dx_mid in place
    s.dFc1.fill(0, 0, BT * I)
    k.matmulBackward(s.dFc1, gw.fc2Weight, gw.fc2Bias, dRes, at(s.fc1, l, SBT * I), w.fc2Weight, BT, I, C)
    s.dFc1Pre.fill(0, 0, BT * I)
    k.geluBackward(s.dFc1Pre, at(s.fc1Pre, l, SBT * I), s.dFc1, BT * I)
    s.dLn.fill(0, 0, BT * C)
    k.matmulBackward(s.dLn, gw.fc1Weight, gw.fc1Bias, s.dFc1Pre, at(s.ln2, l, SBT * C), w.fc1Weight, BT, C, I)
    k.layerNormBackward(dRes, gw.ln2Gamma, gw.ln2Beta, s.dLn, xMid, w.ln2Gamma, at(s.ln2Mean, l, SBT), at(s.ln2Rstd, l, SBT), BT, C)
    // x_mid = x_in + out_proj(attention(qkv(ln1(x_in)))): dRes becomes d/dx_in in place
    s.dAttn.fill(0, 0, BT * C)
    k.matmulBackward(s.dAttn, gw.attnOutWeight, gw.attnOutBias, dRes, at(s.attn, l, SBT * C), w.attnOutWeight, BT, C, C)
    s.dQkv.fill(0, 0, BT * 3 * C)
    k.attentionBackward(s.dQkv, s.dAttn, at(s.qkv, l, SBT * 3 * C), at(s.att, l, SA), B, T, C, NH)
    s.dLn.fill(0, 0, BT * C)
    k.matmulBackward(s.dLn, gw.qkvWeight, gw.qkvBias, s.dQkv, at(s.ln1, l, SBT * C), w.qkvWeight, BT, C, 3 * C)
    k.layerNormBackward(dRes, gw.ln1Gamma, gw.ln1Beta, s.dLn, xIn, w.ln1Gamma, at(s.ln1Mean, l, SBT), at(s.ln1Rstd, l, SBT), BT, C)
  }

  // embeddings: x[b, 0] = cls + pos[0]; x[b, 1 + p] = patchEmbeds[b, p] + pos[1 + p]
  for (let b = 0; b < B; b++) {
    const row = b * T * C
    for (let c = 0; c < C; c++) g.clsToken[c] += dRes[row + c]
    for (let i = 0; i < T * C; i++) g.posEmbed[i] += dRes[row + i]
    s.dPatchEmbeds.set(dRes.subarray(row + C, row + T * C), b * Np * C)
  }
  k.matmulBackward(null, g.patchWeight, g.patchBias, s.dPatchEmbeds, s.patches, p.patchWeight, B * Np, ch * PH * PW, C)
}
