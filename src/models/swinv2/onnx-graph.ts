/**
 * Swinv2ForImageClassification as an ONNX graph (opset 17), written with src/onnx/graph.ts's builder; the weights are
 * named by role through the tensor plan of tensors.ts (the one file that spells them). What the engine computes
 * (forward.ts, weights.ts) for config.json's image size:
 *
 *   pixel_values -Conv(stride P, the image zero-padded to whole patches)-> [N, L, C0] -> LayerNorm (eps 1e-5)
 *   per stage, per block (res-post-norm):
 *     windows = Gather(Pad(x, one zero row), index)  the map zero-padded to whole windows, rolled by -shift and cut
 *                                                   into windows, in one gather (index from windowSources)
 *     attention per window: cosine similarity (q, k each divided by max(|.|, 1e-12)) * exp(min(logit_scale, log 100))
 *                           + bias, softmax, times v; the key has no bias
 *     x += Gather(layernorm_before(Wo·attention), inverse index)   (windows put back, padding dropped)
 *     x += layernorm_after(W2·gelu(W1·x))
 *   patch merging between stages: Gather of the four quarters (zero past an odd edge), Linear without bias, LayerNorm
 *   layernorm -> mean over tokens -> classifier -> logits[N, labels]
 *
 * The bias a block adds depends on the weights and the geometry only: the continuous position bias MLP run over the
 * log-spaced relative coordinates (16 * sigmoid), plus on shifted blocks each window's mask. Like the engine, which
 * builds it once at load, the export precomputes it (swinv2BlockBias, the engine's own function) and stores it as a
 * constant initializer [windows or 1, heads, T, T] per block, instead of running the MLP in the graph.
 */
import type {OnnxGraph} from '../../onnx/graph.js'
import {LIST_ONLY, namesByRole} from '../tensor-plan.js'
import {type Swinv2Config, swinv2Geometry} from './config.js'
import {mergeSources, windowSources} from './forward.js'
import {swinv2Parameters} from './tensors.js'
import {blockBiasCount, swinv2BlockBias} from './weights.js'

/** nn.LayerNorm's default eps, which the embedding and patch-merging norms use (not config.layer_norm_eps). */
const TORCH_LN_EPS = 1e-5

