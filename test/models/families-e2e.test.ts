/**
 * BEiT, SwinV2 and DINOv2 through the engine's loader, as `score`, `serve`, `batch` and `evaluate` load them: from the
 * Hugging Face fixture folder and from what `vitrine package` makes of it, on both backends, against PyTorch's logits
 * (inputs.f32 batched, every fixture image's pixel values, and the image files through vitrine's preprocessing).
 * DINOv2 follows the transformers version MLmodel names: 4.44.2 there switches to the fixture's 4.44 logits.
 */
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {loadModel} from '../../src/engine/classifier.js'
import {preprocessImage} from '../../src/image/index.js'
import {packageModel} from '../../src/package/package.js'
import {checkTensor} from '../helpers/check-tensor.js'
import {checkFamilyFixture} from './family-fixtures.js'
import {FIXTURES} from '../engine/fixtures.js'

const work = mkdtempSync(join(tmpdir(), 'vitrine-families-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

describe.each(['beit-tiny', 'swinv2-tiny', 'dinov2-tiny'])('%s through loadModel', (name) => {
  const dir = join(FIXTURES, name)

  it.each(['ts', 'wasm'] as const)('from the Hugging Face folder on the %s backend: logits within 1e-4, from pixel values and from the image files', async (which) => {
    const {selectBackend} = await import('../../src/engine/wasm/index.js')
    const backend = await selectBackend({prefer: which, threads: 2})
    const model = await loadModel(dir, {backend, maxBatch: 2})
    try {
      const max = checkFamilyFixture(name, (px, B) => model.forward(px, B))
      console.log(`${name} ${backend.name} from the folder: max abs logit diff ${max.toExponential(2)}`)
      const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {images: Array<{image: string; logits?: number[]; error?: string}>}
      for (const img of expected.images) {
        const file = join(FIXTURES, 'images', img.image)
        const px = preprocessImage(readFileSync(file), model.preprocessor, file, {onWarning: () => {}})
        if (img.error) await expect(px, img.image).rejects.toThrow()
        else checkTensor(model.forward(await px, 1), img.logits!, `${name} ${img.image} from the file`, 1e-4)
      }
    } finally {
      backend.dispose()
    }
  })

  it('from a `vitrine package` output (wasm backend)', async () => {
    const out = join(work, name)
    await packageModel(dir, out)
    const model = await loadModel(out, {maxBatch: 2})
    try {
      const max = checkFamilyFixture(name, (px, B) => model.forward(px, B))
      console.log(`${name} ${model.backend.name} from the package: max abs logit diff ${max.toExponential(2)}`)
      const mlmodel = readFileSync(join(out, 'mlflow_model_folder', 'MLmodel'), 'utf8')
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {architectures: string[]}
      expect(mlmodel).toContain(`pipeline_model_type: ${config.architectures[0]}`)
    } finally {
      model.dispose()
    }
  }, 60_000)
})

describe('DINOv2 served by transformers 4.44 (MLmodel says so)', () => {
  it('interpolates its positions as 4.44 did, matching expected.transformers-4.44.json', async () => {
    const out = join(work, 'dinov2-444')
    cpSync(join(FIXTURES, 'dinov2-tiny'), join(work, 'dinov2-src'), {recursive: true})
    await packageModel(join(work, 'dinov2-src'), out)
    const mlmodel = join(out, 'mlflow_model_folder', 'MLmodel')
    writeFileSync(mlmodel, readFileSync(mlmodel, 'utf8').replace(/transformers_version: .*/, 'transformers_version: 4.44.2'))
    const model = await loadModel(out, {maxBatch: 2})
    try {
      expect(model.transformersVersion).toBe('4.44.2')
      checkFamilyFixture('dinov2-tiny', (px, B) => model.forward(px, B), 'expected.transformers-4.44.json')
    } finally {
      model.dispose()
    }
  }, 60_000)
})
