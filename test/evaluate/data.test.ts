import {mkdir, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {describe, expect, it} from 'vitest'

import {readEvalData} from '../../src/evaluate/data.js'
import {tempDir} from '../helpers/tmp.js'

const DIGITS = resolve('examples/datasets/digits-eval')
const mc = {task: 'image-classification' as const}

describe('readEvalData', () => {
  it('reads the digits JSONL: 300 rows, image paths relative to the JSONL folder, line numbers', async () => {
    const data = await readEvalData(join(DIGITS, 'annotations.jsonl'), mc)
    expect(data.format).toBe('jsonl')
    expect(data.bad).toEqual([])
    expect(data.rows).toHaveLength(300)
    expect(data.rows[0]).toMatchObject({line: 1, image: 'images/2/1081.png', path: join(DIGITS, 'images/2/1081.png'), labels: ['2']})
    expect(data.rows[299].line).toBe(300)
  })

  it('reads a folder per class: one row per image, the folder name as its label', async () => {
    const data = await readEvalData(join(DIGITS, 'images'), mc)
    expect(data.format).toBe('class-folders')
    expect(data.rows).toHaveLength(300)
    expect(new Set(data.rows.map((r) => r.labels[0]))).toEqual(new Set(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']))
    expect(data.rows.every((r) => r.path.endsWith(r.image))).toBe(true)
  })

  it('reads an MLTable folder through its paths, images relative to each JSONL', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'table'))
    await writeFile(join(dir, 'table', 'part.jsonl'), '{"img": "../pics/a.png", "cls": "cat"}\n{"img": "../pics/b.png", "cls": 3}\n')
    await writeFile(
      join(dir, 'table', 'MLTable'),
      'type: mltable\npaths:\n  - file: ./part.jsonl\ntransformations:\n  - read_json_lines:\n      encoding: utf8\n',
    )
    const data = await readEvalData(join(dir, 'table'), {...mc, inputColumn: 'img', labelColumn: 'cls'})
    expect(data.format).toBe('mltable')
    expect(data.rows.map((r) => [r.source.endsWith('part.jsonl:1') || r.source.endsWith('part.jsonl:2'), r.path, r.labels])).toEqual([
      [true, join(dir, 'pics', 'a.png'), ['cat']],
      [true, join(dir, 'pics', 'b.png'), ['3']],
    ])
  })

  it('refuses an MLTable it cannot read locally, naming the file', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'MLTable'), 'paths:\n  - folder: azureml://datastores/x/paths/y\n')
    await expect(readEvalData(dir, mc)).rejects.toThrow(/MLTable: paths\[0\]: a folder is not supported locally/)
    await writeFile(join(dir, 'MLTable'), 'paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited: {}\n')
    await expect(readEvalData(dir, mc)).rejects.toThrow(/read_delimited is not supported locally/)
  })

  it('reports every bad row with its line and the reason, keeping the good ones', async () => {
    const dir = await tempDir()
    const lines = [
      '{"image_url": "a.png", "label": "0"}',
      '{"image_url": "b.png", "label": "1"',
      '',
      '{"label": "1"}',
      '{"image_url": "c.png"}',
      '{"image_url": "d.png", "label": ["1", "2"]}',
      '{"image_url": "azureml://datastores/blob/paths/e.png", "label": "1"}',
      '[1, 2]',
      '{"image_url": "f.png", "label": 7}',
    ]
    await writeFile(join(dir, 'data.jsonl'), lines.join('\n') + '\n')
    const data = await readEvalData(join(dir, 'data.jsonl'), mc)
    expect(data.rows.map((r) => [r.line, r.labels])).toEqual([
      [1, ['0']],
      [9, ['7']],
    ])
    expect(data.bad.map((b) => b.line)).toEqual([2, 4, 5, 6, 7, 8])
    const reason = (line: number): string => data.bad.find((b) => b.line === line)?.reason ?? ''
    expect(reason(2)).toMatch(/not valid JSON/)
    expect(reason(4)).toMatch(/no "image_url" string .*--input-column-names/)
    expect(reason(5)).toMatch(/no "label" field; set --label-column-name/)
    expect(reason(6)).toMatch(/is a list; .*image-classification-multilabel/)
    expect(reason(7)).toMatch(/not a local path/)
    expect(reason(8)).toMatch(/expected a JSON object/)
    expect(data.bad[0].source).toMatch(/data\.jsonl:2$/)
  })

  it('multilabel: a list of labels per row, a single string is one label', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'd.jsonl'), '{"image_url": "a.png", "label": ["x", "y", "x"]}\n{"image_url": "b.png", "label": "z"}\n{"image_url": "c.png", "label": [1, {}]}\n')
    const data = await readEvalData(join(dir, 'd.jsonl'), {task: 'image-classification-multilabel'})
    expect(data.rows.map((r) => r.labels)).toEqual([['x', 'y'], ['z']])
    expect(data.bad).toHaveLength(1)
    expect(data.bad[0]).toMatchObject({line: 3})
    await expect(readEvalData(join(DIGITS, 'images'), {task: 'image-classification-multilabel'})).rejects.toThrow(/multilabel data must be JSONL or MLTable/)
  })

  it('a folder holding a JSONL beside its images (no MLTable) names the JSONL to pass, instead of reading images/ as a class', async () => {
    await expect(readEvalData(DIGITS, mc)).rejects.toThrow(/no MLTable file; it holds JSON lines data: pass the file \(.*annotations\.jsonl\)/)
  })

  it('a missing path is a usage error; a file of another kind is refused', async () => {
    await expect(readEvalData('no/such/data.jsonl', mc)).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/no such file/)})
    await expect(readEvalData('package.json', mc)).rejects.toThrow(/expected an MLTable folder, a .jsonl file or a folder per class/)
  })
})
