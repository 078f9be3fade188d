/**
 * Training state and the forward and backward passes of the pre-LayerNorm encoder classifiers ViT, BEiT and DINOv2
 * share (llm.c's gpt2_forward / gpt2_backward), as src/models/encoder.ts shares their inference forward: patch
 * embedding, [CLS] (+ position embeddings), blocks of x += ls1 * attention(LN(x) [+ relative bias]);
 * x += ls2 * mlp(LN(x)), then a head that pools [CLS], the mean of the patch tokens, or both, around a LayerNorm, and
 * the classifier. A family brings its parameter layout and what it computes from its parameters at each step
 * (DINOv2's resampled position embeddings, BEiT's relative position bias tables expanded), with their backward.
 *
 * Every activation the backward pass reads is kept per layer in buffers allocated once for the batch; the gradients
 * of the activations are scratch reused layer after layer; the gradients of the parameters ACCUMULATE into a buffer of
 * the parameters' layout (so micro-batches of one optimizer step sum, as loss.backward() does). The arithmetic is the
 * TrainKernels'.
 */
import type {EncoderLayerViews} from '../../models/encoder.js'
import {embedWithCls} from '../../models/encoder.js'
import {meanTokens, patchify} from '../../models/ops.js'
import {meanTokensBackward} from '../kernels/backward.js'
import type {TrainKernels} from './kernels.js'
import type {TrainModel} from './model.js'
import {createFlatParameters, type LayParameters} from './params.js'

export interface EncoderTrainGeometry {
  hiddenSize: number // C
  intermediateSize: number // I
  numHeads: number
  numLayers: number
  layerNormEps: number
  numLabels: number
  numChannels: number
  patchHeight: number
  patchWidth: number
  /** pixel_values' size, and the grid of whole patches the patch embedding reads from it (T = grid + 1 tokens). */
  inputHeight: number
  inputWidth: number
  gridHeight: number
  gridWidth: number
}

/**
 * The head: `pool` takes [CLS] (C wide), the mean of the patch tokens (C), or both concatenated (2C); `norm` is a
 * LayerNorm on the pooled vector ('pooled': ViT's final LayerNorm of [CLS], BEiT's pooler) or on every token before
 * pooling ('tokens': DINOv2's final LayerNorm, whose patch mean is over normalised tokens).
 */
export interface EncoderHead {
  pool: 'cls' | 'mean' | 'cls+mean'
  norm: 'pooled' | 'tokens'
}

/** The views the encoder reads, over the parameter buffer or (same structure) the gradient buffer. */
export interface EncoderTrainViews {
  patchWeight: Float32Array // (C, ch*PH*PW)
  patchBias: Float32Array // (C)
  clsToken: Float32Array // (C)
  layers: EncoderLayerViews[]
  headGamma: Float32Array // (C) the head's LayerNorm
  headBeta: Float32Array
  classifierWeight: Float32Array // (numLabels, P) P = C, or 2C for 'cls+mean'
  classifierBias: Float32Array // (numLabels)
}

/** The encoder's views of a family's parameters laid out as src/models/encoder.ts's families lay them out. */
export function encoderViewsOf(
  v: {patchWeight: Float32Array; patchBias: Float32Array; clsToken: Float32Array; raw: EncoderLayerViews[]; classifierWeight: Float32Array; classifierBias: Float32Array},
  headGamma: Float32Array,
  headBeta: Float32Array,
): EncoderTrainViews {
  const {patchWeight, patchBias, clsToken, raw, classifierWeight, classifierBias} = v
  return {patchWeight, patchBias, clsToken, layers: raw, headGamma, headBeta, classifierWeight, classifierBias}
}

/** A tensor the forward pass reads that is computed from parameters, and the buffer its gradient accumulates in. */
export interface DerivedTensor {
  value: Float32Array
  grad: Float32Array
}

/**
 * What a family computes from its parameters for the encoder: position embeddings (T, C) or none, and per layer an
 * attention bias (NH, T, T) or none. Either may be a parameter itself (value and grad are then the parameter's and its
 * gradient's views, and compute / fold leave it alone).
 */
