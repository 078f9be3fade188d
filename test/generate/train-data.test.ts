import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

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

/** Every image_url of every JSONL under `dir` (recursively), as the file it names, with the file's bytes. */
function jsonlImages(dir: string): Array<{jsonl: string; image: string; exists: boolean}> {
  const out: Array<{jsonl: string; image: string; exists: boolean}> = []
  for (const name of readdirSync(dir, {recursive: true}) as string[]) {
    if (!name.endsWith('.jsonl')) continue
    const file = join(dir, name)
    for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
      const image = (JSON.parse(line) as {image_url: string}).image_url
      out.push({jsonl: name, image, exists: existsSync(join(dirname(file), image))})
    }
  }
  return out
}

describe('--train-data: a JSONL, an MLTable folder or a folder per class as MLTable folders with their images', () => {
  it('splits one image in five per class to validation, in name order, and copies each image into its folder', async () => {
    const work = await tempDir()
    const images = join(work, 'images')
    tree(images, {cat: ['c5.png', 'c1.png', 'c3.jpg', 'c2.png', 'c4.PNG', 'c6.png', 'notes.txt'], dog: ['d1.jpeg', 'd2.png']})
    const t = await buildTrainingData(images, 5, 'image-classification')
    // Name order of cat: c1 c2 c3 c4 c5 c6 -> the fifth (c5) goes to validation.
    const line = (p: string, label: string) => JSON.stringify({image_url: p, label})
    const train = t.dataFiles.find((f) => f.fileName.endsWith('train_annotations.jsonl'))!.text
    const valid = t.dataFiles.find((f) => f.fileName.endsWith('validation_annotations.jsonl'))!.text
    expect(train).toBe([line('cat/c1.png', 'cat'), line('cat/c2.png', 'cat'), line('cat/c3.jpg', 'cat'), line('cat/c4.PNG', 'cat'), line('cat/c6.png', 'cat'), line('dog/d1.jpeg', 'dog'), line('dog/d2.png', 'dog')].join('\n') + '\n')
    expect(valid).toBe(line('cat/c5.png', 'cat') + '\n')
    expect(t.copies).toContainEqual({fileName: 'data/validation-mltable-folder/cat/c5.png', from: join(images, 'cat/c5.png')})
    expect(t.copies).toHaveLength(8)
    expect(t.summary).toEqual({classes: 2, training: 7, validation: 1})
    expect(t.warnings.join('\n')).toMatch(/1 entry that is not an image was ignored/)
    const mltable = parse(JSON.stringify(t.documents[0].content.data))
    expect(mltable.paths).toEqual([{file: './train_annotations.jsonl'}])
    expect(mltable.transformations[1]).toEqual({convert_column_types: [{columns: 'image_url', column_type: 'stream_info'}]})
  })

  it('uses the upload prefix for image_url when given, and copies nothing', async () => {
    const work = await tempDir()
    tree(join(work, 'i'), {a: ['1.png'], b: ['2.png']})
    const t = await buildTrainingData(join(work, 'i'), 5, 'image-classification', 'azureml://datastores/workspaceblobstore/paths/i')
    expect(t.dataFiles[0].text).toBe('{"image_url":"azureml://datastores/workspaceblobstore/paths/i/a/1.png","label":"a"}\n{"image_url":"azureml://datastores/workspaceblobstore/paths/i/b/2.png","label":"b"}\n')
    expect(t.copies).toEqual([])
  })

  it('refuses a tree with fewer than two classes, and a missing folder', async () => {
    const work = await tempDir()
    tree(join(work, 'one'), {a: ['1.png']})
    await expect(buildTrainingData(join(work, 'one'), 5, 'image-classification')).rejects.toThrow(InvalidInputError)
    await expect(buildTrainingData(join(work, 'missing'), 5, 'image-classification')).rejects.toThrow(UsageError)
  })

  it('a JSONL with a path that would leave its folder: an error naming the file and line', async () => {
    const work = await tempDir()
    tree(join(work, 'd/imgs'), {a: ['1.png'], b: ['2.png']})
    writeFileSync(join(work, 'outside.png'), 'x')
    writeFileSync(join(work, 'd/train.jsonl'), '{"image_url":"imgs/a/1.png","label":"a"}\n{"image_url":"imgs/../../outside.png","label":"b"}\n')
    const err = await buildTrainingData(join(work, 'd/train.jsonl'), 5, 'image-classification').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidInputError)
    expect((err as Error).message).toMatch(/train\.jsonl:2: image_url imgs\/\.\.\/\.\.\/outside\.png would leave the data's folder/)
    writeFileSync(join(work, 'd/abs.jsonl'), `{"image_url":${JSON.stringify(join(work, 'd/imgs/a/1.png'))},"label":"a"}\n`)
    await expect(buildTrainingData(join(work, 'd/abs.jsonl'), 5, 'image-classification')).rejects.toThrow(/abs\.jsonl:1: .*would leave the data's folder/)
  })

  it('the finetune YAML points at the MLTable folders it wrote, which hold every image their JSONL names (from a JSONL)', async () => {
    const work = await tempDir()
    tree(join(work, 'set/imgs'), {a: ['1.png', '2.png', '3.png', '4.png', '5.png'], b: ['6.png', '7.png']})
    const rows = ['a/1', 'a/2', 'a/3', 'a/4', 'a/5', 'b/6', 'b/7'].map((p) => JSON.stringify({image_url: `imgs/${p}.png`, label: p[0]}))
    writeFileSync(join(work, 'set/train.jsonl'), rows.join('\n') + '\n')
    const {result, texts, copies} = await generate({kind: 'finetune', asset: ASSET, trainData: 'set/train.jsonl', out: 'ft', cwd: work})
    await writeGenerated(result, texts, 'ft', work, copies)
    const p = parse(readFileSync(join(work, 'ft/finetune-pipeline.yaml'), 'utf8'))
    expect(p.inputs.training_data).toEqual({path: './data/training-mltable-folder', type: 'mltable'})
    expect(p.inputs.validation_data).toEqual({path: './data/validation-mltable-folder', type: 'mltable'})
    expect(readFileSync(join(work, 'ft/data/validation-mltable-folder/validation_annotations.jsonl'), 'utf8')).toBe('{"image_url":"imgs/a/5.png","label":"a"}\n')
    expect(parse(readFileSync(join(work, 'ft/data/training-mltable-folder/MLTable'), 'utf8')).paths).toEqual([{file: './train_annotations.jsonl'}])
    const named = jsonlImages(join(work, 'ft/data'))
    expect(named).toHaveLength(7)
    expect(named.filter((n) => !n.exists)).toEqual([])
    expect(result.files.filter((f) => f.kind === 'image')).toHaveLength(7)
    expect(result.files.every((f) => f.status === 'created')).toBe(true)
    // A second run over the same output: every file unchanged.
    const again = await generate({kind: 'finetune', asset: ASSET, trainData: 'set/train.jsonl', out: 'ft', cwd: work})
    await writeGenerated(again.result, again.texts, 'ft', work, again.copies)
    expect(again.result.files.every((f) => f.status === 'unchanged')).toBe(true)
  })

  it('--train-data needs --out', async () => {
    await expect(generate({kind: 'finetune', asset: ASSET, trainData: 'x'})).rejects.toThrow(/give --out/)
  })
})
