// The WebAssembly attention-with-bias kernel (assembly/attention-bias.ts) against the naive reference
// (src/engine/kernels/attention-bias.ts) on odd shapes: one-token and one-image batches, sequence lengths that are not
// multiples of 4 or 16 (SwinV2 windows of 7x7 and 12x12, BEiT's 197), head sizes of 3 and 32, bias per batch item
// (SwinV2's windows) and shared, with and without cosine similarity; 1 and 3 threads, both SIMD variants.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {seededRandom} from '../../../src/core/random.js'
import {biasedAttentionNaive, biasedAttentionScratch} from '../../../src/engine/kernels/attention-bias.js'
import {type SimdVariant, type WasmBackend, createWasmBackend, wasmVariantSupported} from '../../../src/engine/wasm/index.js'
import {checkTensor} from '../../helpers/check-tensor.js'

function randomArray(n: number, rnd: () => number, scale = 1): Float32Array {
  return Float32Array.from({length: n}, () => (rnd() * 2 - 1) * scale)
}

// [B, T, C, NH, nBias, cosine]
const SHAPES: Array<[number, number, number, number, number, boolean]> = [
  [1, 1, 3, 1, 1, false],
  [1, 5, 6, 2, 0, false],
  [2, 17, 12, 4, 1, false],
  [1, 197, 48, 3, 1, false],
  [3, 49, 64, 2, 3, true],
  [4, 16, 32, 2, 2, true],
  [1, 144, 96, 3, 1, true],
  [2, 7, 9, 3, 0, true],
]

const variants: SimdVariant[] = (['simd', 'relaxed'] as const).filter((v) => wasmVariantSupported(v))

for (const variant of variants) {
  for (const threads of [1, 3]) {
    describe(`attentionBias (${variant}, ${threads} thread${threads > 1 ? 's' : ''})`, () => {
      let backend: WasmBackend
      beforeAll(async () => {
        backend = await createWasmBackend({threads, variant})
      })
      afterAll(() => backend.dispose())

      for (const [B, T, C, NH, nBias, cosine] of SHAPES) {
        it(`B ${B}, T ${T}, C ${C}, ${NH} heads, ${nBias ? `${nBias} bias block(s)` : 'no bias'}${cosine ? ', cosine' : ''}`, () => {
          const rnd = seededRandom(B * 1000 + T * 10 + C)
          const qkv = randomArray(B * T * 3 * C, rnd, 2)
          // Masked entries as SwinV2 makes them (-100, added twice) next to ordinary biases.
          const bias = nBias ? randomArray(nBias * NH * T * T, rnd, 3).map((x, i) => (i % 7 === 3 ? x - 200 : x)) : null
          const headScale = cosine ? Float32Array.from({length: NH}, (_, h) => Math.exp(Math.min(Math.log(10) + h, Math.log(100)))) : null
          const scale = 1 / Math.sqrt(C / NH)
          const want = new Float32Array(B * T * C)
          biasedAttentionNaive(want, qkv, bias, Math.max(nBias, 1), scale, headScale, biasedAttentionScratch(T, C / NH), B, T, C, NH)
          // inputs both in the backend's memory and outside it (staged)
          const got = backend.alloc(B * T * C)
          const qkvIn = backend.alloc(qkv.length)
          qkvIn.set(qkv)
          backend.biasedAttention(got, qkvIn, bias, Math.max(nBias, 1), scale, headScale, B, T, C, NH)
          checkTensor(got, want, `attentionBias ${B}x${T}x${C}/${NH}`, 2e-5)
          const outside = new Float32Array(B * T * C)
          backend.biasedAttention(outside, qkv, bias, Math.max(nBias, 1), scale, headScale, B, T, C, NH)
          expect(outside).toEqual(got)
        })
      }
    })
  }
}