export interface EncoderDerived {
  pos: DerivedTensor | null
  relBias: ReadonlyArray<DerivedTensor | null>
  /** Fills the computed values from the parameters (before each forward). */
  compute(): void
  /** Adds the computed tensors' gradients into the parameters' gradients and zeroes them (after each backward). */
  fold(): void
}

export interface EncoderTrainSpec<V> {
  geometry: EncoderTrainGeometry
  head: EncoderHead
  /** The family's parameter function (see params.ts), and the names in it the forward pass never reads. */
  lay: LayParameters<V>
  untrained?: ReadonlySet<string>
  /** The encoder's views of the family's views. */
  views(v: V): EncoderTrainViews
  /** The computed tensors over the parameters `p` and gradients `g`; `alloc` for their own buffers. */
  derived(p: V, g: V, alloc: (n: number) => Float32Array): EncoderDerived
  headInit: TrainModel['headInit']
}

interface Activations {
  patches: Float32Array // (B*Np, ch*PH*PW) the pixels of each patch
  patchEmbeds: Float32Array // (B*Np, C)
  residual: Float32Array // (L+1, B*T, C) the residual stream entering each layer, and leaving the last
  ln1: Float32Array // (L, B*T, C)
  ln1Mean: Float32Array // (L, B*T)
  ln1Rstd: Float32Array // (L, B*T)
  qkv: Float32Array // (L, B*T, 3C)
  att: Float32Array // (L, B, NH, T, T) attention probabilities
  attn: Float32Array // (L, B*T, C) attention output, heads concatenated
  attnProj: Float32Array // (L, B*T, C) its output projection, before the layer scale (layer scale only)
  residualMid: Float32Array // (L, B*T, C) the stream after the attention branch
  ln2: Float32Array // (L, B*T, C)
  ln2Mean: Float32Array // (L, B*T)
  ln2Rstd: Float32Array // (L, B*T)
  fc1Pre: Float32Array // (L, B*T, I) before GELU
  fc1: Float32Array // (L, B*T, I) after GELU
  mlpOut: Float32Array // (L, B*T, C) fc2's output, before the layer scale (layer scale only)
  headNormIn: Float32Array // (B, C) pooled ('pooled') or unused ('tokens')
  headNorm: Float32Array // (B*T, C) normalised tokens ('tokens') or (B, C) the normalised pooled vector
  headMean: Float32Array // (B*T) or (B)
  headRstd: Float32Array
  headIn: Float32Array // (B, P) the classifier's input
  logits: Float32Array // (B, numLabels)
  // gradients of the activations: scratch for one layer at a time
  dResidual: Float32Array // (B*T, C)
  dLn: Float32Array // (B*T, C)
  dBranch: Float32Array // (B*T, C) d/d a branch's output before its layer scale
  dQkv: Float32Array // (B*T, 3C)
  dAttn: Float32Array // (B*T, C)
  dFc1: Float32Array // (B*T, I)
  dFc1Pre: Float32Array // (B*T, I)
  dPatchEmbeds: Float32Array // (B*Np, C)
  dHeadNorm: Float32Array // like headNorm
  dHeadIn: Float32Array // (B, P)
  dLogits: Float32Array // (B, numLabels)
}

/** One layer's slice of a per-layer activation buffer. */
function at(buf: Float32Array, l: number, size: number): Float32Array {
  return buf.subarray(l * size, (l + 1) * size)
}

