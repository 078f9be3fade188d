/**
 * The weights of a Swinv2ForImageClassification as named views (Hugging Face names), with what is computed once at
 * load for the input geometry: query, key (no bias) and value fused into one linear; per block the continuous
 * position bias (its MLP run over the log-spaced relative coordinates, 16 * sigmoid) plus, on shifted blocks, the
 * window mask — added twice, as transformers adds it — as one [nBias, NH, T, T] bias; and exp(min(logit_scale, log 100)).
 */
import type {Backend, Linear} from '../../engine/backend.js'
import type {Swinv2BlockGeometry, Swinv2Config, Swinv2StageGeometry} from './config.js'
import type {Swinv2Parameters} from './tensors.js'

export interface Swinv2BlockWeights {
  geometry: Swinv2BlockGeometry
  qkv: Linear // (3C, C)
  attnOut: Linear // (C, C) attention.output.dense
  lnBeforeGamma: Float32Array // (C) layernorm_before, applied to the attention branch's output (res-post-norm)
  lnBeforeBeta: Float32Array
  fc1: Linear // (hidden, C)
  fc2: Linear // (C, hidden)
  lnAfterGamma: Float32Array // (C) layernorm_after, on the MLP branch's output
  lnAfterBeta: Float32Array
  headScale: Float32Array // (NH) exp(min(logit_scale, log 100))
  bias: Float32Array // (nBias, NH, T, T)
  nBias: number
}

export interface Swinv2StageWeights {
  geometry: Swinv2StageGeometry
  blocks: Swinv2BlockWeights[]
  /** Patch merging after the stage (all but the last): reduction (2C, 4C) without bias, then LayerNorm(2C). */
  merge: {reduction: Linear; normGamma: Float32Array; normBeta: Float32Array} | null
}

export interface Swinv2Weights {
  patchEmbed: Linear // (C0, ch*P*P)
  embedNormGamma: Float32Array // (C0) embeddings.norm
  embedNormBeta: Float32Array
  stages: Swinv2StageWeights[]
  lnfGamma: Float32Array // (C_last) swinv2.layernorm
  lnfBeta: Float32Array
  classifier: Linear // (numLabels, C_last)
  numParameters: number
}

const f32 = Math.fround

/**
 * Swinv2SelfAttention's relative_coords_table, in float32 as transformers builds it: for dy, dx in -(ws-1)..ws-1,
 * d / (pretrained_ws - 1, or ws - 1) * 8, then sign(v) * log2(|v| + 1) / log2(8). Returns [(2ws-1)^2, 2].
 */
export function relativeCoordsTable(ws: number, pretrainedWs: number): Float32Array {
  const n = 2 * ws - 1
  const out = new Float32Array(n * n * 2)
  const div = pretrainedWs > 0 ? pretrainedWs - 1 : ws > 1 ? ws - 1 : 1
  const f = (d: number): number => {
    const v = f32(f32(d / div) * 8)
    return f32(f32(Math.sign(v) * f32(Math.log2(f32(Math.abs(v) + 1)))) / 3)
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    out[(i * n + j) * 2] = f(i - (ws - 1))
    out[(i * n + j) * 2 + 1] = f(j - (ws - 1))
  }
  return out
}

/**
 * out[h, i, j] = 16 * sigmoid(cpb_mlp(coords)[index(i, j), h]) for the ws x ws tokens of a window, the MLP being
 * Linear(2, 512) + ReLU + Linear(512, NH, no bias) over relativeCoordsTable.
 */
export function continuousPositionBias(out: Float32Array, w0: Float32Array, b0: Float32Array, w2: Float32Array, NH: number, ws: number, pretrainedWs: number): void {
  const coords = relativeCoordsTable(ws, pretrainedWs)
  const n = 2 * ws - 1
  const hidden = b0.length
  const table = new Float64Array(n * n * NH)
  const h1 = new Float64Array(hidden)
  for (let r = 0; r < n * n; r++) {
    for (let k = 0; k < hidden; k++) h1[k] = Math.max(0, Math.fround(coords[r * 2] * w0[k * 2] + coords[r * 2 + 1] * w0[k * 2 + 1] + b0[k]))
    for (let h = 0; h < NH; h++) {
      let acc = 0
      for (let k = 0; k < hidden; k++) acc += w2[h * hidden + k] * h1[k]
      table[r * NH + h] = 16 / (1 + Math.exp(-acc))
    }
  }
  const T = ws * ws
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
    const r = (Math.floor(i / ws) - Math.floor(j / ws) + ws - 1) * n + ((i % ws) - (j % ws) + ws - 1)
    for (let h = 0; h < NH; h++) out[(h * T + i) * T + j] = table[r * NH + h]
  }
}

/**
 * Swinv2Layer.get_attn_mask for a padded Hp x Wp map: regions [0, Hp-ws), [Hp-ws, Hp-shift), [Hp-shift, Hp) per axis
 * numbered, mask[w, i, j] = -100 where tokens i and j of window w (of the shifted map) come from different regions.
 */
