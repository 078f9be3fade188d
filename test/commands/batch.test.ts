import {cp, readFile, readdir, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {parseCsv} from '../../src/runner/csv.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'
import {checkResult, digitsBase64, readJsonl} from './batch-helpers.js'
import {DIGITS_DIR, DIGITS_MODEL, ODD_IMAGES, expectedDigits, trueLabel, unwrap} from '../runner/digits.js'

describe('vitrine batch', () => {
  it('scores a folder into CSV: one row per image, all 20 digits right with the engine test numbers, a bad image recorded', async () => {
    const dir = await tempDir()
    const images = join(dir, 'images')
    await cp(DIGITS_DIR, images, {recursive: true})
    await cp(join(ODD_IMAGES, 'truncated.jpg'), join(images, 'zz-truncated.jpg'))
    const out = join(dir, 'out', 'predictions.csv')
    const r = await runCli(['batch', images, '-m', DIGITS_MODEL, '--out', out, '-k', '3', '--batch-size', '6', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const result = checkResult(r.stdout)
    expect(result).toMatchObject({total: 21, scored: 21, failed: 1, skipped: 0, inputFormat: 'folder', outputFormat: 'csv'})
    const [header, ...rows] = parseCsv(await readFile(out, 'utf8'), out)
    expect(header.fields).toEqual(['id', 'label_1', 'score_1', 'label_2', 'score_2', 'label_3', 'score_3', 'error'])
    expect(rows).toHaveLength(21)
    const expected = expectedDigits()
    for (const {fields} of rows.slice(0, 20)) {
      const [id, l1, s1, l2, s2, l3, s3, error] = fields
      const want = expected.get(id)!
      expect(l1, id).toBe(trueLabel(id))
      expect([l1, l2, l3]).toEqual(want.top.map((p) => p.label))
      expect(Math.abs(Number(s1) - want.top[0].score)).toBeLessThan(1e-5)
      expect(Math.abs(Number(s2) - want.top[1].score)).toBeLessThan(1e-5)
      expect(Math.abs(Number(s3) - want.top[2].score)).toBeLessThan(1e-5)
      expect(error).toBe('')
    }
    expect(rows[20].fields[0]).toBe('zz-truncated.jpg')
    expect(rows[20].fields[1]).toBe('')
    expect(rows[20].fields[7]).toMatch(/^zz-truncated\.jpg: \S/)
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['predictions.csv'])
  })

  it('reads the batch sample CSV (an image column of base64) and JSONL, writes JSONL; bad rows are recorded, not fatal', async () => {
    const dir = await tempDir()
    const digits = await digitsBase64()
    const csv = join(dir, 'image_list.csv')
    await writeFile(csv, `image\r\n${digits.slice(0, 5).map((d) => d.b64).join('\r\n')}\r\n%%%notbase64\r\n`)
    const out = join(dir, 'p.jsonl')
    const r = await runCli(['batch', csv, '-m', DIGITS_MODEL, '--out', out, '-k', '1', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(checkResult(r.stdout)).toMatchObject({total: 6, scored: 6, failed: 1, inputFormat: 'csv'})
    const rows = await readJsonl(out)
    expect(rows.map((x) => x.id)).toEqual(['1', '2', '3', '4', '5', '6'])
    for (let i = 0; i < 5; i++) expect(rows[i].predictions![0].label).toBe(trueLabel(digits[i].file))
    expect(rows[5].error).toMatch(/image_list\.csv: line 7: not valid base64/)

    const jsonl = join(dir, 'in.jsonl')
    await writeFile(jsonl, `${digits.slice(5, 8).map((d) => JSON.stringify({id: d.file, image: d.b64})).join('\n')}\n{"id": "x", "img": 1}\n`)
    const out2 = join(dir, 'p2.csv')
    const r2 = await runCli(['batch', jsonl, '-m', DIGITS_MODEL, '--out', out2, '-k', '1'])
    expect(r2.exitCode, r2.stderr).toBe(0)
    expect(r2.stdout).toContain('4 rows written (1 errors)')
    const [, ...rows2] = parseCsv(await readFile(out2, 'utf8'), out2)
    expect(rows2.map((x) => x.fields.slice(0, 2))).toEqual([...digits.slice(5, 8).map((d) => [d.file, trueLabel(d.file)]), ['x', '']])
    expect(rows2[3].fields[3]).toMatch(/line 4: expected \{"image"/)
  })

  it('--fail-fast stops at the first bad item (exit 1) and leaves the partial file for --resume', async () => {
    const dir = await tempDir()
    const digits = await digitsBase64()
    const jsonl = join(dir, 'in.jsonl')
    await writeFile(jsonl, [JSON.stringify({image: digits[0].b64}), JSON.stringify({image: 'bad!'}), JSON.stringify({image: digits[1].b64})].join('\n'))
    const out = join(dir, 'p.jsonl')
    const r = await runCli(['batch', jsonl, '-m', DIGITS_MODEL, '--out', out, '--fail-fast'])
    expect(r.exitCode).toBe(1)
    expect(unwrap(r.stderr)).toContain('not valid base64')
    await expect(stat(out)).rejects.toThrow()
    expect((await readJsonl(`${out}.partial`)).map((x) => x.id)).toEqual(['1', '2'])
    const resumed = await runCli(['batch', jsonl, '-m', DIGITS_MODEL, '--out', out, '--resume', '--json'])
    expect(resumed.exitCode, resumed.stderr).toBe(0)
    expect(checkResult(resumed.stdout)).toMatchObject({scored: 1, skipped: 2, failed: 0})
    expect((await readJsonl(out)).map((x) => x.id)).toEqual(['1', '2', '3'])
  })

  it('refuses what it cannot do: unknown output extension, duplicate ids, a CSV without an image column, a changed --top-k on resume', async () => {
    const dir = await tempDir()
    const bad = await runCli(['batch', DIGITS_DIR, '-m', DIGITS_MODEL, '--out', join(dir, 'x.txt')])
    expect(bad.exitCode).toBe(2)
    expect(unwrap(bad.stderr)).toContain('.csv or .jsonl')
    const dup = join(dir, 'dup.jsonl')
    await writeFile(dup, '{"id": "a", "image": "AAAA"}\n{"id": "a", "image": "AAAA"}\n')
    const d = await runCli(['batch', dup, '-m', DIGITS_MODEL, '--out', join(dir, 'd.csv')])
    expect(d.exitCode).toBe(1)
    expect(unwrap(d.stderr)).toContain('line 2: id "a" was already used on line 1')
    const noCol = join(dir, 'nocol.csv')
    await writeFile(noCol, 'picture\nAAAA\n')
    const n = await runCli(['batch', noCol, '-m', DIGITS_MODEL, '--out', join(dir, 'n.csv')])
    expect(n.exitCode).toBe(1)
    expect(unwrap(n.stderr)).toContain('no "image" column')
    const out = join(dir, 'k.csv')
    expect((await runCli(['batch', DIGITS_DIR, '-m', DIGITS_MODEL, '--out', out, '-k', '2'])).exitCode).toBe(0)
    const k = await runCli(['batch', DIGITS_DIR, '-m', DIGITS_MODEL, '--out', out, '-k', '3', '--resume'])
    expect(k.exitCode).toBe(2)
    expect(unwrap(k.stderr)).toContain('same --top-k')
  })

})
