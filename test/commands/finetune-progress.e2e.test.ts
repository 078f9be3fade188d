// `vitrine finetune`'s progress bar (end-to-end tier: it needs a real terminal). util-linux `script` gives the
// process a pseudo-terminal: there the bar shows the step count, the rate, the ETA and the loss; with --json, or
// with CI set, the same run draws nothing.
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {FIXTURES} from '../engine/fixtures.js'
import {e2eBin} from '../helpers/e2e.js'
import {tempDir} from '../helpers/tmp.js'

/** Runs `node bin/run.js ARGS` on a pseudo-terminal; everything it wrote (stdout and stderr alike). */
async function onTerminal(args: string[], env: Record<string, string> = {}): Promise<{exitCode: number; output: string}> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`
  const command = ['node', await e2eBin(), ...args].map(quote).join(' ')
  // CI may be set around the test run: the terminal case must not inherit it
  const r = await execa('script', ['-qec', command, '/dev/null'], {reject: false, extendEnv: false, env: {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env}})
  return {exitCode: r.exitCode ?? -1, output: String(r.stdout)}
}

describe('vitrine finetune: progress on a terminal only', () => {
  it('draws step, rate, ETA and loss on a TTY; nothing with --json or in CI', async () => {
    const dir = await tempDir()
    const images = ['block.png', 'camera.png', 'coffee.png', 'horse.png']
    const data = join(dir, 'train.jsonl')
    await writeFile(data, images.map((image, i) => JSON.stringify({image_url: join(FIXTURES, 'images', image), label: i % 2 ? 'x' : 'y'})).join('\n') + '\n')
    const args = (out: string): string[] => ['finetune', '-m', join(FIXTURES, 'vit-geom'), '--train-data', data, '--out', join(dir, out), '--batch-size', '2', '--max-steps', '120', '--no-augment', '--threads', '1']

    const tty = await onTerminal(args('tty'))
    expect(tty.exitCode, tty.output).toBe(0)
    expect(tty.output).toMatch(/Fine-tuning .* \d+%\s+\d+\/120 [\d.]+ steps\/s ETA/)
    expect(tty.output).toMatch(/loss \d+\.\d{4}/)
    expect(tty.output).toMatch(/Fine-tuning: 120 steps \([\d.]+s, [\d.]+ steps\/s\)/)

    const json = await onTerminal([...args('json'), '--json'])
    expect(json.exitCode, json.output).toBe(0)
    expect(json.output).not.toContain('Fine-tuning')
    expect(json.output).not.toContain('\r\x1b[K')
    expect(JSON.parse(json.output) as {steps: unknown[]}).toHaveProperty('steps')

    const ci = await onTerminal(args('ci'), {CI: 'true'})
    expect(ci.exitCode, ci.output).toBe(0)
    expect(ci.output).not.toContain('Fine-tuning')
    expect(ci.output).toContain('120 steps') // the summary is still printed
  }, 300_000)
})
