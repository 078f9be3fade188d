/**
 * Hostile input, finding 9 (issue 13), through the built CLI: labels and file names holding ESC sequences, other
 * control characters and line breaks never reach the terminal raw (one sanitiser, src/core/printable.ts, shows them
 * as escapes), while --json keeps the true value, JSON-escaped. The model and the image are made here.
 */
import {copyFile, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {e2eBin} from '../helpers/e2e.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES} from '../helpers/weight-writers.js'

async function vitrine(args: string[]): Promise<{exitCode: number; stdout: string; stderr: string}> {
  const r = await execa('node', [await e2eBin(), ...args], {env: {NO_COLOR: '1'}, reject: false, timeout: 120_000})
  return {exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr)}
}

/** Every character a terminal acts on: C0 controls but the line break, DEL, C1 controls, bidi overrides. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

describe('finding 9: labels and file names with ESC sequences or newlines are printed raw', () => {
  it('score: hostile labels and an image file name are shown escaped on one line each; --json keeps them', async () => {
    const root = await tempDir()
    const model = join(root, 'model')
    await mkdir(model)
    for (const f of ['preprocessor_config.json', 'model.safetensors']) await copyFile(join(FIXTURES, 'vit-tiny', f), join(model, f))
    const cfg = JSON.parse(await readFile(join(FIXTURES, 'vit-tiny', 'config.json'), 'utf8')) as {id2label: Record<string, string>; label2id?: unknown}
    const hostile = Object.keys(cfg.id2label).map((id) => `\u001b[2J\u001b[31mcls${id}\rfake\n  forged_label  1.0000  \u202e${id}\u009b1m`)
    cfg.id2label = Object.fromEntries(hostile.map((l, i) => [String(i), l]))
    delete cfg.label2id
    await writeFile(join(model, 'config.json'), JSON.stringify(cfg))
    const image = join(root, 'img\u001b]0;title\u0007\nforged.png')
    await copyFile(join(FIXTURES, 'images', 'block.png'), image)

    const human = await vitrine(['score', '-m', model, image, '-k', '3', '--backend', 'ts'])
    expect(human.exitCode, human.stderr).toBe(0)
    expect(human.stdout).not.toMatch(RAW_CONTROL)
    // The file name, then three label lines: nothing forged.
    const lines = human.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[0]).toBe(`${root}/img\\x1b]0;title\\x07\\nforged.png`)
    for (const l of lines.slice(1)) expect(l).toMatch(/^ {2}\\x1b\[2J\\x1b\[31mcls\d\\rfake\\n {2}forged_label {2}1\.0000 {2}\\u202e\d\\x9b1m +0\.\d{4} /)

    const json = await vitrine(['score', '-m', model, image, '-k', '3', '--backend', 'ts', '--json'])
    expect(json.exitCode, json.stderr).toBe(0)
    // The endpoint's answer: labels as they are, JSON-escaped.
    const result = JSON.parse(json.stdout) as Array<Array<{label: string; score: number}>>
    expect(json.stdout).toContain('\\u001b[2J')
    expect(result[0]).toHaveLength(3)
    for (const p of result[0]) expect(hostile).toContain(p.label)
  }, 120_000)

  it('an error naming a hostile file name (not an image): stderr shows it escaped, --json keeps it', async () => {
    const root = await tempDir()
    const missing = join(root, 'gone\u001b[2J\u001b[Hx.png')
    await writeFile(missing, 'not an image\n')
    const human = await vitrine(['score', '-m', join(FIXTURES, 'vit-tiny'), missing])
    expect(human.exitCode).toBe(1)
    expect(human.stderr).not.toMatch(RAW_CONTROL)
    expect(human.stderr).toContain('gone\\x1b[2J\\x1b[Hx.png')
    const json = await vitrine(['score', '-m', join(FIXTURES, 'vit-tiny'), missing, '--json'])
    expect(json.exitCode).toBe(1)
    expect((JSON.parse(json.stdout) as {error: {message: string}}).error.message).toContain(missing)
  }, 120_000)
})
