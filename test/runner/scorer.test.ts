import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Scorer} from '../../src/runner/scorer.js'
import {DIGITS_DIR, DIGITS_MODEL, ODD_IMAGES, digitFiles, expectedDigits, trueLabel} from './digits.js'

describe('Scorer on examples/models/vit-digits', () => {
  let scorer: Scorer
  beforeAll(async () => {
    scorer = await Scorer.load(DIGITS_MODEL, {threads: 2, maxBatch: 8})
  })
  afterAll(() => scorer.dispose())

  it('gets all 20 sample digits right, with PyTorch top-3 scores, batched 8 at a time', async () => {
    const files = digitFiles()
    expect(files).toHaveLength(20)
    const expected = expectedDigits()
    const items = await Promise.all(files.map(async (f) => ({id: f, bytes: await readFile(join(DIGITS_DIR, f))})))
    const outcomes = await scorer.score(items, {topK: 3})
    expect(outcomes).toHaveLength(20)
    for (const [i, f] of files.entries()) {
      const o = outcomes[i]
      if (!o.ok) throw new Error(`${f}: ${o.error}`)
      const want = expected.get(f)!
      expect(o.predictions[0].label, f).toBe(trueLabel(f))
      expect(o.predictions.map((p) => p.label), f).toEqual(want.top.map((p) => p.label))
      for (const [k, p] of o.predictions.entries()) expect(Math.abs(p.score - want.top[k].score), `${f} top-${k + 1}`).toBeLessThan(1e-5)
      expect(o.probabilities).toBeUndefined()
    }
  })

  it('keeps going past a bad image: truncated.jpg and junk bytes fail alone, naming their ids', async () => {
    const good = await readFile(join(DIGITS_DIR, 'digit-7-0182.png'))
    const outcomes = await scorer.score(
      [
        {id: 'truncated.jpg', bytes: await readFile(join(ODD_IMAGES, 'truncated.jpg'))},
        {id: 'seven', bytes: good},
        {id: 'junk', bytes: new TextEncoder().encode('not an image at all')},
        {id: 'photo', bytes: await readFile(join(ODD_IMAGES, 'chelsea.png'))},
      ],
      {topK: 2, probabilities: true},
    )
    expect(outcomes[0].ok).toBe(false)
    if (!outcomes[0].ok) {
      expect(outcomes[0].error).toContain('truncated.jpg')
      expect(outcomes[0].kind).toBe('InvalidInputError')
    }
    expect(outcomes[1].ok && outcomes[1].predictions[0].label).toBe('7')
    expect(outcomes[2].ok).toBe(false)
    if (!outcomes[2].ok) expect(outcomes[2].error).toContain('junk')
    // A photo of a cat is not a digit, but it is a valid image: scored, with probabilities summing to 1.
    const photo = outcomes[3]
    if (!photo.ok) throw new Error(photo.error)
    expect(photo.predictions).toHaveLength(2)
    expect(photo.probabilities).toHaveLength(10)
    const sum = photo.probabilities!.reduce((a, b) => a + b, 0)
    expect(Math.abs(sum - 1)).toBeLessThan(1e-5)
    expect(photo.predictions[0].score).toBeGreaterThanOrEqual(photo.predictions[1].score)
  })

  it('caps top-k at the number of labels and refuses a nonsense k', async () => {
    const bytes = await readFile(join(DIGITS_DIR, 'digit-3-0175.png'))
    const [o] = await scorer.score([{id: 'x', bytes}], {topK: 50})
    expect(o.ok && o.predictions).toHaveLength(10)
    await expect(scorer.score([{id: 'x', bytes}], {topK: 0})).rejects.toThrow(/topK/)
    expect(await scorer.score([], {})).toEqual([])
  })

  it('gives the same scores on the TypeScript backend', async () => {
    const ts = await Scorer.load(DIGITS_MODEL, {backend: 'ts'})
    try {
      expect(ts.backendName).toBe('ts')
      expect(ts.threads).toBe(1)
      const bytes = await readFile(join(DIGITS_DIR, 'digit-9-0934.png'))
      const [a] = await ts.score([{id: 'x', bytes}], {probabilities: true})
      const [b] = await scorer.score([{id: 'x', bytes}], {probabilities: true})
      if (!a.ok || !b.ok) throw new Error('scoring failed')
      for (let i = 0; i < 10; i++) expect(Math.abs(a.probabilities![i] - b.probabilities![i])).toBeLessThan(1e-5)
    } finally {
      ts.dispose()
    }
  })
})
