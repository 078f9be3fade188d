import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {InvalidInputError, UsageError} from '../../src/core/errors.js'
import {generate, writeGenerated} from '../../src/generate/generate.js'
import {buildTrainingData} from '../../src/generate/train-data.js'
import {tempDir} from '../helpers/tmp.js'

const ROOT = new URL('../..', import.meta.url).pathname
const ASSET = join(ROOT, 'test/fixtures/azureml-assets/google-vit-base-patch16-224-current')

function tree(dir: string, classes: Record<string, string[]>): void {
  for (const [label, files] of Object.entries(classes)) {
    mkdirSync(join(dir, label), {recursive: true})
    for (const f of files) writeFileSync(join(dir, label, f), 'x')
  }
}

describe('--train-data: a folder per class as JSONL + MLTable', () => {
  it('splits one image in five per class to validation, in name order', async () => {
    const work = await tempDir()
    const images = join(work, 'images')
    tree(images, {cat: ['c5.png', 'c1.png', 'c3.jpg', 'c2.png', 'c4.PNG', 'c6.png', 'notes.txt'], dog: ['d1.jpeg', 'd2.png']})
    writeFileSync(join(images, 'README'), 'x')
    const out = join(work, 'out')
    const t = buildTrainingData(images, out, 5)
    // Name order of cat: c1 c2 c3 c4 c5 c6 -> the fifth (c5) goes to validation.
    const line = (p: string, label: string) => JSON.stringify({image_url: `../../../images/${p}`, label})
    const train = t.dataFiles.find((f) => f.fileName.endsWith('train_annotations.jsonl'))!.text
    const valid = t.dataFiles.find((f) => f.fileName.endsWith('validation_annotations.jsonl'))!.text
    expect(train).toBe([line('cat/c1.png', 'cat'), line('cat/c2.png', 'cat'), line('cat/c3.jpg', 'cat'), line('cat/c4.PNG', 'cat'), line('cat/c6.png', 'cat'), line('dog/d1.jpeg', 'dog'), line('dog/d2.png', 'dog')].join('\n') + '\n')
    expect(valid).toBe(line('cat/c5.png', 'cat') + '\n')
    expect(t.summary).toEqual({classes: 2, training: 7, validation: 1})
    expect(t.warnings.join('\n')).toMatch(/1 file\(s\) directly in the folder were ignored/)
    expect(t.warnings.join('\n')).toMatch(/cat: 1 entry that is not an image/)
    const mltable = parse(JSON.stringify(t.documents[0].content.data))
    expect(mltable.paths).toEqual([{file: './train_annotations.jsonl'}])
    expect(mltable.transformations[1]).toEqual({convert_column_types: [{columns: 'image_url', column_type: 'stream_info'}]})
  })

  it('uses the upload prefix for image_url when given', async () => {
    const work = await tempDir()
    tree(join(work, 'i'), {a: ['1.png'], b: ['2.png']})
    const t = buildTrainingData(join(work, 'i'), join(work, 'o'), 5, 'azureml://datastores/workspaceblobstore/paths/i')
    expect(t.dataFiles[0].text).toBe('{"image_url":"azureml://datastores/workspaceblobstore/paths/i/a/1.png","label":"a"}\n{"image_url":"azureml://datastores/workspaceblobstore/paths/i/b/2.png","label":"b"}\n')
  })

  it('refuses a tree with fewer than two classes, and a missing folder', async () => {
    const work = await tempDir()
    tree(join(work, 'one'), {a: ['1.png']})
    expect(() => buildTrainingData(join(work, 'one'), work, 5)).toThrow(InvalidInputError)
    expect(() => buildTrainingData(join(work, 'missing'), work, 5)).toThrow(UsageError)
  })

  it('the finetune YAML points at the MLTable folders it wrote, and the files land beside it', async () => {
    const work = await tempDir()
    tree(join(work, 'imgs'), {a: ['1.png', '2.png', '3.png', '4.png', '5.png'], b: ['6.png']})
    const {result, texts} = await generate({kind: 'finetune', asset: ASSET, trainData: 'imgs', out: 'ft', cwd: work})
    await writeGenerated(result, texts, 'ft', work)
    const p = parse(readFileSync(join(work, 'ft/finetune-pipeline.yaml'), 'utf8'))
    expect(p.inputs.training_data).toEqual({path: './data/training-mltable-folder', type: 'mltable'})
    expect(p.inputs.validation_data).toEqual({path: './data/validation-mltable-folder', type: 'mltable'})
    expect(readFileSync(join(work, 'ft/data/validation-mltable-folder/validation_annotations.jsonl'), 'utf8')).toBe('{"image_url":"../../../imgs/a/5.png","label":"a"}\n')
    expect(parse(readFileSync(join(work, 'ft/data/training-mltable-folder/MLTable'), 'utf8')).paths).toEqual([{file: './train_annotations.jsonl'}])
    expect(result.files.map((f) => f.status)).toEqual(['created', 'created', 'created', 'created', 'created'])
  })

  it('--train-data needs --out and a multiclass task', async () => {
    await expect(generate({kind: 'finetune', asset: ASSET, trainData: 'x'})).rejects.toThrow(/give --out/)
    await expect(generate({kind: 'finetune', asset: ASSET, trainData: 'x', out: 'o', multilabel: true})).rejects.toThrow(/multilabel/)
  })
})
