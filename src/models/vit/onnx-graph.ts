/**
 * ViTForImageClassification as an ONNX graph (opset 17), written with src/onnx/graph.ts's builder; the weights are
 * the tensor table's, by role (src/models/vit/tensors.ts).
 *
 * Graph (N = batch, dynamic; T = tokens; C = hidden):
 *   pixel_values[N,ch,H,W] -Conv(stride PHxPW)-> [N,C,H/PH,W/PW] -Reshape[0,C,-1]-> -Transpose-> [N,T-1,C]
 *   Concat(Expand(cls,[N,1,C]), patches) + position_embeddings -> x[N,T,C]
 *   per layer: x += Wo·attn(LN(x)); x += W2·gelu(W1·LN(x))   (attention as MatMul/Softmax, gelu as Erf)
 *   LayerNorm -> Gather(token 0) -> MatMul classifier -> logits[N,labels]
 */
import type {OnnxGraph} from '../../onnx/graph.js'
import type {VitConfig} from './config.js'
import {vitTensorNames} from './tensors.js'

export function buildVitOnnxGraph(g: OnnxGraph, c: VitConfig): void {
  const C = c.hiddenSize
  const {patchHeight: PH, patchWidth: PW, numTokens: T} = c
  const n = vitTensorNames(c.numLayers)
  const qkv = (names: {weight: string; bias: string}): {weight: string; bias?: string} => (c.qkvBias ? names : {weight: names.weight})

  const patches = g.patchEmbedding('pixel_values', n.patchEmbedding, C, c.numChannels, PH, PW)
  const tokens = g.prependToken(patches, n.clsToken, C)
  let x = g.op('Add', [tokens, g.weight(n.positionEmbeddings, [1, T, C])], 'embeddings/Add')
  // The shared constants here, before the layers, where ViT's model.onnx has always had them (same bytes as before).
  g.attentionConstants(C, c.numHeads)
  g.geluConstants()

  for (const layer of n.layers) {
    const p = layer.prefix
    const ln1 = g.layerNorm(x, layer.layernormBefore, C, c.layerNormEps)
    const ctx = g.selfAttention(ln1, qkv(layer.query), qkv(layer.key), qkv(layer.value), C, c.numHeads, `${p}.attention`)
    x = g.op('Add', [x, g.linear(ctx, layer.attentionOutput, C, C)], `${p}/residual_attention/Add`)

    const ln2 = g.layerNorm(x, layer.layernormAfter, C, c.layerNormEps)
    const h = g.gelu(g.linear(ln2, layer.intermediate, C, c.intermediateSize), `${p}.gelu`)
    x = g.op('Add', [x, g.linear(h, layer.output, c.intermediateSize, C)], `${p}/residual_mlp/Add`)
  }

  const final = g.layerNorm(x, n.layernorm, C, c.layerNormEps)
  g.output(g.linear(g.token(final, 0, 'pooler'), n.classifier, C, c.numLabels), 'logits')
}
