import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {InvalidInputError} from '../../src/core/errors.js'
import {loadModel, softmax, topK} from '../../src/engine/classifier.js'
import {preprocessImage} from '../../src/image/index.js'
import {checkTensor} from '../helpers/check-tensor.js'
import {FIXTURES, readExpected} from './fixtures.js'

// End to end from the image files of test/fixtures/images (PNGs of every kind, JPEGs, EXIF rotation): vitrine's
// decoding and preprocessing, then the engine, against PyTorch + PIL's logits and top-5 for the same files.
describe.each(['vit-tiny', 'vit-geom'])('%s on test/fixtures/images, from the files', (name) => {
  it('gives every readable image its logits within 1e-4 and the same top-5 in the same order; unreadable ones are refused', async () => {
    const dir = join(FIXTURES, name)
    const model = await loadModel(dir)
    const expected = readExpected(dir)
    for (const img of expected.images) {
      const file = join(FIXTURES, 'images', img.image)
      const bytes = await readFile(file)
      if (img.error) {
        await expect(preprocessImage(bytes, model.preprocessor, file), img.image).rejects.toThrow(InvalidInputError)
        continue
      }
      const logits = model.forward(await preprocessImage(bytes, model.preprocessor, file), 1)
      checkTensor(logits, img.logits!, `${name} ${img.image} logits`, 1e-4)
      const top = topK(softmax(logits, model.config.numLabels), 5, model.labels)
      expect(top.map((p) => p.label), img.image).toEqual(img.top!.map((p) => p.label))
    }
    model.dispose()
  })
})
