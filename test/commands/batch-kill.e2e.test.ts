import {readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {runCli} from '../helpers/cli.js'
import {e2eBin} from '../helpers/e2e.js'
import {tempDir} from '../helpers/tmp.js'
import {DIGITS_MODEL, trueLabel} from '../runner/digits.js'
import {checkResult, digitsBase64, readJsonl} from './batch-helpers.js'

// A process of its own: the run is killed with SIGKILL, then resumed (in-process).
describe('vitrine batch --resume after kill -9 (end-to-end)', () => {
  it('a run killed with SIGKILL mid-way and resumed gives exactly one row per input, each right', async () => {
    const dir = await tempDir()
    const digits = await digitsBase64()
    const n = 3000
    const lines = Array.from({length: n}, (_, i) => JSON.stringify({id: `${i}:${digits[i % 20].file}`, image: digits[i % 20].b64}))
    const input = join(dir, 'many.jsonl')
    await writeFile(input, `${lines.join('\n')}\n`)
    const out = join(dir, 'rows.jsonl')
    const partial = `${out}.partial`
    const args = [await e2eBin(), 'batch', input, '-m', DIGITS_MODEL, '--out', out, '-k', '1', '--batch-size', '8', '--threads', '1']
    const child = execa('node', args, {reject: false})
    // Kill it once some rows are on disk and well before the end.
    let seen = 0
    for (let waited = 0; waited < 120_000 && seen < 40; waited += 10) {
      await new Promise((r) => setTimeout(r, 10))
      seen = await stat(partial).then((s) => s.size / 150, () => 0)
    }
    child.kill('SIGKILL')
    const killed = await child
    expect(killed.signal).toBe('SIGKILL')
    await expect(stat(out), 'the run finished before it was killed; make the input larger').rejects.toThrow()
    const before = (await readFile(partial, 'utf8')).split('\n').filter((l) => l !== '').length
    expect(before).toBeGreaterThan(0)
    expect(before).toBeLessThan(n)

    const resumed = await runCli(['batch', input, '-m', DIGITS_MODEL, '--out', out, '-k', '1', '--batch-size', '8', '--resume', '--json'], {timeout: 300_000})
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    const result = checkResult(resumed.stdout)
    expect(result.total).toBe(n)
    expect((result.skipped as number) + (result.scored as number)).toBe(n)
    expect(result.skipped as number).toBeGreaterThanOrEqual(before - 1)
    const rows = await readJsonl(out)
    expect(rows).toHaveLength(n)
    expect(new Set(rows.map((r) => r.id)).size).toBe(n)
    for (const row of rows) expect(row.predictions?.[0].label, row.id).toBe(trueLabel(row.id))
  }, 400_000)
})