/** The training model of `spec` for `maxBatch` images: parameters, gradients and moments zero. */
export function createEncoderTrainModel<V>(spec: EncoderTrainSpec<V>, kernels: TrainKernels, maxBatch: number): TrainModel {
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`)
  const {geometry: G, head} = spec
  const {hiddenSize: C, intermediateSize: I, numHeads: NH, numLayers: L, layerNormEps: eps, numLabels: K, numChannels: ch, patchHeight: PH, patchWidth: PW} = G
  const Np = G.gridHeight * G.gridWidth
  const T = Np + 1
  const P = head.pool === 'cls+mean' ? 2 * C : C
  const patchLength = ch * PH * PW
  const a = (n: number): Float32Array => kernels.alloc(n)
  const flat = createFlatParameters(a, spec.lay, spec.untrained)
  const p = spec.views(flat.p)
  const g = spec.views(flat.g)
  const derived = spec.derived(flat.p, flat.g, a)
  const layerScale = p.layers.some((l) => l.lambda1 !== null || l.lambda2 !== null)

  const B = maxBatch
  const BT = B * T
  const headRows = head.norm === 'tokens' ? BT : B
  const s: Activations = {
    patches: a(B * Np * patchLength),
    patchEmbeds: a(B * Np * C),
    residual: a((L + 1) * BT * C),
    ln1: a(L * BT * C),
    ln1Mean: a(L * BT),
    ln1Rstd: a(L * BT),
    qkv: a(L * BT * 3 * C),
    att: a(L * B * NH * T * T),
    attn: a(L * BT * C),
    attnProj: a(layerScale ? L * BT * C : 0),
    residualMid: a(L * BT * C),
    ln2: a(L * BT * C),
    ln2Mean: a(L * BT),
    ln2Rstd: a(L * BT),
    fc1Pre: a(L * BT * I),
    fc1: a(L * BT * I),
    mlpOut: a(layerScale ? L * BT * C : 0),
    headNormIn: a(head.norm === 'pooled' ? B * C : 0),
    headNorm: a(headRows * C),
    headMean: a(headRows),
    headRstd: a(headRows),
    headIn: a(B * P),
    logits: a(B * K),
    dResidual: a(BT * C),
    dLn: a(BT * C),
    dBranch: a(layerScale ? BT * C : 0),
    dQkv: a(BT * 3 * C),
    dAttn: a(BT * C),
    dFc1: a(BT * I),
    dFc1Pre: a(BT * I),
    dPatchEmbeds: a(B * Np * C),
    dHeadNorm: a(headRows * C),
    dHeadIn: a(B * P),
    dLogits: a(B * K),
  }
  const SBT = B * T // per-layer stride of the buffers (sized for maxBatch)
  const SA = B * NH * T * T
  const k = kernels

  // out[B, P] = the head's pooling of x[B, T, C]
  const pool = (out: Float32Array, x: Float32Array, n: number): void => {
    if (head.pool === 'mean') {
      meanTokens(out, x, n, T, 1, C)
      return
    }
    for (let b = 0; b < n; b++) out.set(x.subarray(b * T * C, b * T * C + C), b * P)
    if (head.pool === 'cls+mean') meanTokens(out.subarray(C), x, n, T, 1, C, P)
  }
  // dx[B, T, C] += the pooling's gradient from dout[B, P]
  const poolBackward = (dx: Float32Array, dout: Float32Array, n: number): void => {
    if (head.pool === 'mean') {
      meanTokensBackward(dx, dout, n, T, 1, C)
      return
    }
    for (let b = 0; b < n; b++) for (let c = 0; c < C; c++) dx[b * T * C + c] += dout[b * P + c]
    if (head.pool === 'cls+mean') meanTokensBackward(dx, dout.subarray(C), n, T, 1, C, P)
  }

  function forward(pixels: Float32Array, n: number): Float32Array {
    if (n > maxBatch) throw new Error(`internal: batch ${n} is over the training state's maxBatch ${maxBatch}`)
    const nT = n * T
    derived.compute()
    patchify(s.patches, pixels, n, ch, G.inputHeight, G.inputWidth, PH, PW, G.gridHeight, G.gridWidth)
    k.matmul(s.patchEmbeds, s.patches, p.patchWeight, p.patchBias, n * Np, patchLength, C)
    embedWithCls(s.residual, s.patchEmbeds, p.clsToken, derived.pos?.value ?? null, n, Np, C)

    for (let l = 0; l < L; l++) {
      const w = p.layers[l]
      const bias = derived.relBias[l]
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
      // x_mid = x_in + ls1 * out_proj(attention(qkv(ln1(x_in)) [+ bias]))
      k.layerNorm(ln1, at(s.ln1Mean, l, SBT), at(s.ln1Rstd, l, SBT), xIn, w.ln1Gamma, w.ln1Beta, nT, C, eps)
      k.matmul(qkv, ln1, w.qkvWeight, w.qkvBias, nT, C, 3 * C)
      if (bias) k.biasedAttention(attn, att, qkv, bias.value, n, T, C, NH)
      else k.attention(attn, att, qkv, n, T, C, NH)
      if (w.lambda1) {
        const proj = at(s.attnProj, l, SBT * C)
        k.matmul(proj, attn, w.outWeight, w.outBias, nT, C, C)
        k.layerScale(xMid, xIn, proj, w.lambda1, nT, C)
      } else {
        k.matmul(xMid, attn, w.outWeight, w.outBias, nT, C, C, xIn)
      }
      // x_out = x_mid + ls2 * fc2(gelu(fc1(ln2(x_mid))))
      k.layerNorm(ln2, at(s.ln2Mean, l, SBT), at(s.ln2Rstd, l, SBT), xMid, w.ln2Gamma, w.ln2Beta, nT, C, eps)
      k.matmul(fc1Pre, ln2, w.fc1Weight, w.fc1Bias, nT, C, I)
      k.gelu(fc1, fc1Pre, nT * I)
      if (w.lambda2) {
        const mlp = at(s.mlpOut, l, SBT * C)
        k.matmul(mlp, fc1, w.fc2Weight, w.fc2Bias, nT, I, C)
        k.layerScale(xOut, xMid, mlp, w.lambda2, nT, C)
      } else {
        k.matmul(xOut, fc1, w.fc2Weight, w.fc2Bias, nT, I, C, xMid)
      }
    }

    const last = at(s.residual, L, SBT * C)
    if (head.norm === 'pooled') {
      pool(s.headNormIn, last, n)
      k.layerNorm(s.headIn, s.headMean, s.headRstd, s.headNormIn, p.headGamma, p.headBeta, n, C, eps)
    } else {
      k.layerNorm(s.headNorm, s.headMean, s.headRstd, last, p.headGamma, p.headBeta, nT, C, eps)
      pool(s.headIn, s.headNorm, n)
    }
    k.matmul(s.logits, s.headIn, p.classifierWeight, p.classifierBias, n, P, K)
    return s.logits.subarray(0, n * K)
  }

  // d/d a branch's output from dResidual (x = residual + lambda * branch): dResidual itself without a layer scale, else
  // dBranch (and dlambda accumulated from the branch output `kept` of layer l)
  const throughLayerScale = (lambda: Float32Array | null, dlambda: Float32Array | null, kept: Float32Array, l: number, nT: number): Float32Array => {
    if (!lambda || !dlambda) return s.dResidual
    s.dBranch.fill(0, 0, nT * C)
    k.layerScaleBackward(s.dBranch, dlambda, s.dResidual, at(kept, l, SBT * C), lambda, nT, C)
    return s.dBranch
  }

  function backward(n: number): void {
    const nT = n * T
    const dRes = s.dResidual
    const last = at(s.residual, L, SBT * C)
    // classifier, head LayerNorm and pooling: dRes = d/d the last layer's output
    s.dHeadIn.fill(0, 0, n * P)
    k.matmulBackward(s.dHeadIn, g.classifierWeight, g.classifierBias, s.dLogits, s.headIn, p.classifierWeight, n, P, K)
    dRes.fill(0, 0, nT * C)
    if (head.norm === 'pooled') {
      s.dHeadNorm.fill(0, 0, n * C)
      k.layerNormBackward(s.dHeadNorm, g.headGamma, g.headBeta, s.dHeadIn, s.headNormIn, p.headGamma, s.headMean, s.headRstd, n, C)
      poolBackward(dRes, s.dHeadNorm, n)
    } else {
      s.dHeadNorm.fill(0, 0, nT * C)
      poolBackward(s.dHeadNorm, s.dHeadIn, n)
      k.layerNormBackward(dRes, g.headGamma, g.headBeta, s.dHeadNorm, last, p.headGamma, s.headMean, s.headRstd, nT, C)
    }

    for (let l = L - 1; l >= 0; l--) {
      const w = p.layers[l]
      const gw = g.layers[l]
      const bias = derived.relBias[l]
      const xIn = at(s.residual, l, SBT * C)
      const xMid = at(s.residualMid, l, SBT * C)
      // x_out = x_mid + ls2 * fc2(gelu(fc1(ln2(x_mid)))): dRes is d/dx_out and becomes d/dx_mid in place
      const dMlp = throughLayerScale(w.lambda2, gw.lambda2, s.mlpOut, l, nT)
      s.dFc1.fill(0, 0, nT * I)
      k.matmulBackward(s.dFc1, gw.fc2Weight, gw.fc2Bias, dMlp, at(s.fc1, l, SBT * I), w.fc2Weight, nT, I, C)
      s.dFc1Pre.fill(0, 0, nT * I)
      k.geluBackward(s.dFc1Pre, at(s.fc1Pre, l, SBT * I), s.dFc1, nT * I)
      s.dLn.fill(0, 0, nT * C)
      k.matmulBackward(s.dLn, gw.fc1Weight, gw.fc1Bias, s.dFc1Pre, at(s.ln2, l, SBT * C), w.fc1Weight, nT, C, I)
      k.layerNormBackward(dRes, gw.ln2Gamma, gw.ln2Beta, s.dLn, xMid, w.ln2Gamma, at(s.ln2Mean, l, SBT), at(s.ln2Rstd, l, SBT), nT, C)
      // x_mid = x_in + ls1 * out_proj(attention(qkv(ln1(x_in)))): dRes becomes d/dx_in in place
      const dProj = throughLayerScale(w.lambda1, gw.lambda1, s.attnProj, l, nT)
      s.dAttn.fill(0, 0, nT * C)
      k.matmulBackward(s.dAttn, gw.outWeight, gw.outBias, dProj, at(s.attn, l, SBT * C), w.outWeight, nT, C, C)
      s.dQkv.fill(0, 0, nT * 3 * C)
      if (bias) k.biasedAttentionBackward(s.dQkv, bias.grad, s.dAttn, at(s.qkv, l, SBT * 3 * C), at(s.att, l, SA), n, T, C, NH)
      else k.attentionBackward(s.dQkv, s.dAttn, at(s.qkv, l, SBT * 3 * C), at(s.att, l, SA), n, T, C, NH)
      s.dLn.fill(0, 0, nT * C)
      k.matmulBackward(s.dLn, gw.qkvWeight, gw.qkvBias, s.dQkv, at(s.ln1, l, SBT * C), w.qkvWeight, nT, C, 3 * C)
      k.layerNormBackward(dRes, gw.ln1Gamma, gw.ln1Beta, s.dLn, xIn, w.ln1Gamma, at(s.ln1Mean, l, SBT), at(s.ln1Rstd, l, SBT), nT, C)
    }

    // embeddings: x[b, 0] = cls + pos[0]; x[b, 1 + p] = patchEmbeds[b, p] + pos[1 + p]
    const dPos = derived.pos?.grad
    for (let b = 0; b < n; b++) {
      const row = b * T * C
      for (let c = 0; c < C; c++) g.clsToken[c] += dRes[row + c]
      if (dPos) for (let i = 0; i < T * C; i++) dPos[i] += dRes[row + i]
      s.dPatchEmbeds.set(dRes.subarray(row + C, row + T * C), b * Np * C)
    }
    k.matmulBackward(null, g.patchWeight, g.patchBias, s.dPatchEmbeds, s.patches, p.patchWeight, n * Np, patchLength, C)
    derived.fold()
  }

  return {
    kernels,
    layout: flat.layout,
    params: flat.params,
    grads: flat.grads,
    m: a(flat.layout.total),
    v: a(flat.layout.total),
    maxBatch,
    activationFloats: Object.values(s).reduce((n: number, x: Float32Array) => n + x.length, 0),
    numLabels: K,
    numChannels: ch,
    inputHeight: G.inputHeight,
    inputWidth: G.inputWidth,
    classifier: {weight: p.classifierWeight, bias: p.classifierBias},
    headInit: spec.headInit,
    dLogits: s.dLogits,
    forward,
    backward,
  }
}
