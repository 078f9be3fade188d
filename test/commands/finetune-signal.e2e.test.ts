// The SIGTERM-and-resume test of `vitrine finetune` (end-to-end tier: the signal must reach a real process).
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {FIXTURES} from '../engine/fixtures.js'
import {runCli} from '../helpers/cli.js'
import {e2eBin} from '../helpers/e2e.js'
import {tempDir} from '../helpers/tmp.js'

const IMAGES = join(FIXTURES, 'images')

/** The parts of `finetune --json` this test compares. */
interface Result {
  steps: Array<{step: number; lr: number; loss: number; grad_norm: number}>
  metrics: Array<{epoch: number; train_loss: number; validation_accuracy?: number}>
}

async function jsonl(file: string, rows: Array<{image_url: string; label: string}>): Promise<string> {
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  return file
}

describe('vitrine finetune: interrupted and resumed', () => {
  it('SIGTERM writes a checkpoint only; --resume continues to the same steps and weights as an uninterrupted run', async () => {
    const dir = await tempDir()
    const model = join(FIXTURES, 'vit-geom')
    const rows = ['block.png', 'camera.png', 'coffee.png', 'horse.png', 'chelsea.png', 'green_palette.png'].map((image, i) => ({image_url: join(IMAGES, image), label: i % 2 ? 'x' : 'y'}))
    const data = await jsonl(join(dir, 'train.jsonl'), rows)
    const args = (out: string): string[] => ['finetune', '-m', model, '--train-data', data, '--out', out, '--batch-size', '2', '--max-steps', '150', '--learning-rate', '1e-3', '--seed', '7']
    // A separate process: the test sends it a real signal.
    const child = execa('node', [await e2eBin(), ...args(join(dir, 'run'))], {reject: false, env: {NO_COLOR: '1'}})
    await new Promise<void>((resolve) => {
      let seen = ''
      child.stderr?.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        if (seen.includes('Training:')) resolve()
      })
    })
    child.kill('SIGTERM')
    const stopped = await child
    expect(stopped.exitCode, String(stopped.stderr)).toBe(1)
    expect(String(stopped.stderr)).toContain('--resume')
    await expect(readFile(join(dir, 'run', 'metrics.json'))).rejects.toThrow()
    const state = JSON.parse(await readFile(join(dir, 'run', 'checkpoint', 'state.json'), 'utf8')) as {stepsDone: number}
    expect(state.stepsDone).toBeGreaterThan(0)
    expect(state.stepsDone).toBeLessThan(150)

    const resumed = await runCli([...args(join(dir, 'run')), '--resume', '--json'], {timeout: 600_000})
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    const whole = await runCli([...args(join(dir, 'whole')), '--json'], {timeout: 600_000})
    expect(whole.exitCode, whole.stderr).toBe(0)
    const a = JSON.parse(resumed.stdout) as Result
    const b = JSON.parse(whole.stdout) as Result
    expect(a.steps).toEqual(b.steps)
    expect(a.metrics).toEqual(b.metrics)
    const wa = await readFile(join(dir, 'run', 'pytorch_model_folder', 'model.safetensors'))
    const wb = await readFile(join(dir, 'whole', 'pytorch_model_folder', 'model.safetensors'))
    expect(Buffer.compare(wa, wb)).toBe(0)
  }, 900_000)
})
