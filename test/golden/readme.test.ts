import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ROOT, runCli} from '../helpers/cli.js'
import {CHANGES} from './readme/changes.js'
import {expected, loadRecorded} from './readme/compare.js'
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
    for (const [i, r] of now.entries()) expect(r, `example ${r.id}: vitrine ${r.args.join(' ')}`).toEqual(expected(r.id, recorded.examples[i]))
  })
})
