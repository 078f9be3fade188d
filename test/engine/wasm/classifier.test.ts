// The whole ViT forward pass on the WebAssembly backend against the PyTorch fixtures (test/fixtures/vit-*): the
// same 1e-4 bar as the TypeScript backend's tests in test/engine/classifier.test.ts, for both SIMD variants and 1 and 2
// threads. The fixtures' odd geometries (hidden 48 and 32, head sizes 16 and 8, 10-label classifier, 197 and 65
// tokens) exercise the kernels' narrow-panel and tail paths inside a real model.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {loadModel} from '../../../src/engine/classifier.js'
import {createWasmBackend, type SimdVariant, wasmVariantSupported} from '../../../src/engine/wasm/index.js'
import {checkTensor} from '../../helpers/check-tensor.js'
import {FIXTURES, LOGITS_TOL, checkFixtureImages, readExpected, readF32} from '../fixtures.js'

const variants: SimdVariant[] = (['simd', 'relaxed'] as const).filter((v) => wasmVariantSupported(v))
const runs = variants.flatMap((variant) => [1, 2].map((threads) => ({variant, threads})))

describe.each(['vit-tiny', 'vit-geom'])('%s on the wasm backend', (name) => {
  const dir = join(FIXTURES, name)
  const expected = readExpected(dir)

  it.each(runs)('gives the PyTorch logits of inputs.f32 and of every fixture image within 1e-4 ($variant, $threads threads)', async ({variant, threads}) => {
    const backend = await createWasmBackend({variant, threads})
    try {
      const B = expected.inputs.shape[0]
      const model = await loadModel(dir, {maxBatch: B, backend})
      expect(model.backend.name).toBe(backend.name)
      checkTensor(model.forward(readF32(join(dir, expected.inputs.file)), B), expected.inputs.logits.flat(), `${name} inputs.f32 batch ${B}`, LOGITS_TOL)
      checkFixtureImages(model, dir, name)
      model.dispose()
    } finally {
      backend.dispose()
    }
  })
})
