/**
 * The weights of a Dinov2ForImageClassification as named views (Hugging Face names), with what is computed once at
 * load: query, key and value fused into one [3C, C] linear, layer_scale1 / layer_scale2 folded into the attention output
 * and fc2 linears, and the position embeddings resampled to the grid of the images the processor produces, the way the
 * transformers version that serves the model does it (see `interpolatePositions`).
 */
import {InvalidInputError} from '../../core/errors.js'
import type {Backend, Linear} from '../../engine/backend.js'
import {bicubicResize} from '../ops.js'
import {type EncoderLayerWeights, prepareEncoderLayer} from '../encoder.js'
import type {Dinov2Config} from './config.js'
import type {Dinov2Parameters} from './tensors.js'


export interface Dinov2Weights {
  patchEmbed: Linear // (C, ch*PH*PW)
  clsToken: Float32Array // (C)
  /** (1 + GH*GW, C): [CLS]'s position, then the (interpolated) patch positions of the input grid. */
  posEmbed: Float32Array
  layers: EncoderLayerWeights[]
  lnfGamma: Float32Array // (C) dinov2.layernorm
  lnfBeta: Float32Array
  classifier: Linear // (numLabels, 2C) on concat([CLS], mean of patch tokens)
  numParameters: number
}

/** The input grid the weights are prepared for (floor(input / patch) per side). */
export interface Dinov2Input {
  gridHeight: number
  gridWidth: number
  /** The transformers version that will serve the model (decides the interpolation); undefined = the current code. */
  transformersVersion: string | undefined
}

/** Whether `version` is a transformers release before 4.45 (the scale_factor interpolation). */
export function interpolatesByScaleFactor(version: string | undefined): boolean {
  if (version === undefined) return false
  const m = /^(\d+)\.(\d+)/.exec(version)
  if (!m) return false
  const [major, minor] = [Number(m[1]), Number(m[2])]
  return major < 4 || (major === 4 && minor < 45)
}

/**
 * Dinov2Embeddings.interpolate_pos_encoding: out[(1 + GH*GW), C] from pos[(1 + N), C] whose N patch positions form a
 * sqrt(N) x sqrt(N) grid. Unchanged when the grid is the trained one and square; otherwise bicubic
 * (align_corners=False, no antialias), in one of two forms:
 * - transformers >= 4.45: `size=(GH, GW)`, so the source step is sqrt(N) / GH;
 * - transformers <= 4.44: `scale_factor=((GH + 0.1) / sqrt(N), (GW + 0.1) / sqrt(N))`, so the step is
 *   float32(1 / scale) — not the same coordinates (what the catalog's DINOv2, packaged with 4.44.2, runs).
 */
export function interpolatePositions(out: Float32Array, pos: Float32Array, N: number, C: number, GH: number, GW: number, byScaleFactor: boolean, file: string): void {
  const r = positionResampling(N, GH, GW, byScaleFactor, file)
  if (!r) {
    out.set(pos.subarray(0, (N + 1) * C))
    return
  }
  out.set(pos.subarray(0, C))
  bicubicResize(out.subarray(C), pos.subarray(C, (N + 1) * C), C, r.S, r.S, GH, GW, r.ratioH, r.ratioW)
}

/** How interpolatePositions maps the S x S trained grid (N = S^2) onto GH x GW: null when it copies it unchanged. */
export interface PositionResampling {
  S: number
  ratioH: number
  ratioW: number
}

/** The resampling of interpolatePositions (see there); errors name `file`. */
export function positionResampling(N: number, GH: number, GW: number, byScaleFactor: boolean, file: string): PositionResampling | null {
  if (GH * GW === N && GH === GW) return null
  const S = Math.floor(Math.sqrt(N))
  if (S * S !== N) throw new InvalidInputError(`${file}: position_embeddings hold ${N} patch positions, not a square grid: cannot interpolate them to ${GH}x${GW}`, {file})
  if (byScaleFactor) {
    const sh = (GH + 0.1) / Math.sqrt(N)
    const sw = (GW + 0.1) / Math.sqrt(N)
    if (Math.floor(S * sh) !== GH || Math.floor(S * sw) !== GW) {
      throw new InvalidInputError(`${file}: transformers <= 4.44 cannot interpolate the ${S}x${S} position grid to ${GH}x${GW} ("Width or height does not match")`, {file})
    }
    return {S, ratioH: Math.fround(1 / sh), ratioW: Math.fround(1 / sw)}
  }
  return {S, ratioH: Math.fround(S / GH), ratioW: Math.fround(S / GW)}
}

/**
 * The weights the forward pass runs, from parameters whose views are filled: layer scales folded, positions
 * interpolated to the input grid, linears prepared. `file` is named in errors.
 */
export function prepareDinov2Weights(p: Dinov2Parameters, config: Dinov2Config, input: Dinov2Input, backend: Backend, file: string): Dinov2Weights {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW, numPositions: N, numLabels} = config
  const {plan, patchWeight, patchBias, clsToken, trainedPos, raw, lnfGamma, lnfBeta, classifierWeight, classifierBias} = p

  const {gridHeight: GH, gridWidth: GW} = input
  const posEmbed = backend.alloc((1 + GH * GW) * C)
  interpolatePositions(posEmbed, trainedPos, N, C, GH, GW, interpolatesByScaleFactor(input.transformersVersion), file)
  const layers = raw.map((r) => prepareEncoderLayer(backend, r, null, C, I))
  return {
    patchEmbed: backend.prepareLinear(patchWeight, patchBias, C, ch * PH * PW),
    clsToken,
    posEmbed,
    layers,
    lnfGamma,
    lnfBeta,
    classifier: backend.prepareLinear(classifierWeight, classifierBias, numLabels, 2 * C),
    numParameters: plan.numParameters,
  }
}
