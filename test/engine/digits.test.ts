import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {classify, loadModel} from '../../src/engine/classifier.js'
import {preprocessImage} from '../../src/image/index.js'
import {checkTensor} from '../helpers/check-tensor.js'
import {EXAMPLES, FIXTURES} from './fixtures.js'

interface DigitExpected {
  image: string
  true_label: string
  logits: number[]
  top: Array<{label: string; score: number}>
}

// The trained example model, end to end: PNG bytes -> vitrine's PIL-exact preprocessing -> the engine, against
// PyTorch's logits for the same files (test/fixtures/vit-digits/expected.json).
describe('examples/models/vit-digits on its 20 sample digits', () => {
  it('gives PyTorch logits within 1e-4, the same top-3, and gets all 20 right (in batches of 8)', async () => {
    const expected = JSON.parse(await readFile(join(FIXTURES, 'vit-digits', 'expected.json'), 'utf8')) as {images: DigitExpected[]}
    expect(expected.images).toHaveLength(20)
    const model = await loadModel(join(EXAMPLES, 'models', 'vit-digits'), {maxBatch: 8})
    const {numChannels: ch, imageHeight: H, imageWidth: W} = model.config
    const pixels = new Float32Array(20 * ch * H * W)
    for (const [i, img] of expected.images.entries()) {
      const file = join(EXAMPLES, 'images', 'digits', img.image)
      await preprocessImage(await readFile(file), model.preprocessor, file, {out: pixels, offset: i * ch * H * W})
    }
    const results = classify(model, pixels, 20, 3)
    for (const [i, img] of expected.images.entries()) {
      const {logits, top} = results[i]
      checkTensor(logits, img.logits, `${img.image} logits`, 1e-4)
      expect(top.map((p) => p.label), img.image).toEqual(img.top.map((p) => p.label))
      checkTensor(top.map((p) => p.score), img.top.map((p) => p.score), `${img.image} top-3 scores`, 1e-5)
      expect(top[0].label, img.image).toBe(img.true_label)
    }
    model.dispose()
  })
})
