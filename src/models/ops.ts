/**
 * Data-movement steps the model families share, as plain loops over Float32Array views (any backend's memory): patch
 * extraction, residual adds, token means, and PyTorch's bicubic resampling of a position grid (and its adjoint, for
 * training). They are O(tokens x
 * channels), against the linears' O(tokens x channels^2), so they stay in TypeScript on every backend.
 */

// patches[B*GH*GW, ch*PH*PW] = the pixels of each patch, in the order of the conv weight [C, ch, PH, PW], patches
// row-major over the GH x GW grid (Conv2d(stride = patch) then flatten(2)). Pixels past the image's right or bottom
// edge read as zero (SwinV2 pads the image to whole patches); a grid of floor(H / PH) simply never reads them.
export function patchify(
  patches: Float32Array,
  pixels: Float32Array,
  B: number,
  ch: number,
  H: number,
  W: number,
  PH: number,
  PW: number,
  GH: number,
  GW: number,
): void {
  let o = 0
  for (let b = 0; b < B; b++) {
    for (let gy = 0; gy < GH; gy++) {
      for (let gx = 0; gx < GW; gx++) {
        for (let c = 0; c < ch; c++) {
          for (let ky = 0; ky < PH; ky++) {
            const y = gy * PH + ky
            const x0 = gx * PW
            const inside = y < H ? Math.max(0, Math.min(PW, W - x0)) : 0
            const src = ((b * ch + c) * H + y) * W + x0
            if (inside > 0) patches.set(pixels.subarray(src, src + inside), o)
            if (inside < PW) patches.fill(0, o + inside, o + PW)
            o += PW
          }
        }
      }
    }
  }
}

// out[b, :] = mean over tokens t in [from, T) of x[b, t, :], summed in float64
export function meanTokens(out: Float32Array, x: Float32Array, B: number, T: number, from: number, C: number, outStride = C): void {
  const acc = new Float64Array(C)
  for (let b = 0; b < B; b++) {
    acc.fill(0)
    for (let t = from; t < T; t++) {
      const row = (b * T + t) * C
      for (let c = 0; c < C; c++) acc[c] += x[row + c]
    }
    const n = T - from
    for (let c = 0; c < C; c++) out[b * outStride + c] = acc[c] / n
  }
}

/** PyTorch's cubic convolution weights (A = -0.75) for the 4 taps around a fractional offset t. */
function cubicWeights(t: number): [number, number, number, number] {
  const A = -0.75
  const c1 = (x: number): number => ((A + 2) * x - (A + 3)) * x * x + 1
  const c2 = (x: number): number => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
  return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]
}

/** Per output index along one axis: the 4 source indices (clamped to the edge) and their weights. */
function cubicTaps(inSize: number, outSize: number, ratio: number): Array<{idx: number[]; w: number[]}> {
  return Array.from({length: outSize}, (_, o) => {
    // area_pixel_compute_source_index (cubic: no clamp at 0), in float as PyTorch's opmath is for float tensors
    const real = Math.fround(Math.fround(ratio * (o + 0.5)) - 0.5)
    const i0 = Math.min(Math.floor(real), inSize - 1)
    const t = Math.min(Math.max(Math.fround(real - i0), 0), 1)
    return {idx: [-1, 0, 1, 2].map((d) => Math.max(0, Math.min(inSize - 1, i0 + d))), w: cubicWeights(t)}
  })
}

/**
 * torch.nn.functional.interpolate(mode='bicubic', align_corners=False) of a channels-last grid inp[IH, IW, C] to
 * out[OH, OW, C]. `ratioH` / `ratioW` map output to input coordinates: IH / OH when PyTorch is given a size, float32
 * (1 / scale_factor) when given a scale factor.
 */
export function bicubicResize(out: Float32Array, inp: Float32Array, C: number, IH: number, IW: number, OH: number, OW: number, ratioH: number, ratioW: number): void {
  const ty = cubicTaps(IH, OH, ratioH)
  const tx = cubicTaps(IW, OW, ratioW)
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      for (let c = 0; c < C; c++) {
        let acc = 0
        for (let j = 0; j < 4; j++) {
          let row = 0
          for (let i = 0; i < 4; i++) row += tx[ox].w[i] * inp[(ty[oy].idx[j] * IW + tx[ox].idx[i]) * C + c]
          acc += ty[oy].w[j] * row
        }
        out[(oy * OW + ox) * C + c] = acc
      }
    }
  }
}

// dinp[IH, IW, C] += the gradient of bicubicResize (its adjoint: each output's gradient spread back over its 16 taps,
// with the same weights) from dout[OH, OW, C]; the training of resampled position embeddings (DINOv2)
export function bicubicResizeBackward(dinp: Float32Array, dout: Float32Array, C: number, IH: number, IW: number, OH: number, OW: number, ratioH: number, ratioW: number): void {
  const ty = cubicTaps(IH, OH, ratioH)
  const tx = cubicTaps(IW, OW, ratioW)
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      for (let c = 0; c < C; c++) {
        const d = dout[(oy * OW + ox) * C + c]
        for (let j = 0; j < 4; j++) {
          const dy = ty[oy].w[j] * d
          for (let i = 0; i < 4; i++) dinp[(ty[oy].idx[j] * IW + tx[ox].idx[i]) * C + c] += tx[ox].w[i] * dy
        }
      }
    }
  }
}