export function shiftedWindowMask(Hp: number, Wp: number, ws: number, shift: number): Float32Array {
  const region = (p: number, size: number): number => (p < size - ws ? 0 : p < size - shift ? 1 : 2)
  const nWw = Wp / ws
  const nW = (Hp / ws) * nWw
  const T = ws * ws
  const mask = new Float32Array(nW * T * T)
  for (let w = 0; w < nW; w++) {
    const ids = Array.from({length: T}, (_, t) => {
      const y = Math.floor(w / nWw) * ws + Math.floor(t / ws)
      const x = (w % nWw) * ws + (t % ws)
      return region(y, Hp) * 3 + region(x, Wp)
    })
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) mask[(w * T + i) * T + j] = ids[i] === ids[j] ? 0 : -100
  }
  return mask
}

/** How many [NH, T, T] biases a block's attention adds: one per window on a shifted block (the mask differs), else one. */
export function blockBiasCount(g: Swinv2BlockGeometry): number {
  return g.shift > 0 ? g.numWindows : 1
}

/**
 * out[blockBiasCount(g), NH, T, T]: what a block's attention adds to its scores — the continuous position bias (its
 * MLP w0, b0, w2 over the window's relative coordinates), plus on a shifted block the window mask of each window,
 * added twice as transformers adds it. It depends on the weights and the geometry only.
 */
export function swinv2BlockBias(out: Float32Array, w0: Float32Array, b0: Float32Array, w2: Float32Array, NH: number, g: Swinv2BlockGeometry, pretrainedWs: number): void {
  const T = g.windowSize * g.windowSize
  continuousPositionBias(out.subarray(0, NH * T * T), w0, b0, w2, NH, g.windowSize, pretrainedWs)
  if (g.shift === 0) return
  const mask = shiftedWindowMask(g.padHeight, g.padWidth, g.windowSize, g.shift)
  for (let w = blockBiasCount(g) - 1; w >= 0; w--) {
    for (let h = 0; h < NH; h++) {
      const dst = (w * NH + h) * T * T
      for (let k = 0; k < T * T; k++) out[dst + k] = f32(f32(out[h * T * T + k] + mask[w * T * T + k]) + mask[w * T * T + k])
    }
  }
}

/** The weights the forward pass runs, from parameters whose views are filled: biases built, linears prepared. */
export function prepareSwinv2Weights(p: Swinv2Parameters, config: Swinv2Config, backend: Backend): Swinv2Weights {
  const P = config.patchSize
  const ch = config.numChannels
  const C0 = config.embedDim
  const CL = p.raw[p.raw.length - 1].stage.dim
  const {plan, patchWeight, patchBias, embedNormGamma, embedNormBeta, raw, lnfGamma, lnfBeta, classifierWeight, classifierBias} = p

  const maxLogit = f32(Math.log(100))
  const stageWeights = raw.map(({stage, blocks, merge}, i): Swinv2StageWeights => ({
    geometry: stage,
    blocks: blocks.map((r): Swinv2BlockWeights => {
      const C = stage.dim
      const NH = stage.heads
      const g = r.geometry
      const T = g.windowSize * g.windowSize
      const nBias = blockBiasCount(g)
      const bias = backend.alloc(nBias * NH * T * T)
      swinv2BlockBias(bias, r.cpbW0, r.cpbB0, r.cpbW2, NH, g, config.pretrainedWindowSizes[i])
      const headScale = backend.alloc(NH)
      for (let h = 0; h < NH; h++) headScale[h] = f32(Math.exp(Math.min(r.logitScale[h], maxLogit)))
      return {
        geometry: g,
        qkv: backend.prepareLinear(r.qkvWeight, r.qkvBias, 3 * C, C),
        attnOut: backend.prepareLinear(r.outWeight, r.outBias, C, C),
        lnBeforeGamma: r.lnBeforeGamma,
        lnBeforeBeta: r.lnBeforeBeta,
        fc1: backend.prepareLinear(r.fc1Weight, r.fc1Bias, stage.hidden, C),
        fc2: backend.prepareLinear(r.fc2Weight, r.fc2Bias, C, stage.hidden),
        lnAfterGamma: r.lnAfterGamma,
        lnAfterBeta: r.lnAfterBeta,
        headScale,
        bias,
        nBias,
      }
    }),
    merge: merge && {
      reduction: backend.prepareLinear(merge.reduction, null, 2 * stage.dim, 4 * stage.dim),
      normGamma: merge.normGamma,
      normBeta: merge.normBeta,
    },
  }))
  return {
    patchEmbed: backend.prepareLinear(patchWeight, patchBias, C0, ch * P * P),
    embedNormGamma,
    embedNormBeta,
    stages: stageWeights,
    lnfGamma,
    lnfBeta,
    classifier: backend.prepareLinear(classifierWeight, classifierBias, config.numLabels, CL),
    numParameters: plan.numParameters,
  }
}
