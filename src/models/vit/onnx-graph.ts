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
  const H = c.numHeads
  const D = C / H
  const {patchHeight: PH, patchWidth: PW, numTokens: T} = c
  const n = vitTensorNames(c.numLayers)

  // Patch embedding: a stride-P convolution, flattened to tokens.
  const conv = g.op(
    'Conv',
    ['pixel_values', g.weight(n.patchEmbedding.weight, [C, c.numChannels, PH, PW]), g.weight(n.patchEmbedding.bias, [C])],
    'embeddings/patch/Conv',
    {kernel_shape: [PH, PW], strides: [PH, PW]},
  )
  const flat = g.op('Reshape', [conv, g.constI64('shape_0_C_m1', [3], [0, C, -1])], 'embeddings/patch/Reshape')
  const patches = g.op('Transpose', [flat], 'embeddings/patch/Transpose', {perm: [0, 2, 1]})

  // CLS token broadcast to the batch: Expand(cls[1,1,C], [N,1,C]).
  const batch = g.op('Shape', ['pixel_values'], 'embeddings/cls/Shape', {start: 0, end: 1})
  const clsShape = g.op('Concat', [batch, g.constI64('shape_1_C', [2], [1, C])], 'embeddings/cls/Concat', {axis: 0})
  const cls = g.op('Expand', [g.weight(n.clsToken, [1, 1, C]), clsShape], 'embeddings/cls/Expand')
  const tokens = g.op('Concat', [cls, patches], 'embeddings/Concat', {axis: 1})
  let x = g.op('Add', [tokens, g.weight(n.positionEmbeddings, [1, T, C])], 'embeddings/Add')

  const headsShape = g.constI64('shape_0_0_H_D', [4], [0, 0, H, D])
  const mergeShape = g.constI64('shape_0_0_C', [3], [0, 0, C])
  const scale = g.constF32('attention_scale', [], [1 / Math.sqrt(D)])
  const sqrt2 = g.constF32('sqrt2', [], [Math.SQRT2])
  const one = g.constF32('one', [], [1])
  const half = g.constF32('half', [], [0.5])

  for (const layer of n.layers) {
    const p = layer.prefix
    const ln1 = g.layerNorm(x, layer.layernormBefore, C, c.layerNormEps)
    const heads = (part: 'query' | 'key' | 'value', perm: number[]): string => {
      const proj = g.linear(ln1, layer[part], C, C, c.qkvBias)
      const split = g.op('Reshape', [proj, headsShape], `${p}.attention.${part}/Reshape`)
      return g.op('Transpose', [split], `${p}.attention.${part}/Transpose`, {perm})
    }
    const q = heads('query', [0, 2, 1, 3]) // [N,H,T,D]
    const k = heads('key', [0, 2, 3, 1]) // [N,H,D,T]
    const v = heads('value', [0, 2, 1, 3]) // [N,H,T,D]
    const scores = g.op('Mul', [g.op('MatMul', [q, k], `${p}.attention/scores/MatMul`), scale], `${p}.attention/scores/Mul`) // [N,H,T,T]
    const probs = g.op('Softmax', [scores], `${p}.attention/Softmax`, {axis: -1})
    const ctx = g.op('MatMul', [probs, v], `${p}.attention/context/MatMul`) // [N,H,T,D]
    const merged = g.op('Reshape', [g.op('Transpose', [ctx], `${p}.attention/context/Transpose`, {perm: [0, 2, 1, 3]}), mergeShape], `${p}.attention/context/Reshape`)
    const attnOut = g.linear(merged, layer.attentionOutput, C, C)
    x = g.op('Add', [x, attnOut], `${p}/residual_attention/Add`)

    const ln2 = g.layerNorm(x, layer.layernormAfter, C, c.layerNormEps)
    const h = g.linear(ln2, layer.intermediate, C, c.intermediateSize)
    // gelu(h) = 0.5 * h * (1 + erf(h / sqrt 2)), the pattern onnxruntime fuses into one Gelu kernel.
    const erf = g.op('Erf', [g.op('Div', [h, sqrt2], `${p}.gelu/Div`)], `${p}.gelu/Erf`)
    const gelu = g.op('Mul', [g.op('Mul', [h, g.op('Add', [erf, one], `${p}.gelu/Add`)], `${p}.gelu/Mul`), half], `${p}.gelu/Mul_half`)
    const mlpOut = g.linear(gelu, layer.output, c.intermediateSize, C)
    x = g.op('Add', [x, mlpOut], `${p}/residual_mlp/Add`)
  }

  const final = g.layerNorm(x, n.layernorm, C, c.layerNormEps)
  const clsOut = g.op('Gather', [final, g.constI64('token_0', [], [0])], 'pooler/Gather', {axis: 1}) // [N,C]
  g.output(g.linear(clsOut, n.classifier, C, c.numLabels), 'logits')
}
