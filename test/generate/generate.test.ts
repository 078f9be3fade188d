import {cpSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {InvalidInputError, UsageError} from '../../src/core/errors.js'
import {generate, writeGenerated} from '../../src/generate/generate.js'
import {tempDir} from '../helpers/tmp.js'

const ROOT = new URL('../..', import.meta.url).pathname
const CURRENT = join(ROOT, 'test/fixtures/azureml-assets/google-vit-base-patch16-224-current')

async function copyAsset(): Promise<string> {
  const dir = join(await tempDir(), 'asset')
  cpSync(CURRENT, dir, {recursive: true})
  return dir
}

describe('generate', () => {
  it('refuses an asset that fails validation, listing the validator diagnostics', async () => {
    const dir = await copyAsset()
    const spec = join(dir, 'spec.yaml')
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('inferenceMinSkuSpec: 2|0|14|28', 'inferenceMinSkuSpec: 4|0|14|28'))
    const err = await generate({kind: 'online-endpoint', asset: dir}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidInputError)
    expect(String((err as Error).message)).toMatch(/fails validation/)
    expect(String((err as Error).message)).toMatch(/spec\.yaml:\d+:\d+ min-sku-spec-mismatch/)
  })

  it('refuses an unknown KIND and a missing asset folder as usage errors', async () => {
    await expect(generate({kind: 'online', asset: CURRENT})).rejects.toThrow(UsageError)
    await expect(generate({kind: 'online', asset: CURRENT})).rejects.toThrow(/expected one of online-endpoint, batch-endpoint, finetune, evaluation, model/)
    await expect(generate({kind: 'model', asset: '/no/such/asset'})).rejects.toThrow(UsageError)
  })

  it('names the registry and the compute where they are asked for', async () => {
    const {texts} = await generate({kind: 'batch-endpoint', asset: CURRENT, registry: 'my-reg', compute: 'cpu-small'})
    const d = parse(texts.get('batch-deployment.yaml')!)
    expect(d.model).toBe('azureml://registries/my-reg/models/google-vit-base-patch16-224/versions/18')
    expect(d.compute).toBe('azureml:cpu-small')
    await expect(generate({kind: 'batch-endpoint', asset: CURRENT, compute: 'bad name'})).rejects.toThrow(UsageError)
  })

  it('a version of auto references the latest label', async () => {
    const dir = await copyAsset()
    const spec = join(dir, 'spec.yaml')
    writeFileSync(spec, readFileSync(spec, 'utf8').replace(/^version: 18$/m, 'version: auto'))
    const {texts, result} = await generate({kind: 'online-endpoint', asset: dir, skipValidation: true})
    expect(parse(texts.get('online-deployment.yaml')!).model).toBe('azureml://registries/azureml/models/google-vit-base-patch16-224/labels/latest')
    const model = await generate({kind: 'model', asset: dir, skipValidation: true})
    expect(parse(model.texts.get('model-version.yaml')!).version).toBeUndefined()
    expect(model.result.warnings.join()).toMatch(/version auto/)
    expect(result.asset.version).toBe('auto')
  })

  it('an instance type set at its full path is held to the allow list too', async () => {
    await expect(generate({kind: 'evaluation', asset: CURRENT, set: ['jobs.pipeline_component_job.inputs.instance_type=Standard_DS3_v2']})).rejects.toThrow(/not in google-vit-base-patch16-224's evaluation allow list/)
    const ok = await generate({kind: 'evaluation', asset: CURRENT, set: ['instance_type=Standard_NC6s_v3']})
    expect(parse(ok.texts.get('evaluation-pipeline.yaml')!).jobs.pipeline_component_job.inputs.instance_type).toBe('Standard_NC6s_v3')
    expect(ok.result.instanceType).toMatchObject({name: 'Standard_NC6s_v3', source: 'set', location: 'evaluation-pipeline.yaml: jobs.pipeline_component_job.inputs.instance_type'})
    const forced = await generate({kind: 'online-endpoint', asset: CURRENT, set: ['deployment.instance_type=Standard_DS1_v2'], allowSkuOutsideList: true})
    expect(parse(forced.texts.get('online-deployment.yaml')!).instance_type).toBe('Standard_DS1_v2')
    expect(forced.result.warnings.join('\n')).toMatch(/outside .* allow list/)
  })

  it('a renamed endpoint carries its deployment along', async () => {
    const {texts} = await generate({kind: 'online-endpoint', asset: CURRENT, set: ['endpoint.name=vit-prod']})
    expect(parse(texts.get('online-deployment.yaml')!).endpoint_name).toBe('vit-prod')
  })

  it('--set of a commented-out hyperparameter switches it on and drops its comment', async () => {
    const {texts} = await generate({kind: 'finetune', asset: CURRENT, set: ['jobs.huggingface_transformers_model_finetune_job.inputs.number_of_epochs=3']})
    const text = texts.get('finetune-pipeline.yaml')!
    expect(parse(text).jobs.huggingface_transformers_model_finetune_job.inputs.number_of_epochs).toBe(3)
    expect(text).not.toMatch(/#\s+number_of_epochs/)
    expect(text).toMatch(/#\s+learning_rate/)
  })

  it('--test-data: a JSONL, an MLTable folder or a folder per class becomes a uri_folder beside the YAML holding every image its JSONL names', async () => {
    const work = await tempDir()
    for (const p of ['a/1.png', 'a/2.png', 'b/3.png']) {
      mkdirSync(join(work, 'data/images', p, '..'), {recursive: true})
      writeFileSync(join(work, 'data/images', p), p)
    }
    writeFileSync(join(work, 'data/test.jsonl'), ['a/1', 'a/2', 'b/3'].map((p) => JSON.stringify({image_url: `images/${p}.png`, label: p[0]})).join('\n') + '\n')
    mkdirSync(join(work, 'data/mlt/pics'), {recursive: true})
    writeFileSync(join(work, 'data/mlt/pics/x.png'), 'x')
    writeFileSync(join(work, 'data/mlt/MLTable'), 'paths:\n  - file: ./a.jsonl\ntransformations:\n  - read_json_lines: {encoding: utf8}\n')
    writeFileSync(join(work, 'data/mlt/a.jsonl'), '{"image_url": "pics/x.png", "label": "a"}\n')
    const run = async (p: string) => {
      const r = await generate({kind: 'evaluation', asset: CURRENT, testData: p, out: 'eval', cwd: work})
      await writeGenerated(r.result, r.texts, 'eval', work, r.copies)
      return parse(r.texts.get('evaluation-pipeline.yaml')!).jobs.pipeline_component_job.inputs.test_data
    }
    // The evaluation component declares test_data as uri_folder: the folder of the MLTable, its JSONL and the images.
    const folder = join(work, 'eval/data/test-data-folder')
    const named = () =>
      readFileSync(join(folder, 'test_annotations.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as {image_url: string}).image_url)
    expect(await run('data/test.jsonl')).toEqual({path: './data/test-data-folder', type: 'uri_folder'})
    expect(named()).toEqual(['images/a/1.png', 'images/a/2.png', 'images/b/3.png'])
    for (const image of named()) expect(readFileSync(join(folder, image), 'utf8')).toBe(image.replace('images/', ''))
    expect(parse(readFileSync(join(folder, 'MLTable'), 'utf8')).paths).toEqual([{file: './test_annotations.jsonl'}])
    expect(await run('data/images')).toEqual({path: './data/test-data-folder', type: 'uri_folder'})
    expect(named()).toEqual(['a/1.png', 'a/2.png', 'b/3.png'])
    for (const image of named()) expect(readFileSync(join(folder, image), 'utf8')).toBe(image)
    expect(await run('data/mlt')).toEqual({path: './data/test-data-folder', type: 'uri_folder'})
    expect(named()).toEqual(['pics/x.png'])
    expect(readFileSync(join(folder, 'pics/x.png'), 'utf8')).toBe('x')
    await expect(run('data/nothing')).rejects.toThrow(UsageError)
    // A path that would leave the data's folder: an error naming the file and line.
    writeFileSync(join(work, 'data/escape.jsonl'), '{"image_url": "images/a/1.png", "label": "a"}\n{"image_url": "../outside.png", "label": "a"}\n')
    await expect(run('data/escape.jsonl')).rejects.toThrow(/escape\.jsonl:2: image_url \.\.\/outside\.png would leave the data's folder/)
    await expect(generate({kind: 'evaluation', asset: CURRENT, testData: 'data/test.jsonl', cwd: work})).rejects.toThrow(/give --out/)
  })

  it('model: a local weights folder is referenced relative to where the YAML goes', async () => {
    const dir = await copyAsset()
    mkdirSync(join(dir, 'mlflow_model_folder'))
    writeFileSync(join(dir, 'model.yaml'), 'path:\n  type: local\n  uri: ./mlflow_model_folder\npublish:\n  description: description.md\n  type: mlflow_model\n')
    const work = join(dir, '..')
    const written = await generate({kind: 'model', asset: 'asset', out: 'register', cwd: work})
    expect(parse(written.texts.get('model-version.yaml')!).path).toBe('../asset/mlflow_model_folder')
    const printed = await generate({kind: 'model', asset: 'asset', cwd: work, set: ['version=19', 'tags.stage=test']})
    const m = parse(printed.texts.get('model-version.yaml')!)
    expect([m.path, m.version, m.tags.stage]).toEqual(['./asset/mlflow_model_folder', 19, 'test'])
  })
})
