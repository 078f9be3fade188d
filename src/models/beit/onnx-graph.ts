/**
 * BeitForImageClassification as an ONNX graph (opset 17), written with src/onnx/graph.ts's builder; the weights are
 * named by role through the tensor plan of tensors.ts (the one file that spells them). What the engine computes
 * (forward.ts, weights.ts), as PyTorch orders it:
 *
 *   pixel_values[N,ch,H,W] -Conv(stride P)-> patches[N,Np,C]; Concat(Expand(cls), patches) (+ position_embeddings)
 *   per layer: x += lambda_1 * Wo·attn(LN(x)); x += lambda_2 * W2·gelu(W1·LN(x))
 *     attn: softmax(q k^T / sqrt(D) + bias) v, the key without bias; bias[NH,T,T] = Gather(table, index) per layer
 *     (plus the shared table's, or the shared one alone)
 *   mean pooling: LayerNorm(pooler)(mean of the patch tokens); else LayerNorm(beit.layernorm)([CLS])
 *   -> classifier -> logits[N,labels]
 */
import type {OnnxGraph} from '../../onnx/graph.js'
import {LIST_ONLY, namesByRole} from '../tensor-plan.js'
import type {BeitConfig} from './config.js'
import {beitParameters} from './tensors.js'
import {beitRelativePositionIndex} from './weights.js'

export function buildBeitOnnxGraph(g: OnnxGraph, c: BeitConfig): void {
  const {hiddenSize: C, intermediateSize: I, numHeads: NH, numTokens: T, layerNormEps: eps} = c
  const p = beitParameters(c, LIST_ONLY)
  const {name, pair, linear} = namesByRole(p.plan)

  const patches = g.patchEmbedding('pixel_values', pair(p.patchWeight, p.patchBias), C, c.numChannels, c.patchHeight, c.patchWidth)
  let x = g.prependToken(patches, name(p.clsToken), C)
  if (p.posEmbed) x = g.op('Add', [x, g.weight(name(p.posEmbed), [1, T, C])], 'embeddings/Add')

  // BeitRelativePositionBias: the table's rows picked by relative_position_index, as [NH, T, T].
  const index = g.constI64('relative_position_index', [T, T], beitRelativePositionIndex(c.gridHeight, c.gridWidth))
  const relativeBias = (table: Float32Array, prefix: string): string => {
    const t = p.plan.tensorOf(table)
    const rows = g.op('Gather', [g.weight(t.name, t.shape), index], `${prefix}/Gather`, {axis: 0}) // [T,T,NH]
    return g.op('Transpose', [rows], `${prefix}/Transpose`, {perm: [2, 0, 1]})
  }
  const shared = p.sharedTable ? relativeBias(p.sharedTable, 'shared_relative_position_bias') : undefined

  for (const [l, r] of p.raw.entries()) {
    const prefix = `layer_${l}`
    const own = r.table ? relativeBias(r.table, `${prefix}.relative_position_bias`) : undefined
    // BeitSelfAttention adds its own table's bias, then the shared one: with both, their sum.
    const bias = own && shared ? g.op('Add', [own, shared], `${prefix}.relative_position_bias/Add`) : (own ?? shared)
    const ln1 = g.layerNorm(x, pair(r.ln1Gamma, r.ln1Beta), C, eps)
    const ctx = g.selfAttention(ln1, linear(r.qkvParts.query), linear(r.qkvParts.key), linear(r.qkvParts.value), C, NH, `${prefix}.attention`, bias)
    let attn = g.linear(ctx, pair(r.outWeight, r.outBias), C, C)
    if (r.lambda1) attn = g.scaled(attn, name(r.lambda1), C)
    x = g.op('Add', [x, attn], `${prefix}/residual_attention/Add`)

    const ln2 = g.layerNorm(x, pair(r.ln2Gamma, r.ln2Beta), C, eps)
    let mlp = g.linear(g.gelu(g.linear(ln2, pair(r.fc1Weight, r.fc1Bias), C, I), `${prefix}.gelu`), pair(r.fc2Weight, r.fc2Bias), I, C)
    if (r.lambda2) mlp = g.scaled(mlp, name(r.lambda2), C)
    x = g.op('Add', [x, mlp], `${prefix}/residual_mlp/Add`)
  }

  const pooled = c.meanPooling ? g.meanTokens(x, 1, 'pooler') : g.token(x, 0, 'pooler')
  const normed = g.layerNorm(pooled, pair(p.headGamma, p.headBeta), C, eps)
  g.output(g.linear(normed, pair(p.classifierWeight, p.classifierBias), C, c.numLabels), 'logits')
}
