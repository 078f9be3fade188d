import {cp, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {InvalidInputError, UsageError} from '../../src/core/errors.js'
import {readModelAssetFacts} from '../../src/assets/asset.js'
import {tempDir} from '../helpers/tmp.js'

const FIX = 'test/fixtures/azureml-assets'
const LEGACY = `${FIX}/google-vit-base-patch16-224-legacy`
const CURRENT = `${FIX}/google-vit-base-patch16-224-current`

describe('readModelAssetFacts', () => {
  it('reads the current (system_metadata) form', async () => {
    const f = await readModelAssetFacts(CURRENT)
    expect(f.form).toBe('current')
    expect(f.name).toBe('google-vit-base-patch16-224')
    expect(f.version).toBe('18')
    expect(f.task).toBe('image-classification')
    expect(f.inferenceTasks).toEqual(['image-classification'])
    expect(f.finetuningTasks).toEqual(['image-classification'])
    expect(f.license).toBe('apache-2.0')
    expect(f.publisher).toBe('Google')
    expect(f.huggingFaceModelId).toBe('google/vit-base-patch16-224')
    expect(f.sharedComputeCapacityEnabled).toBe(true)
    expect(f.publishType).toBe('mlflow_model')
    expect(f.modelPath?.type).toBe('azureblob')
    expect(f.modelPath?.container_name).toBe('finetuning-image-models')
    expect(f.description).toMatch(/^#|\w/)
    expect(f.skus.inference?.allowList).toHaveLength(48)
    expect(f.skus.inference?.recommended).toHaveLength(48)
    expect(f.skus.inference?.minSkuSpec).toBe('2|0|14|28')
    expect(f.skus.finetune?.minSkuSpec).toBe('4|1|28|176')
    expect(f.skus.evaluation?.allowList).toHaveLength(11)
    expect(f.tags.training_dataset).toBe('imagenet-1k, imagenet-21k')
    expect(f.properties.SHA).toBe('2ddc9d4e473d7ba52128f0df4723e478fa14fb80')
  })

  it('reads the legacy (tags/properties) form to the same facts', async () => {
    const legacy = await readModelAssetFacts(LEGACY)
    const current = await readModelAssetFacts(CURRENT)
    expect(legacy.form).toBe('legacy')
    for (const k of ['name', 'version', 'task', 'license', 'publisher', 'huggingFaceModelId', 'sharedComputeCapacityEnabled', 'inferenceTasks', 'finetuningTasks', 'skus', 'publishType', 'modelPath'] as const) {
      expect(legacy[k], k).toEqual(current[k])
    }
    // Comma-separated recommended SKUs become a list.
    expect(legacy.skus.finetune?.recommended[0]).toBe('Standard_NC4as_T4_v3')
    expect(legacy.skus.finetune?.recommended).toHaveLength(11)
  })

  it('lets system_metadata win over a legacy key, and keeps the legacy value when system_metadata is empty', async () => {
    const dir = await tempDir()
    await cp(LEGACY, dir, {recursive: true})
    const spec = `name: m1\nversion: 3\ntags:\n  license: mit\n  task: image-classification\n  inference_compute_allow_list: [Standard_DS3_v2]\nproperties:\n  inference-min-sku-spec: 4|0|14|28\nsystem_metadata:\n  license: apache-2.0\n  tasks:\n    inferenceTasks: []\n  SKU:\n    inferenceMinSkuSpec: 2|0|14|28\n`
    await writeFile(join(dir, 'spec.yaml'), spec)
    const f = await readModelAssetFacts(dir)
    expect(f.license).toBe('apache-2.0')
    expect(f.task).toBe('image-classification')
    expect(f.skus.inference?.minSkuSpec).toBe('2|0|14|28')
    expect(f.skus.inference?.allowList).toEqual(['Standard_DS3_v2'])
    expect(f.version).toBe('3')
  })

  it('names the file when spec.yaml cannot be parsed', async () => {
    const dir = await tempDir()
    await cp(CURRENT, dir, {recursive: true})
    await writeFile(join(dir, 'spec.yaml'), 'name: [unclosed\n')
    const err = await readModelAssetFacts(dir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidInputError)
    expect((err as InvalidInputError).message).toContain('spec.yaml')
    expect((err as InvalidInputError).file).toBe(join(dir, 'spec.yaml'))
  })

  it('names asset.yaml when it is missing or broken, and a missing folder is a usage error', async () => {
    const dir = await tempDir()
    const e1 = await readModelAssetFacts(dir).catch((e: unknown) => e)
    expect(e1).toBeInstanceOf(InvalidInputError)
    expect((e1 as Error).message).toContain('asset.yaml')
    await writeFile(join(dir, 'asset.yaml'), 'type: model\ntype: model\n')
    const e2 = await readModelAssetFacts(dir).catch((e: unknown) => e)
    expect((e2 as Error).message).toMatch(/asset\.yaml.*duplicate key/)
    const e3 = await readModelAssetFacts(join(dir, 'nope')).catch((e: unknown) => e)
    expect(e3).toBeInstanceOf(UsageError)
  })
})
