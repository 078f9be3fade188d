/**
 * The forward pass of Swinv2ForImageClassification (transformers/models/swinv2/modeling_swinv2.py): patch embedding
 * (the image zero-padded to whole patches) + LayerNorm; per stage, blocks of window attention — the map zero-padded to
 * whole windows, cyclically shifted on odd blocks, cut into windows, cosine attention with the precomputed bias (and
 * mask), the windows put back — with res-post-norm residuals (x + LN(attention(x)), x + LN(mlp(x))); patch merging
 * between stages; the final LayerNorm, the average over tokens and the classifier.
 */
import type {Backend} from '../../engine/backend.js'
import {meanTokens, patchify} from '../ops.js'
import type {Swinv2BlockGeometry, Swinv2Config, Swinv2StageGeometry} from './config.js'
import type {Swinv2Weights} from './weights.js'

export interface Swinv2State {
  maxBatch: number
  patches: Float32Array // (B*N0, ch*P*P)
  x: Float32Array // (B*N, C) residual stream of the current stage (sized for the largest)
  merged: Float32Array // (B*N/4, 4C) patch merging's gathered input
  windows: Float32Array // (B*nW*T, C) the padded, shifted map cut into windows
  qkv: Float32Array // (B*nW*T, 3C)
  attn: Float32Array // (B*nW*T, C)
  proj: Float32Array // (B*nW*T, C) attention output projection, then its LayerNorm
  projNorm: Float32Array // (B*nW*T, C)
  mlp: Float32Array // (B*N, hidden)
  mlpOut: Float32Array // (B*N, C)
  mlpNorm: Float32Array // (B*N, C)
  pooled: Float32Array // (B, C_last)
  logits: Float32Array // (B, numLabels)
  /** Per window geometry (windowKey): the map row of each window token of maxBatch images, -1 for padding. */
  windowRows: Map<string, Int32Array>
  /** Per stage but the last: the map row of each quarter of each merged token of maxBatch images, -1 past an odd edge. */
  mergeRows: Int32Array[]
}

/** The index tables' key of a block's window geometry (blocks of a stage share it two by two). */
function windowKey(g: Swinv2BlockGeometry): string {
  return `${g.windowSize} ${g.shift} ${g.height} ${g.width}`
}

/** `src` (rows of one image's map, -1 for none) for B images of N map rows each, in the backend's memory. */
function batchRows(backend: Backend, src: Int32Array, B: number, N: number): Int32Array {
  const rows = backend.allocIndex(B * src.length)
  for (let b = 0; b < B; b++) for (let k = 0; k < src.length; k++) rows[b * src.length + k] = src[k] < 0 ? -1 : b * N + src[k]
  return rows
}

export function createSwinv2State(config: Swinv2Config, stages: Swinv2StageGeometry[], backend: Backend, maxBatch: number): Swinv2State {
  const B = maxBatch
  const P = config.patchSize
  const s0 = stages[0]
  let tokens = 0 // max over stages of N * C (and merged / window buffers)
  let windowed = 0
  let hidden = 0
  let merged = 0
  for (const [i, st] of stages.entries()) {
    tokens = Math.max(tokens, st.height * st.width * st.dim)
    hidden = Math.max(hidden, st.height * st.width * st.hidden)
    for (const g of st.blocks) windowed = Math.max(windowed, g.padHeight * g.padWidth * st.dim)
    if (i < stages.length - 1) {
      const n = Math.ceil(st.height / 2) * Math.ceil(st.width / 2)
      merged = Math.max(merged, n * 4 * st.dim)
      tokens = Math.max(tokens, n * 2 * st.dim)
    }
  }
  const CL = stages[stages.length - 1].dim
  const windowRows = new Map<string, Int32Array>()
  for (const st of stages) {
    for (const g of st.blocks) if (!windowRows.has(windowKey(g))) windowRows.set(windowKey(g), batchRows(backend, windowSources(g), B, st.height * st.width))
  }
  const mergeRows = stages.slice(0, -1).map((st) => batchRows(backend, mergeSources(st.height, st.width), B, st.height * st.width))
  return {
    windowRows,
    mergeRows,
    maxBatch,
    patches: backend.alloc(B * s0.height * s0.width * config.numChannels * P * P),
    x: backend.alloc(B * tokens),
    merged: backend.alloc(B * merged),
    windows: backend.alloc(B * windowed),
    qkv: backend.alloc(B * windowed * 3),
    attn: backend.alloc(B * windowed),
    proj: backend.alloc(B * windowed),
    projNorm: backend.alloc(B * windowed),
    mlp: backend.alloc(B * hidden),
    mlpOut: backend.alloc(B * tokens),
    mlpNorm: backend.alloc(B * tokens),
    pooled: backend.alloc(B * CL),
    logits: backend.alloc(B * config.numLabels),
  }
}

/**
 * For each window token, the map position it holds, or -1 for padding: windows image-major, then row-major over the
 * padded Hp x Wp map, tokens row-major in the window; the map is rolled by -shift first (torch.roll), so window
 * position p holds map position (p + shift) mod Hp|Wp.
 */