export function buildSwinv2OnnxGraph(g: OnnxGraph, c: Swinv2Config): void {
  const P = c.patchSize
  const eps = c.layerNormEps
  const stages = swinv2Geometry(c, c.imageHeight, c.imageWidth)
  const p = swinv2Parameters(c, stages, LIST_ONLY)
  const {name, pair, linear} = namesByRole(p.plan)

  /** x[N, L, C] gathered along the tokens by `index` (-1: a zero token, from one zero row padded after the map). */
  const gatherTokens = (x: string, index: Int32Array, L: number, prefix: string): string => {
    const padded = index.some((k) => k < 0)
    const from = padded ? g.op('Pad', [x, g.constI64('pads_one_token', [6], [0, 0, 0, 0, 1, 0])], `${prefix}/Pad`) : x
    const indices = g.constI64(`${prefix}.index`, [index.length], Array.from(index, (k) => (k < 0 ? L : k)))
    return g.op('Gather', [from, indices], `${prefix}/Gather`, {axis: 1})
  }

  const first = stages[0]
  const pad: [number, number] = [first.height * P - c.imageHeight, first.width * P - c.imageWidth]
  const patches = g.patchEmbedding('pixel_values', pair(p.patchWeight, p.patchBias), c.embedDim, c.numChannels, P, P, pad)
  let x = g.layerNorm(patches, pair(p.embedNormGamma, p.embedNormBeta), c.embedDim, TORCH_LN_EPS)
  const maxLogit = g.constF32('max_logit_scale', [], [Math.fround(Math.log(100))])
  const minNorm = g.constF32('min_norm', [], [1e-12])

  for (const [i, {stage, blocks, merge}] of p.raw.entries()) {
    const {dim: C, heads: NH, height: H, width: W, hidden} = stage
    const D = C / NH
    const L = H * W
    for (const [j, r] of blocks.entries()) {
      const geo = r.geometry
      const prefix = `stage_${i}.block_${j}`
      const T = geo.windowSize * geo.windowSize
      const nW = geo.numWindows
      const src = windowSources(geo)
      const windows = gatherTokens(x, src, L, `${prefix}.windows`) // [N, nW*T, C]

      // q, k, v per window and head: [N*nW, NH, T, D]; q and k L2-normalised (cosine attention)
      const heads = (names: {weight: string; bias?: string}, part: string, normalise: boolean): string => {
        const split = g.op('Reshape', [g.linear(windows, names, C, C), g.constI64(`shape_m1_${T}_${NH}_${D}`, [4], [-1, T, NH, D])], `${prefix}.${part}/Reshape`)
        const h = g.op('Transpose', [split], `${prefix}.${part}/Transpose`, {perm: [0, 2, 1, 3]})
        if (!normalise) return h
        const norm = g.op('ReduceL2', [h], `${prefix}.${part}/ReduceL2`, {axes: [-1], keepdims: 1})
        return g.op('Div', [h, g.op('Max', [norm, minNorm], `${prefix}.${part}/Max`)], `${prefix}.${part}/Div`)
      }
      const q = heads(linear(r.qkvParts.query), 'query', true)
      const k = g.op('Transpose', [heads(linear(r.qkvParts.key), 'key', true)], `${prefix}.key/Transpose_T`, {perm: [0, 1, 3, 2]})
      const v = heads(linear(r.qkvParts.value), 'value', false)
      const logitScale = g.op('Exp', [g.op('Min', [g.weight(name(r.logitScale), [NH, 1, 1]), maxLogit], `${prefix}.logit_scale/Min`)], `${prefix}.logit_scale/Exp`)
      let scores = g.op('Mul', [g.op('MatMul', [q, k], `${prefix}.scores/MatMul`), logitScale], `${prefix}.scores/Mul`) // [N*nW, NH, T, T]

      const nBias = blockBiasCount(geo)
      const cpb = [r.cpbW0, r.cpbB0, r.cpbW2].map(name)
      const bias = g.derived(`${prefix}.attention_bias`, [nBias, NH, T, T], cpb, ([w0, b0, w2]) => {
        const out = new Float32Array(nBias * NH * T * T)
        swinv2BlockBias(out, w0, b0, w2, NH, geo, c.pretrainedWindowSizes[i])
        return out
      })
      if (nBias > 1) {
        // one bias per window: scores seen as [N, nW, NH, T, T]
        const perImage = g.op('Reshape', [scores, g.constI64(`shape_m1_${nW}_${NH}_${T}_${T}`, [5], [-1, nW, NH, T, T])], `${prefix}.scores/Reshape_windows`)
        const biased = g.op('Add', [perImage, bias], `${prefix}.scores/Add`)
        scores = g.op('Reshape', [biased, g.constI64(`shape_m1_${NH}_${T}_${T}`, [4], [-1, NH, T, T])], `${prefix}.scores/Reshape`)
      } else {
        scores = g.op('Add', [scores, bias], `${prefix}.scores/Add`)
      }
      const probs = g.op('Softmax', [scores], `${prefix}/Softmax`, {axis: -1})
      const ctx = g.op('Transpose', [g.op('MatMul', [probs, v], `${prefix}.context/MatMul`)], `${prefix}.context/Transpose`, {perm: [0, 2, 1, 3]})
      const merged = g.op('Reshape', [ctx, g.constI64(`shape_m1_${nW * T}_${C}`, [3], [-1, nW * T, C])], `${prefix}.context/Reshape`)
      const attn = g.layerNorm(g.linear(merged, pair(r.outWeight, r.outBias), C, C), pair(r.lnBeforeGamma, r.lnBeforeBeta), C, eps)
      // the windows put back: map position q takes the window token that holds it
      const inverse = new Int32Array(L)
      src.forEach((q, kk) => {
        if (q >= 0) inverse[q] = kk
      })
      x = g.op('Add', [x, gatherTokens(attn, inverse, nW * T, `${prefix}.unwindow`)], `${prefix}/residual_attention/Add`)

      const mlp = g.linear(g.gelu(g.linear(x, pair(r.fc1Weight, r.fc1Bias), C, hidden), `${prefix}.gelu`), pair(r.fc2Weight, r.fc2Bias), hidden, C)
      x = g.op('Add', [x, g.layerNorm(mlp, pair(r.lnAfterGamma, r.lnAfterBeta), C, eps)], `${prefix}/residual_mlp/Add`)
    }
    if (merge) {
      const prefix = `stage_${i}.merge`
      const N2 = Math.ceil(H / 2) * Math.ceil(W / 2)
      const quarters = g.op('Reshape', [gatherTokens(x, mergeSources(H, W), L, prefix), g.constI64(`shape_0_${N2}_${4 * C}`, [3], [0, N2, 4 * C])], `${prefix}/Reshape`)
      const reduced = g.linear(quarters, {weight: name(merge.reduction)}, 4 * C, 2 * C)
      x = g.layerNorm(reduced, pair(merge.normGamma, merge.normBeta), 2 * C, TORCH_LN_EPS)
    }
  }

  const CL = stages[stages.length - 1].dim
  const pooled = g.meanTokens(g.layerNorm(x, pair(p.lnfGamma, p.lnfBeta), CL, eps), 0, 'pooler')
  g.output(g.linear(pooled, pair(p.classifierWeight, p.classifierBias), CL, c.numLabels), 'logits')
}
