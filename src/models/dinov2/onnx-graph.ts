/**
 * Dinov2ForImageClassification as an ONNX graph (opset 17), written with src/onnx/graph.ts's builder; the weights are
 * named by role through the tensor plan of tensors.ts (the one file that spells them). What the engine computes
 * (forward.ts, weights.ts), as PyTorch orders it:
 *
 *   pixel_values[N,ch,H,W] -Conv(stride P)-> patches[N,GH*GW,C]; Concat(Expand(cls), patches) + positions
 *   per layer: x += layer_scale1 * Wo·attn(norm1(x)); x += layer_scale2 * W2·gelu(W1·norm2(x))
 *   layernorm(x) -> Concat([CLS], mean of the patch tokens) -> classifier -> logits[N,labels]
 *
 * The graph has a fixed image size, the one the model is served at (`serving`: the image processor's crop), so the
 * position embeddings are resampled once, at export, to that grid — exactly as the engine does at load
 * (interpolatePositions, in the transformers version that serves the model) — and stored as a constant initializer;
 * at the config's own geometry they are the checkpoint's, unchanged. The graph does not resample for other sizes.
 */
import type {OnnxGraph} from '../../onnx/graph.js'
import type {ServingContext} from '../family.js'
import {LIST_ONLY, namesByRole} from '../tensor-plan.js'
import type {Dinov2Config} from './config.js'
import {dinov2Parameters} from './tensors.js'
import {interpolatePositions, interpolatesByScaleFactor} from './weights.js'

export function buildDinov2OnnxGraph(g: OnnxGraph, c: Dinov2Config, serving: ServingContext): void {
  const {hiddenSize: C, intermediateSize: I, numHeads: NH, layerNormEps: eps} = c
  const p = dinov2Parameters(c, LIST_ONLY)
  const {name, pair, linear} = namesByRole(p.plan)

  const GH = Math.floor(serving.inputHeight / c.patchHeight)
  const GW = Math.floor(serving.inputWidth / c.patchWidth)
  const T = 1 + GH * GW
  const patches = g.patchEmbedding('pixel_values', pair(p.patchWeight, p.patchBias), C, c.numChannels, c.patchHeight, c.patchWidth)
  const tokens = g.prependToken(patches, name(p.clsToken), C)
  const trained = name(p.trainedPos)
  const resampled = GH * GW === c.numPositions && GH === GW ? trained : `${trained}.resampled_${GH}x${GW}`
  const byScaleFactor = interpolatesByScaleFactor(serving.transformersVersion)
  const positions = g.derived(resampled, [1, T, C], [trained], ([pos]) => {
    const out = new Float32Array(T * C)
    interpolatePositions(out, pos, c.numPositions, C, GH, GW, byScaleFactor, serving.weightsFile)
    return out
  })
  let x = g.op('Add', [tokens, positions], 'embeddings/Add')

  for (const [l, r] of p.raw.entries()) {
    const prefix = `layer_${l}`
    const ln1 = g.layerNorm(x, pair(r.ln1Gamma, r.ln1Beta), C, eps)
    const ctx = g.selfAttention(ln1, linear(r.qkvParts.query), linear(r.qkvParts.key), linear(r.qkvParts.value), C, NH, `${prefix}.attention`)
    x = g.op('Add', [x, g.scaled(g.linear(ctx, pair(r.outWeight, r.outBias), C, C), name(r.lambda1), C)], `${prefix}/residual_attention/Add`)

    const ln2 = g.layerNorm(x, pair(r.ln2Gamma, r.ln2Beta), C, eps)
    const mlp = g.linear(g.gelu(g.linear(ln2, pair(r.fc1Weight, r.fc1Bias), C, I), `${prefix}.gelu`), pair(r.fc2Weight, r.fc2Bias), I, C)
    x = g.op('Add', [x, g.scaled(mlp, name(r.lambda2), C)], `${prefix}/residual_mlp/Add`)
  }

  // The final LayerNorm on every token; the head reads [CLS] and the mean of the normalised patch tokens.
  const normed = g.layerNorm(x, pair(p.lnfGamma, p.lnfBeta), C, eps)
  const head = g.op('Concat', [g.token(normed, 0, 'head/cls'), g.meanTokens(normed, 1, 'head/patch_mean')], 'head/Concat', {axis: -1})
  g.output(g.linear(head, pair(p.classifierWeight, p.classifierBias), 2 * C, c.numLabels), 'logits')
}