export function windowSources(g: Swinv2BlockGeometry): Int32Array {
  const {windowSize: ws, shift, height: H, width: W, padHeight: Hp, padWidth: Wp} = g
  const nWw = Wp / ws
  const T = ws * ws
  const src = new Int32Array(g.numWindows * T)
  for (let w = 0; w < g.numWindows; w++) {
    for (let t = 0; t < T; t++) {
      const y = ((Math.floor(w / nWw) * ws + Math.floor(t / ws) + shift) % Hp)
      const x = (((w % nWw) * ws + (t % ws) + shift) % Wp)
      src[w * T + t] = y < H && x < W ? y * W + x : -1
    }
  }
  return src
}

/**
 * For each quarter of each token of the merged (ceil(H/2) x ceil(W/2)) map, the H x W map position it takes, or -1
 * past an odd edge (zero padding): quarters in the order x[2i, 2j], x[2i+1, 2j], x[2i, 2j+1], x[2i+1, 2j+1], as
 * Swinv2PatchMerging concatenates them.
 */
export function mergeSources(H: number, W: number): Int32Array {
  const H2 = Math.ceil(H / 2)
  const W2 = Math.ceil(W / 2)
  const parts: Array<[number, number]> = [[0, 0], [1, 0], [0, 1], [1, 1]]
  const src = new Int32Array(H2 * W2 * 4)
  for (let i = 0; i < H2; i++) {
    for (let j = 0; j < W2; j++) {
      parts.forEach(([dy, dx], q) => {
        const y = 2 * i + dy
        const x = 2 * j + dx
        src[(i * W2 + j) * 4 + q] = y < H && x < W ? y * W + x : -1
      })
    }
  }
  return src
}

/** nn.LayerNorm's default eps, which the embedding and patch-merging norms use (not config.layer_norm_eps). */
const TORCH_LN_EPS = 1e-5

/** logits[B, numLabels] for pixels[B, ch, inputHeight, inputWidth]; returns a view of state.logits. */
export function swinv2Forward(
  backend: Backend,
  config: Swinv2Config,
  input: {height: number; width: number},
  weights: Swinv2Weights,
  state: Swinv2State,
  pixels: Float32Array,
  B: number,
): Float32Array {
  if (B > state.maxBatch) throw new Error(`internal: batch ${B} is over the state's maxBatch ${state.maxBatch}`)
  const s = state
  const eps = config.layerNormEps
  const P = config.patchSize
  const first = weights.stages[0].geometry
  let N = first.height * first.width
  patchify(s.patches, pixels, B, config.numChannels, input.height, input.width, P, P, first.height, first.width)
  backend.linear(s.mlpOut, s.patches, weights.patchEmbed, B * N, 'none')
  backend.layerNorm(s.x, s.mlpOut, weights.embedNormGamma, weights.embedNormBeta, B * N, first.dim, TORCH_LN_EPS)

  for (const [si, stage] of weights.stages.entries()) {
    const {dim: C, heads: NH, height: H, width: W} = stage.geometry
    N = H * W
    for (const block of stage.blocks) {
      const g = block.geometry
      const windowRows = s.windowRows.get(windowKey(g))
      if (!windowRows) throw new Error(`internal: the state has no window table for ${windowKey(g)}`)
      const T = g.windowSize * g.windowSize
      const BW = B * g.numWindows
      const rows = BW * T
      // x = x + layernorm_before(attention(windows of x))
      backend.gatherRows(s.windows, s.x, windowRows, rows, C)
      backend.linear(s.qkv, s.windows, block.qkv, rows, 'none')
      backend.biasedAttention(s.attn, s.qkv, block.bias, block.nBias, 1, block.headScale, BW, T, C, NH)
      backend.linear(s.proj, s.attn, block.attnOut, rows, 'none')
      backend.layerNorm(s.projNorm, s.proj, block.lnBeforeGamma, block.lnBeforeBeta, rows, C, eps)
      backend.scatterAddRows(s.x, s.projNorm, windowRows, rows, C)
      // x = x + layernorm_after(mlp(x))
      backend.linear(s.mlp, s.x, block.fc1, B * N, 'gelu')
      backend.linear(s.mlpOut, s.mlp, block.fc2, B * N, 'none')
      backend.layerNorm(s.mlpNorm, s.mlpOut, block.lnAfterGamma, block.lnAfterBeta, B * N, C, eps)
      backend.addInto(s.x, s.mlpNorm, B * N * C)
    }
    if (stage.merge) {
      const N2 = Math.ceil(H / 2) * Math.ceil(W / 2)
      backend.gatherRows(s.merged, s.x, s.mergeRows[si], B * N2 * 4, C)
      backend.linear(s.mlpOut, s.merged, stage.merge.reduction, B * N2, 'none')
      backend.layerNorm(s.x, s.mlpOut, stage.merge.normGamma, stage.merge.normBeta, B * N2, 2 * C, TORCH_LN_EPS)
    }
  }

  const last = weights.stages[weights.stages.length - 1].geometry
  const CL = last.dim
  N = last.height * last.width
  backend.layerNorm(s.mlpNorm, s.x, weights.lnfGamma, weights.lnfBeta, B * N, CL, eps)
  meanTokens(s.pooled, s.mlpNorm, B, N, 0, CL)
  backend.linear(s.logits, s.pooled, weights.classifier, B, 'none')
  return s.logits.subarray(0, B * config.numLabels)
}
