/**
 * The forward pass of Hugging Face's ViTForImageClassification (transformers/models/vit/modeling_vit.py), top to
 * bottom as the architecture reads: patch embedding, CLS token, position embeddings, pre-LN encoder blocks, final
 * LayerNorm, classifier on the CLS token. The arithmetic is the backend's; this file only orders it.
 */
import type {Backend} from '../../engine/backend.js'
import {patchify} from '../ops.js'
import type {VitConfig} from './config.js'
import type {VitLinears, VitParameters} from './parameters.js'
import type {VitState} from './state.js'

// patches[B*Np, ch*PH*PW] = the pixels of each patch, in the order of the conv weight [C, ch, PH, PW], patches
// row-major over the grid (as Conv2d(stride=patch) then flatten(2) gives). Pixels right of / below the last whole
// patch are dropped, as the strided convolution drops them.
export function im2col(patches: Float32Array, pixels: Float32Array, config: VitConfig, B: number): void {
  const {numChannels: ch, imageHeight: H, imageWidth: W, patchHeight: PH, patchWidth: PW, gridHeight: GH, gridWidth: GW} = config
  patchify(patches, pixels, B, ch, H, W, PH, PW, GH, GW)
}

// x[B, T, C]: x[b, 0] = cls + pos[0]; x[b, 1 + p] = patchEmbeds[b, p] + pos[1 + p]
export function embedTokens(x: Float32Array, patchEmbeds: Float32Array, cls: Float32Array, pos: Float32Array, B: number, Np: number, C: number): void {
  const T = Np + 1
  for (let b = 0; b < B; b++) {
    const row = b * T * C
    for (let c = 0; c < C; c++) x[row + c] = cls[c] + pos[c]
    const src = b * Np * C
    for (let i = 0; i < Np * C; i++) x[row + C + i] = patchEmbeds[src + i] + pos[C + i]
  }
}

/**
 * logits[B, numLabels] for pixels[B, ch, H, W] (B <= state.maxBatch). Returns `state.logits` (a view, overwritten
 * by the next call).
 */
export function vitForward(backend: Backend, config: VitConfig, params: VitParameters, linears: VitLinears, state: VitState, pixels: Float32Array, B: number): Float32Array {
  if (B > state.maxBatch) throw new Error(`internal: batch ${B} is over the state's maxBatch ${state.maxBatch}`)
  const {hiddenSize: C, numHeads: NH, numPatches: Np, numTokens: T, layerNormEps: eps} = config
  const BT = B * T
  const s = state

  // embeddings: Conv2d(kernel = stride = patch) as a matmul over patches, then [CLS] and position embeddings
  im2col(s.patches, pixels, config, B)
  backend.linear(s.patchEmbeds, s.patches, linears.patchEmbed, B * Np, 'none')
  embedTokens(s.x, s.patchEmbeds, params.clsToken, params.posEmbed, B, Np, C)

  for (let l = 0; l < params.layers.length; l++) {
    const layer = params.layers[l]
    const lin = linears.layers[l]
    // x = x + attention(layernorm_before(x))
    backend.layerNorm(s.xNorm, s.x, layer.ln1Gamma, layer.ln1Beta, BT, C, eps)
    backend.linear(s.qkv, s.xNorm, lin.qkv, BT, 'none')
    backend.attention(s.attn, s.qkv, B, T, C, NH)
    backend.linear(s.x, s.attn, lin.attnOut, BT, 'none', s.x)
    // x = x + mlp(layernorm_after(x))
    backend.layerNorm(s.xNorm, s.x, layer.ln2Gamma, layer.ln2Beta, BT, C, eps)
    backend.linear(s.mlp, s.xNorm, lin.fc1, BT, 'gelu')
    backend.linear(s.x, s.mlp, lin.fc2, BT, 'none', s.x)
  }

  // final LayerNorm (per token, so only the CLS rows the classifier reads are normalised), then the classifier
  for (let b = 0; b < B; b++) s.cls.set(s.x.subarray(b * T * C, b * T * C + C), b * C)
  backend.layerNorm(s.clsNorm, s.cls, params.lnfGamma, params.lnfBeta, B, C, eps)
  backend.linear(s.logits, s.clsNorm, linears.classifier, B, 'none')
  return s.logits.subarray(0, B * config.numLabels)
}
