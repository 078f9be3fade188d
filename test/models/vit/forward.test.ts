import {describe, expect, it} from 'vitest'

import {parseVitConfig} from '../../../src/models/vit/config.js'
import {matmulNaive} from '../../../src/engine/kernels/reference.js'
import {im2col} from '../../../src/models/vit/forward.js'
import {checkTensor} from '../../helpers/check-tensor.js'

/** nn.Conv2d(ch, C, kernel=(PH, PW), stride=(PH, PW)) written as its definition, for the patch embedding's check. */
function convNaive(pixels: Float32Array, weight: Float32Array, bias: Float32Array, B: number, ch: number, H: number, W: number, C: number, PH: number, PW: number): Float32Array {
  const GH = Math.floor(H / PH)
  const GW = Math.floor(W / PW)
  const out = new Float32Array(B * GH * GW * C) // [B, GH*GW, C], as flatten(2).transpose(1, 2) gives
  for (let b = 0; b < B; b++)
    for (let gy = 0; gy < GH; gy++)
      for (let gx = 0; gx < GW; gx++)
        for (let o = 0; o < C; o++) {
          let acc = bias[o]
          for (let c = 0; c < ch; c++)
            for (let ky = 0; ky < PH; ky++)
              for (let kx = 0; kx < PW; kx++) {
                acc += pixels[((b * ch + c) * H + gy * PH + ky) * W + gx * PW + kx] * weight[((o * ch + c) * PH + ky) * PW + kx]
              }
          out[((b * GH + gy) * GW + gx) * C + o] = acc
        }
  return out
}

type Geometry = [number, [number, number], [number, number]]

describe('patch embedding as im2col + matmul', () => {
  it.each<Geometry>([
    // [channels, image HxW, patch HxW]: square, non-square, and images that are not a whole number of patches
    [3, [32, 32], [8, 8]],
    [1, [13, 10], [4, 3]],
    [2, [9, 20], [3, 5]],
  ])('equals a strided Conv2d: %i channels, image %j, patch %j', (ch, image, patch) => {
    const C = 5
    const B = 2
    const {config} = parseVitConfig({hidden_size: C, num_attention_heads: 1, num_channels: ch, image_size: image, patch_size: patch}, 'config.json')
    const [H, W] = image
    const [PH, PW] = patch
    const pixels = Float32Array.from({length: B * ch * H * W}, (_, i) => Math.sin(i * 0.37))
    const weight = Float32Array.from({length: C * ch * PH * PW}, (_, i) => Math.cos(i * 0.11))
    const bias = Float32Array.from({length: C}, (_, i) => i - 2)
    const patches = new Float32Array(B * config.numPatches * ch * PH * PW)
    im2col(patches, pixels, config, B)
    const got = new Float32Array(B * config.numPatches * C)
    matmulNaive(got, patches, weight, bias, B * config.numPatches, ch * PH * PW, C)
    checkTensor(got, convNaive(pixels, weight, bias, B, ch, H, W, C, PH, PW), `conv ${ch}x${H}x${W}/${PH}x${PW}`, 1e-5)
    expect(config.numPatches).toBe(Math.floor(H / PH) * Math.floor(W / PW))
  })
})
