/**
 * The backward kernels BEiT and DINOv2 add to the ViT's, against central finite differences on odd shapes (nothing a
 * multiple of 4; heads of 2 and 3), and each forward against its naive twin: attention with an additive bias (BEiT's
 * relative position bias) with d qkv and d bias; the layer scale on a residual branch; the mean of the patch tokens;
 * the bicubic resampling of the position grid (DINOv2); BEiT's bias-table gather and its scatter.
 */
import {describe, expect, it} from 'vitest'

import {seededRandom} from '../../../src/core/random.js'
import {biasedAttentionNaive, biasedAttentionScratch} from '../../../src/engine/kernels/attention-bias.js'
import {
  attentionForward,
  biasedAttentionBackward,
  biasedAttentionForward,
  layerScaleBackward,
  layerScaleForward,
  meanTokensBackward,
} from '../../../src/engine/kernels/backward.js'
import {createTsTrainKernels} from '../../../src/engine/train/kernels.js'
import {scatterBiasGrad} from '../../../src/models/beit/train.js'
import {beitRelativeBias, beitRelativePositionIndex} from '../../../src/models/beit/weights.js'
import {bicubicResize, bicubicResizeBackward, meanTokens} from '../../../src/models/ops.js'
import {checkGradient, dot, randomArray} from './finite-diff.js'

describe('encoder backward kernels vs finite differences (odd shapes)', () => {
  it('biased attention: d qkv and d bias (B 2, T 5, C 6, 3 heads)', () => {
    const rand = seededRandom(41)
    const [B, T, C, NH] = [2, 5, 6, 3]
    const qkv = randomArray(B * T * 3 * C, rand)
    const bias = randomArray(NH * T * T, rand, 2)
    const R = randomArray(B * T * C, rand)
    const out = new Float32Array(B * T * C)
    const att = new Float32Array(B * NH * T * T)
    const L = (): number => {
      biasedAttentionForward(out, att, qkv, bias, B, T, C, NH)
      return dot(out, R)
    }
    L()
    const dqkv = new Float32Array(qkv.length)
    const dbias = new Float32Array(bias.length)
    biasedAttentionBackward(dqkv, dbias, new Float64Array(T), R, qkv, att, B, T, C, NH)
    checkGradient('dqkv', qkv, dqkv, L)
    checkGradient('dbias', bias, dbias, L)
  })

  it('the TrainKernels biased attention equals the inference reference and, with a zero bias, plain attention', () => {
    const rand = seededRandom(42)
    const k = createTsTrainKernels()
    for (const [B, T, C, NH] of [
      [1, 1, 2, 1],
      [2, 7, 9, 3],
      [3, 10, 10, 2],
    ]) {
      const qkv = randomArray(B * T * 3 * C, rand, 2)
      const bias = randomArray(NH * T * T, rand, 3)
      const out = new Float32Array(B * T * C)
      k.biasedAttention(out, new Float32Array(B * NH * T * T), qkv, bias, B, T, C, NH)
      const want = new Float32Array(B * T * C)
      biasedAttentionNaive(want, qkv, bias, 1, 1 / Math.sqrt(C / NH), null, biasedAttentionScratch(T, C / NH), B, T, C, NH)
      for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - want[i])).toBeLessThanOrEqual(1e-6)
      const plain = new Float32Array(B * T * C)
      attentionForward(plain, new Float32Array(B * NH * T * T), qkv, B, T, C, NH)
      k.biasedAttention(out, new Float32Array(B * NH * T * T), qkv, new Float32Array(NH * T * T), B, T, C, NH)
      expect(out).toEqual(plain)
    }
  })

  it('layer scale on a residual branch: d inp, d lambda (the residual passes dout through)', () => {
    const rand = seededRandom(43)
    const [M, C] = [5, 7]
    const residual = randomArray(M * C, rand)
    const inp = randomArray(M * C, rand)
    const lambda = randomArray(C, rand)
    const R = randomArray(M * C, rand)
    const out = new Float32Array(M * C)
    const L = (): number => {
      layerScaleForward(out, residual, inp, lambda, M, C)
      return dot(out, R)
    }
    const dinp = new Float32Array(M * C)
    const dlambda = new Float32Array(C)
    layerScaleBackward(dinp, dlambda, R, inp, lambda, M, C)
    checkGradient('dinp', inp, dinp, L)
    checkGradient('dlambda', lambda, dlambda, L)
    checkGradient('dresidual', residual, R, L)
  })

  it('mean of the patch tokens, into a strided head ([CLS] | mean)', () => {
    const rand = seededRandom(44)
    const [B, T, C] = [3, 5, 7]
    const x = randomArray(B * T * C, rand)
    const R = randomArray(B * 2 * C, rand)
    const out = new Float32Array(B * 2 * C)
    const L = (): number => {
      meanTokens(out.subarray(C), x, B, T, 1, C, 2 * C)
      return dot(out, R)
    }
    const dx = new Float32Array(B * T * C)
    meanTokensBackward(dx, R.subarray(C), B, T, 1, C, 2 * C)
    checkGradient('dx', x, dx, L)
    // [CLS] rows get nothing from the mean
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) expect(dx[b * T * C + c]).toBe(0)
  })

  it('bicubic resampling of a position grid: 3x3 -> 5x4 and 4x4 -> 3x2 (size= and scale_factor= ratios)', () => {
    const rand = seededRandom(45)
    for (const [IH, IW, OH, OW, ratioH, ratioW] of [
      [3, 3, 5, 4, 3 / 5, 3 / 4],
      [4, 4, 3, 2, Math.fround(1 / (3.1 / 4)), Math.fround(1 / (2.1 / 4))],
    ]) {
      const C = 3
      const inp = randomArray(IH * IW * C, rand)
      const R = randomArray(OH * OW * C, rand)
      const out = new Float32Array(OH * OW * C)
      const L = (): number => {
        bicubicResize(out, inp, C, IH, IW, OH, OW, ratioH, ratioW)
        return dot(out, R)
      }
      const dinp = new Float32Array(IH * IW * C)
      bicubicResizeBackward(dinp, R, C, IH, IW, OH, OW, ratioH, ratioW)
      checkGradient('dinp', inp, dinp, L)
    }
  })

  it("BEiT's relative bias: gather (as inference expands it) and the scatter of its gradient are adjoint", () => {
    const rand = seededRandom(46)
    const [Wh, Ww, NH] = [2, 3, 2]
    const T = Wh * Ww + 1
    const table = randomArray(((2 * Wh - 1) * (2 * Ww - 1) + 3) * NH, rand)
    const R = randomArray(NH * T * T, rand)
    const bias = new Float32Array(NH * T * T)
    const L = (): number => {
      beitRelativeBias(bias, table, NH, Wh, Ww)
      return dot(bias, R)
    }
    const dtable = new Float32Array(table.length)
    scatterBiasGrad(dtable, R, beitRelativePositionIndex(Wh, Ww), NH)
    checkGradient('dtable', table, dtable, L)
  })
})
