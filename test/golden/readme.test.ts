import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ROOT, runCli} from '../helpers/cli.js'
import {CHANGES} from './readme/changes.js'
import {differences, expected, loadRecorded, sameText} from './readme/compare.js'
import {EXAMPLES, NOT_RUN, runExamples, SERVE_EXAMPLE} from './readme/examples.js'

/** `vitrine ...` lines of the README's indented code blocks, without comments and redirections. */
async function readmeCommands(): Promise<string[]> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
  return [...readme.matchAll(/^ {4}vitrine (.+)$/gm)].map((m) => m[1].replace(/\s+#.*$/, '').replace(/\s+>.*$/, '').trim())
}

describe('README examples: outputs as recorded before the restructuring (issue 17)', () => {
  it('every README command is run here or listed as not run with the reason', async () => {
    const accounted = new Set([...EXAMPLES.map((e) => e.readme), ...NOT_RUN.map(([line]) => line), SERVE_EXAMPLE.readme])
    expect((await readmeCommands()).filter((c) => !accounted.has(c))).toEqual([])
  })

  it('each listed example is still in the README (a changed README command is a listed change)', async () => {
    const commands = new Set(await readmeCommands())
    expect(EXAMPLES.map((e) => e.readme).filter((c) => !commands.has(c))).toEqual([])
  })

  it('every intended change names an example that exists', () => {
    const ids = new Set([...EXAMPLES.map((e) => e.id), 'serve'])
    expect(CHANGES.filter((c) => !ids.has(c.example)).map((c) => c.example)).toEqual([])
  })

  // 28 commands in sequence (convert, package with ONNX, scoring, a 300-image evaluation twice).
  it('runs every example and gives the recorded output, modulo timings, paths and the changes listed in changes.ts', {timeout: 600_000}, async () => {
    const recorded = await loadRecorded()
    const now = await runExamples((args, options) => runCli(args, {...options, timeout: 300_000}), join(ROOT, 'examples'))
    expect(now.map((r) => r.id)).toEqual(recorded.examples.map((r) => r.id))
    // First the list of what differs (every example, each field), then the first difference in full.
    const differing = now.flatMap((r, i) => {
      const want = expected(r.id, recorded.examples[i])
      return differences(r, want.record, want.numbersWithin, want.ignore).map((field) => `${r.id}.${field}`)
    })
    expect(differing).toEqual([])
  })
})

describe('golden comparison', () => {
  it('numbers may differ only as much as an intended change allows; text never', () => {
    expect(sameText('score 0.5000001', 'score 0.5000002')).toBe(false)
    expect(sameText('score 0.5000001', 'score 0.5000002', 1e-5)).toBe(true)
    expect(sameText('score 0.50', 'score 0.51', 1e-5)).toBe(false)
    expect(sameText('label 7 0.5', 'label 1 0.5', 1e-5)).toBe(false)
    expect(sameText('label 7 0.5', 'label: 7 0.5', 1e-5)).toBe(false)
    expect(sameText('"bytes_out":218', '"bytes_out":219', 0, [/"bytes_out":\d+/g])).toBe(true)
  })
})
