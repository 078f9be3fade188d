/**
 * The /ui page of `vitrine serve` in a real headless Chromium (Debian's /usr/bin/chromium through playwright-core):
 * images picked with the file input and dropped on the drop zone are POSTed to /score, and their top-k labels appear
 * as bars with scores. Under CI=true a missing Chromium fails the test; elsewhere the test is skipped.
 */
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {chromium} from 'playwright-core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Scorer} from '../../src/runner/scorer.js'
import {type RunningServer, startRunnerServer} from '../../src/runner/server.js'
import {tempDir} from '../helpers/tmp.js'
import {DIGITS_DIR, DIGITS_MODEL, ODD_IMAGES, trueLabel} from './digits.js'

const CHROMIUM = '/usr/bin/chromium'
const haveChromium = existsSync(CHROMIUM)

describe('/ui', () => {
  it.runIf(!haveChromium && process.env.CI === 'true')('needs Chromium under CI', () => {
    throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (the /ui test must run in CI)`)
  })

  describe.skipIf(!haveChromium)('in headless Chromium', () => {
    let scorer: Scorer
    let server: RunningServer
    beforeAll(async () => {
      scorer = await Scorer.load(DIGITS_MODEL, {threads: 1})
      server = await startRunnerServer(Promise.resolve(scorer), {port: 0, topK: 3})
    })
    afterAll(async () => {
      await server?.close()
      scorer?.dispose()
    })

    it('scores picked and dropped images and shows their top-3 labels as bars; a bad image shows its error', async () => {
      const userDataDir = await tempDir('vitrine-chromium-')
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      })
      try {
        const page = context.pages()[0] ?? (await context.newPage())
        const requests: string[] = []
        page.on('request', (r) => requests.push(r.url()))
        await page.goto(`${server.url}/ui`)
        expect(await page.title()).toBe('vitrine serve')

        const picked = ['digit-2-0927.png', 'digit-8-1707.png']
        await page.setInputFiles('#files', [...picked.map((f) => join(DIGITS_DIR, f)), join(ODD_IMAGES, 'truncated.jpg')])
        await page.locator('.result[data-state]').nth(2).waitFor({timeout: 30_000})
        for (const file of picked) {
          const box = page.locator(`.result[data-name="${file}"]`)
          expect(await box.getAttribute('data-state')).toBe('done')
          const labels = await box.locator('.label').allTextContents()
          expect(labels).toHaveLength(3)
          expect(labels[0]).toBe(trueLabel(file))
          const scores = (await box.locator('.score').allTextContents()).map(Number)
          expect(scores[0]).toBeGreaterThan(0.5)
          expect(scores[0]).toBeGreaterThanOrEqual(scores[1])
          // The bar is drawn: its width is its score's share of the track.
          const bar = (await box.locator('.bar').first().boundingBox())!.width
          const track = (await box.locator('.row > div').first().boundingBox())!.width
          expect(Math.abs(bar / track - scores[0])).toBeLessThan(0.02)
          expect(await box.locator('img').evaluate((img) => (img as unknown as {naturalWidth: number}).naturalWidth), 'the sample digits are 64x64 PNGs').toBe(64)
        }
        const bad = page.locator('.result[data-name="truncated.jpg"]')
        expect(await bad.getAttribute('data-state')).toBe('error')
        expect(await bad.locator('.error').textContent()).toMatch(/input_data\[0\] \(image 0\): \S/)

        // Drop a file on the drop zone, as a user dragging it from a file manager.
        const dropped = 'digit-5-1061.png'
        const b64 = (await readFile(join(DIGITS_DIR, dropped))).toString('base64')
        // Runs in the page (DOM types are not in this project's TypeScript lib, hence the string).
        await page.evaluate(`(() => {
          const bytes = Uint8Array.from(atob(${JSON.stringify(b64)}), (c) => c.charCodeAt(0))
          const transfer = new DataTransfer()
          transfer.items.add(new File([bytes], ${JSON.stringify(dropped)}, {type: 'image/png'}))
          document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}))
        })()`)
        await page.locator(`.result[data-name="${dropped}"][data-state="done"]`).waitFor({timeout: 30_000})
        expect(await page.locator(`.result[data-name="${dropped}"] .label`).first().textContent()).toBe(trueLabel(dropped))
        // Everything the page loaded came from the server itself.
        expect(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:'))).toEqual([])
      } finally {
        await context.close()
      }
    }, 120_000)
  })
})
