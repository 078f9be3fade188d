/**
 * report.html opened in headless Chromium (Debian's /usr/bin/chromium through playwright-core): the confusion
 * matrix is drawn with PyTorch's counts from expected.json, the misclassified thumbnails load from data: URIs,
 * nothing is fetched from the network, and the screenshot of the heat map is a real picture (many colours, the
 * darkest cells dark blue), not a blank page.
 */
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {chromium} from 'playwright-core'
import {PNG} from 'pngjs'
import {describe, expect, it} from 'vitest'

import {runEvaluate} from '../../src/evaluate/evaluate.js'
import {tempDir} from '../helpers/tmp.js'

const CHROMIUM = '/usr/bin/chromium'

interface Expected {
  metrics: {confusion_matrix: number[][]; labels: string[]}
  predictions: Array<{image: string; label: string; predicted: string}>
}
const expected = JSON.parse(await readFile(new URL('../fixtures/digits-eval/expected.json', import.meta.url), 'utf8')) as Expected

describe.skipIf(!existsSync(CHROMIUM))('report.html in headless Chromium', () => {
  it('shows the confusion matrix heat map with the digit counts, per-class bars and the misclassified thumbnails', async () => {
    const out = await tempDir()
    await runEvaluate({model: 'examples/models/vit-digits', data: 'examples/datasets/digits-eval/annotations.jsonl', out, threads: 2})
    const userDataDir = await tempDir('vitrine-chromium-')
    // A fresh profile per run (playwright passes it as --user-data-dir).
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: {width: 1200, height: 900},
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    try {
      const page = await context.newPage()
      const fetched: string[] = []
      page.on('request', (r) => {
        if (!/^(file|data):/.test(r.url())) fetched.push(r.url())
      })
      await page.goto(pathToFileURL(join(out, 'report.html')).href)
      await page.waitForLoadState('load')

      // Every (true, predicted) cell with its count, as expected.json's confusion matrix.
      const cells = await page.$$eval('svg.confusion g.cm-cell', (els) =>
        els.map((e) => ({t: e.getAttribute('data-true'), p: e.getAttribute('data-pred'), n: Number(e.getAttribute('data-count')), text: e.querySelector('text')?.textContent ?? ''})),
      )
      const labels = expected.metrics.labels
      expect(cells).toHaveLength(labels.length * labels.length)
      for (const c of cells) {
        const count = expected.metrics.confusion_matrix[labels.indexOf(c.t as string)][labels.indexOf(c.p as string)]
        expect(c.n).toBe(count)
        expect(c.text).toBe(count > 0 ? String(count) : '')
      }
      // The diagonal is darker than an off-diagonal error cell of the same row.
      const fill = async (t: string, p: string): Promise<string> =>
        page.$eval(`g.cm-cell[data-true="${t}"][data-pred="${p}"] rect`, (r) => r.getAttribute('fill') ?? '')
      expect(await fill('5', '5')).not.toBe(await fill('5', '9'))

      const misses = expected.predictions.filter((p) => p.label !== p.predicted)
      const figures = await page.$$eval('figure.miss', (els) =>
        els.map((e) => ({image: e.getAttribute('data-image'), label: e.getAttribute('data-label'), pred: e.getAttribute('data-pred'), w: (e.querySelector('img') as unknown as {naturalWidth: number} | null)?.naturalWidth ?? 0, top: e.querySelectorAll('ol li').length})),
      )
      expect(figures.map((f) => [f.image, f.label, f.pred]).sort()).toEqual(misses.map((m) => [m.image, m.label, m.predicted]).sort())
      expect(figures.every((f) => f.w > 0 && f.top === 3)).toBe(true)
      expect(await page.$$eval('svg.per-class g.bar', (els) => els.length)).toBe(labels.length * 3)
      expect(await page.textContent('[data-metric="accuracy"] b')).toBe('0.9600')
      expect(fetched).toEqual([])

      const shot = PNG.sync.read(await page.locator('svg.confusion').screenshot())
      expect(shot.width).toBeGreaterThan(300)
      const colours = new Set<number>()
      let darkBlue = 0
      for (let i = 0; i < shot.data.length; i += 4) {
        const [r, g, b] = [shot.data[i], shot.data[i + 1], shot.data[i + 2]]
        colours.add((r << 16) | (g << 8) | b)
        if (b > 80 && r < 60 && g < 90) darkBlue++
      }
      expect(colours.size).toBeGreaterThan(20)
      // Ten nearly-full diagonal cells of 44x44 px, less their count text.
      expect(darkBlue).toBeGreaterThan(10 * 30 * 30)
      await page.screenshot({path: join(out, 'report.png'), fullPage: true})
      expect((await readFile(join(out, 'report.png'))).length).toBeGreaterThan(20_000)
    } finally {
      await context.close()
    }
  })
})
