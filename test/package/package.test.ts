import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {readFile, readdir, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {packageModel} from '../../src/package/package.js'
import {validatePaths} from '../../src/assets/validate.js'
import {tempDir} from '../helpers/tmp.js'

const FIXTURES = join(import.meta.dirname, '..', 'fixtures')
const TINY = join(FIXTURES, 'vit-tiny')
const REAL_ASSET = join(FIXTURES, 'azureml-assets', 'google-vit-base-patch16-224-current')

/** Every file under dir, relative, '/'-separated, computed here without the code under test. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(join(dir, prefix), {withFileTypes: true})) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...(await walk(dir, rel)))
    else out.push(rel)
  }
  return out
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

async function yamlFile(path: string): Promise<Record<string, unknown>> {
  return parse(await readFile(path, 'utf8')) as Record<string, unknown>
}

describe('packageModel layout and content', () => {
  it('lays out mlflow_model_folder, asset and manifest as the registered ViT', async () => {
    const out = join(await tempDir(), 'pkg')
    const r = await packageModel(TINY, out, {name: 'vit-tiny-fridge', version: '3'})
    expect((await walk(out)).sort()).toEqual(
      [
        'asset/MLmodel',
        'asset/asset.yaml',
        'asset/description.md',
        'asset/model.yaml',
        'asset/spec.yaml',
        'manifest.json',
        'mlflow_model_folder/MLmodel',
        'mlflow_model_folder/components/image_processor/preprocessor_config.json',
        'mlflow_model_folder/conda.yaml',
        'mlflow_model_folder/model/config.json',
        'mlflow_model_folder/model/model.safetensors',
        'mlflow_model_folder/python_env.yaml',
        'mlflow_model_folder/requirements.txt',
      ].sort(),
    )
    // The canonical Hugging Face files: weights and preprocessor byte for byte, config.json the same JSON.
    for (const [inPkg, inSrc] of [
      ['mlflow_model_folder/model/model.safetensors', 'model.safetensors'],
      ['mlflow_model_folder/components/image_processor/preprocessor_config.json', 'preprocessor_config.json'],
    ]) {
      expect(Buffer.compare(await readFile(join(out, inPkg)), await readFile(join(TINY, inSrc))), inPkg).toBe(0)
    }
    expect(JSON.parse(await readFile(join(out, 'mlflow_model_folder/model/config.json'), 'utf8'))).toEqual(
      JSON.parse(await readFile(join(TINY, 'config.json'), 'utf8')),
    )
    expect(r.name).toBe('vit-tiny-fridge')
    expect(r.version).toBe('3')
    expect(r.numLabels).toBe(10)
    expect(validateWithSchema('package-result.schema.json', r)).toEqual({state: 'ok', data: r})
  })

  it('writes an MLmodel with the real ViT asset’s transformers flavor, signature and a true model_size_bytes', async () => {
    const out = join(await tempDir(), 'pkg')
    await packageModel(TINY, out, {name: 'vit-tiny-fridge', version: '1'})
    const mlmodel = await yamlFile(join(out, 'mlflow_model_folder/MLmodel'))
    const real = await yamlFile(join(REAL_ASSET, 'MLmodel'))
    type Flavors = {python_function: Record<string, unknown>; transformers: Record<string, unknown>}
    const flavors = mlmodel.flavors as Flavors
    const realFlavors = real.flavors as Flavors
    expect(flavors.python_function).toEqual(realFlavors.python_function)
    expect({...flavors.transformers, source_model_name: 'x'}).toEqual({...realFlavors.transformers, source_model_name: 'x'})
    expect(flavors.transformers.source_model_name).toBe('vit-tiny-fridge')
    expect(mlmodel.signature).toEqual(real.signature)
    expect(mlmodel.mlflow_version).toBe(real.mlflow_version)
    expect(mlmodel.metadata).toEqual({...(real.metadata as object), base_model_name: 'vit-tiny-fridge'})
    expect(mlmodel.model_uuid).toMatch(/^[0-9a-f]{32}$/)
    expect(mlmodel.utc_time_created).toBe('1970-01-01 00:00:00.000000')

    // model_size_bytes: every file of mlflow_model_folder but MLmodel, summed here independently.
    let total = 0
    for (const rel of await walk(join(out, 'mlflow_model_folder'))) if (rel !== 'MLmodel') total += (await stat(join(out, 'mlflow_model_folder', rel))).size
    expect(mlmodel.model_size_bytes).toBe(total)
    expect(total).toBeGreaterThan((await stat(join(TINY, 'model.safetensors'))).size)
    // The asset's MLmodel is a copy of the model folder's.
    expect(await readFile(join(out, 'asset/MLmodel'), 'utf8')).toBe(await readFile(join(out, 'mlflow_model_folder/MLmodel'), 'utf8'))

    const conda = await yamlFile(join(out, 'mlflow_model_folder/conda.yaml'))
    const pip = ((conda.dependencies as unknown[]).find((d) => typeof d === 'object') as {pip: string[]}).pip
    expect(pip).toContain('mlflow==2.10.2')
    expect(pip).toContain('transformers==4.40.1')
    expect(pip).toContain('azureml-ai-monitoring')
    expect(conda.dependencies).toContain('python=3.8.19')
    const pyenv = await yamlFile(join(out, 'mlflow_model_folder/python_env.yaml'))
    expect(pyenv).toMatchObject({python: '3.8.19', dependencies: ['-r requirements.txt']})
    expect((await readFile(join(out, 'mlflow_model_folder/requirements.txt'), 'utf8')).split('\n')).toContain('transformers==4.40.1')
  })

  it('writes spec.yaml in system_metadata form with the real asset’s SKUs, task, license and publisher by default', async () => {
    const out = join(await tempDir(), 'pkg')
    await packageModel(TINY, out, {name: 'vit-tiny-fridge', version: '7'})
    const spec = await yamlFile(join(out, 'asset/spec.yaml'))
    const real = await yamlFile(join(REAL_ASSET, 'spec.yaml'))
    expect(spec.name).toBe('vit-tiny-fridge')
    expect(spec.version).toBe(7)
    const sm = spec.system_metadata as Record<string, unknown>
    const realSm = real.system_metadata as Record<string, unknown>
    expect(sm.SKU).toEqual(realSm.SKU)
    expect(sm.supportedComputes).toEqual(realSm.supportedComputes)
    expect(sm.tasks).toEqual(realSm.tasks)
    expect(sm.license).toBe('apache-2.0')
    expect(sm.publisher).toBe('Google')
    expect(sm.sharedComputeCapacityEnabled).toBe(true)
    // Facts of google's weights are not claimed for other weights.
    expect(sm.huggingFaceModelId).toBeUndefined()
    expect(sm.hiddenLayerScanned).toBeUndefined()
    expect(spec.properties).toBeUndefined()
    expect((spec.tags as Record<string, unknown>).training_dataset).toBeUndefined()
    expect(spec.tags).toMatchObject({model_specific_defaults: {apply_deepspeed: 'true', apply_ort: 'true'}})
    // No legacy keys.
    expect(spec.tags).not.toHaveProperty('license')
    expect(spec.tags).not.toHaveProperty('task')

    expect(await yamlFile(join(out, 'asset/asset.yaml'))).toEqual({extra_config: 'model.yaml', spec: 'spec.yaml', type: 'model', categories: ['Foundation Models']})
    expect(await yamlFile(join(out, 'asset/model.yaml'))).toEqual({
      path: {type: 'local', uri: '../mlflow_model_folder'},
      publish: {description: 'description.md', type: 'mlflow_model'},
    })
  })

  it('takes name, version, task, license, publisher and the blob location from options, and a spec template', async () => {
    const dir = await tempDir()
    const template = join(dir, 'spec.yaml')
    await writeFile(
      template,
      [
        'name: from-template',
        'version: 4',
        'system_metadata:',
        '  sharedComputeCapacityEnabled: true',
        '  license: MIT',
        '  publisher: Contoso',
        '  tasks: {inferenceTasks: [image-classification]}',
        '  SKU: {inferenceRecommendedSkus: [Standard_DS3_v2], inferenceMinSkuSpec: 4|0|14|28}',
        '  supportedComputes: {inferenceComputes: [Standard_DS3_v2]}',
        '',
      ].join('\n'),
    )
    const out = join(dir, 'pkg')
    const r = await packageModel(TINY, out, {
      specTemplate: template,
      publisher: 'Fabrikam',
      huggingFaceModelId: 'fabrikam/vit-tiny',
      location: {type: 'azureblob', storageName: 'acct', containerName: 'models', containerPath: 'vit-tiny/4/mlflow_model_folder'},
    })
    expect([r.name, r.version]).toEqual(['from-template', '4'])
    const spec = await yamlFile(join(out, 'asset/spec.yaml'))
    expect(spec.system_metadata).toMatchObject({license: 'MIT', publisher: 'Fabrikam', huggingFaceModelId: 'fabrikam/vit-tiny'})
    expect((spec.system_metadata as {SKU: unknown}).SKU).toEqual({inferenceRecommendedSkus: ['Standard_DS3_v2'], inferenceMinSkuSpec: '4|0|14|28'})
    expect((await yamlFile(join(out, 'asset/model.yaml'))).path).toEqual({
      container_name: 'models',
      container_path: 'vit-tiny/4/mlflow_model_folder',
      storage_name: 'acct',
      type: 'azureblob',
    })
    const mlmodel = await yamlFile(join(out, 'mlflow_model_folder/MLmodel'))
    expect((mlmodel.metadata as Record<string, unknown>).base_model_name).toBe('fabrikam/vit-tiny')
  })

  it('fills description.md with the model’s facts', async () => {
    const out = join(await tempDir(), 'pkg')
    await packageModel(TINY, out, {name: 'vit-tiny-fridge', version: '1', license: 'MIT'})
    const text = await readFile(join(out, 'asset/description.md'), 'utf8')
    const weights = await readFile(join(TINY, 'model.safetensors'))
    expect(text).toContain(sha256(weights))
    expect(text).toContain('2 layers, hidden size 48, 3 attention heads, MLP size 96')
    expect(text).toContain('3x224x224 pixels (196 patches + [CLS] = 197 tokens)')
    expect(text).toContain('|Classes|10: `can`, `carton`, `milk_bottle`, `water_bottle`, `apple`, ...|')
    expect(text).toContain('# License\n\nMIT\n')
    expect(text).toContain('{"label": "can", "score": 0.91}')
    expect(text).not.toMatch(/\{\{/)
    expect(text).not.toContain('ONNX')
    await packageModel(TINY, out, {name: 'vit-tiny-fridge', version: '1', onnx: true, force: true})
    expect(await readFile(join(out, 'asset/description.md'), 'utf8')).toContain(
      '|ONNX|`model.onnx`, opset 17: input `pixel_values` [batch, 3, 224, 224] float32, output `logits` [batch, 10]|',
    )
  })
})

describe('manifest.json', () => {
  it('lists every other file with its size and sha256, sorted by path, in exactly the agreed shape', async () => {
    const out = join(await tempDir(), 'pkg')
    await packageModel(TINY, out, {name: 'vit-tiny-fridge', version: '2', onnx: true})
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      schemaVersion: number
      name: string
      version: string
      files: Array<{path: string; size: number; sha256: string}>
    }
    expect(Object.keys(manifest)).toEqual(['schemaVersion', 'name', 'version', 'files'])
    expect([manifest.schemaVersion, manifest.name, manifest.version]).toEqual([1, 'vit-tiny-fridge', '2'])
    const files = (await walk(out)).filter((f) => f !== 'manifest.json')
    files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    expect(manifest.files.map((f) => f.path)).toEqual(files)
    expect(files).toContain('mlflow_model_folder/model.onnx')
    for (const f of manifest.files) {
      expect(Object.keys(f)).toEqual(['path', 'size', 'sha256'])
      const bytes = await readFile(join(out, f.path))
      expect(f.size, f.path).toBe(bytes.length)
      expect(f.sha256, f.path).toBe(sha256(bytes))
    }
    expect(validateWithSchema('manifest.schema.json', manifest).state).toBe('ok')
  })
})

describe('deterministic and atomic output', () => {
  it('two runs give byte-identical folders (with --onnx)', async () => {
    const dir = await tempDir()
    await packageModel(TINY, join(dir, 'a'), {name: 'vit-tiny-fridge', version: '1', onnx: true})
    await packageModel(TINY, join(dir, 'b'), {name: 'vit-tiny-fridge', version: '1', onnx: true})
    const files = await walk(join(dir, 'a'))
    expect(await walk(join(dir, 'b'))).toEqual(files)
    for (const f of files) expect(Buffer.compare(await readFile(join(dir, 'a', f)), await readFile(join(dir, 'b', f))), f).toBe(0)
  })

  it('stamps utc_time_created from --created or SOURCE_DATE_EPOCH', async () => {
    const dir = await tempDir()
    await packageModel(TINY, join(dir, 'a'), {name: 'vit-tiny-fridge', version: '1', created: '2024-05-03T04:19:08.175Z'})
    expect((await yamlFile(join(dir, 'a/mlflow_model_folder/MLmodel'))).utc_time_created).toBe('2024-05-03 04:19:08.175000')
    await expect(packageModel(TINY, join(dir, 'b'), {name: 'x', version: '1', created: 'yesterday'})).rejects.toThrow(/--created "yesterday": not a time/)
  })

  it('leaves nothing behind when the checkpoint is bad, and keeps an existing package', async () => {
    const dir = await tempDir()
    const src = join(dir, 'src')
    const out = join(dir, 'pkg')
    await packageModel(TINY, out, {name: 'vit-tiny-fridge', version: '1'})
    const before = await readFile(join(out, 'manifest.json'), 'utf8')
    // A config that disagrees with the weights: 9 labels for a 10-class head.
    const {mkdir, copyFile} = await import('node:fs/promises')
    await mkdir(src)
    for (const f of ['model.safetensors', 'preprocessor_config.json']) await copyFile(join(TINY, f), join(src, f))
    const config = JSON.parse(await readFile(join(TINY, 'config.json'), 'utf8')) as {id2label: Record<string, string>}
    delete config.id2label['9']
    await writeFile(join(src, 'config.json'), JSON.stringify(config))
    await expect(packageModel(src, out, {name: 'vit-tiny-fridge', version: '2', force: true})).rejects.toThrow(
      /tensor 'classifier.weight' has shape \[10, 48\], expected \[9, 48\]/,
    )
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(before)
    expect((await readdir(dir)).sort()).toEqual(['pkg', 'src'])
  })

  it('refuses an output folder that would replace the source', async () => {
    const dir = await tempDir()
    const {cp} = await import('node:fs/promises')
    await cp(TINY, join(dir, 'model'), {recursive: true})
    for (const out of [join(dir, 'model'), dir]) {
      await expect(packageModel(join(dir, 'model'), out, {name: 'vit-tiny-fridge'})).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/would replace the source/)})
    }
    expect(existsSync(join(dir, 'model/model.safetensors'))).toBe(true)
  })

  it('refuses a bad name or version before writing anything', async () => {
    const dir = await tempDir()
    await expect(packageModel(TINY, join(dir, 'pkg'), {name: '1bad name', version: '1'})).rejects.toThrow(/does not match azureml-assets' .*\(starts with a letter\)/)
    await expect(packageModel(TINY, join(dir, 'pkg'), {name: 'vit.base', version: '1'})).rejects.toThrow(/"vit\.base" is refused by Azure ML: .*no '\.'/)
    await expect(packageModel(TINY, join(dir, 'pkg'), {name: 'ok-name', version: 'v2'})).rejects.toThrow(/must be a positive integer or auto/)
    expect(existsSync(join(dir, 'pkg'))).toBe(false)
  })
})

describe('every checkpoint format', () => {
  it('packages the PyTorch, timm and JAX checkpoints of a fixture into the same model folder', async () => {
    const dir = await tempDir()
    await packageModel(TINY, join(dir, 'hf'), {name: 'vit-tiny-fridge', version: '1'})
    const reference = await readFile(join(dir, 'hf/mlflow_model_folder/model/model.safetensors'))
    for (const [file, format] of [
      ['pytorch_model.bin', 'pytorch'],
      ['timm.pth', 'timm'],
      ['vit_jax.npz', 'jax'],
    ]) {
      const out = join(dir, format)
      const r = await packageModel(join(TINY, file), out, {name: 'vit-tiny-fridge', version: '1'})
      expect(r.sourceFormat).toBe(format)
      expect(Buffer.compare(await readFile(join(out, 'mlflow_model_folder/model/model.safetensors')), reference), file).toBe(0)
      // Labels and geometry come from the config.json beside the weights.
      expect(JSON.parse(await readFile(join(out, 'mlflow_model_folder/model/config.json'), 'utf8'))).toMatchObject({
        hidden_size: 48,
        id2label: {'0': 'can', '9': 'spoon'},
      })
    }
  })

  it('packages float16 weights: MLmodel says torch.float16 and model_size_bytes shrinks with them', async () => {
    const dir = await tempDir()
    const r32 = await packageModel(TINY, join(dir, 'f32'), {name: 'vit-tiny-fridge', version: '1'})
    const r16 = await packageModel(TINY, join(dir, 'f16'), {name: 'vit-tiny-fridge', version: '1', convert: {dtype: 'float16'}, onnx: true})
    expect(r16.dtype).toBe('F16')
    const mlmodel = await yamlFile(join(dir, 'f16/mlflow_model_folder/MLmodel'))
    expect((mlmodel.flavors as {transformers: {torch_dtype: string}}).transformers.torch_dtype).toBe('torch.float16')
    const w16 = (await stat(join(dir, 'f16/mlflow_model_folder/model/model.safetensors'))).size
    const w32 = (await stat(join(dir, 'f32/mlflow_model_folder/model/model.safetensors'))).size
    const onnx = (await stat(join(dir, 'f16/mlflow_model_folder/model.onnx'))).size
    expect(r32.modelSizeBytes - r16.modelSizeBytes + onnx).toBe(w32 - w16)
  })
})

describe('the asset passes vitrine validate', () => {
  const validateErrors = async (assetDir: string): Promise<string[]> => {
    const r = await validatePaths([assetDir])
    expect(r.assets).toHaveLength(1)
    return r.assets[0].diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)
  }

  it('with the defaults, with a blob location and with SKUs from flags: 0 errors', async () => {
    const dir = await tempDir()
    const r1 = await packageModel(TINY, join(dir, 'a'), {name: 'vit-tiny-fridge', version: '1'})
    expect(r1.validation).toEqual({errors: 0, warnings: 0, warningMessages: []})
    expect(await validateErrors(join(dir, 'a/asset'))).toEqual([])

    await packageModel(TINY, join(dir, 'b'), {
      name: 'vit-tiny-fridge',
      version: '2',
      location: {type: 'azureblob', storageName: 'acct', containerName: 'models', containerPath: 'x/mlflow_model_folder'},
      skuNames: {inference: ['Standard_DS3_v2', 'Standard_E4s_v3'], finetune: ['Standard_NC4as_T4_v3'], evaluation: ['Standard_NC4as_T4_v3']},
    })
    expect(await validateErrors(join(dir, 'b/asset'))).toEqual([])
    const sm = (await yamlFile(join(dir, 'b/asset/spec.yaml'))).system_metadata as {SKU: Record<string, unknown>; supportedComputes: Record<string, unknown>}
    // DS3_v2 is 4 vCPU / 0 GPU / 14 GiB / 28 GiB disk, E4s_v3 4 / 0 / 32 / 64: the per-field minimum is DS3_v2's.
    expect(sm.SKU.inferenceMinSkuSpec).toBe('4|0|14|28')
    expect(sm.SKU.inferenceRecommendedSkus).toEqual(['Standard_DS3_v2', 'Standard_E4s_v3'])
    expect(sm.supportedComputes.inferenceComputes).toEqual(['Standard_DS3_v2', 'Standard_E4s_v3'])
    expect(sm.SKU.finetuneMinSkuSpec).toBe('4|1|28|176')
  })

  it('refuses an unknown SKU with a suggestion, before writing', async () => {
    const dir = await tempDir()
    await expect(packageModel(TINY, join(dir, 'pkg'), {name: 'vit-tiny-fridge', skuNames: {inference: ['Standard_DS3_V2']}})).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/--inference-sku: unknown SKU Standard_DS3_V2 \(did you mean Standard_DS3_v2\?\)/),
    })
    expect(existsSync(join(dir, 'pkg'))).toBe(false)
  })

  it('refuses to write a package whose asset would fail validation, naming file, line and rule', async () => {
    const dir = await tempDir()
    const template = join(dir, 'spec.yaml')
    // Standard_DS11_v2 is a real VM size but not an inference SKU azureml-assets supports.
    await writeFile(
      template,
      [
        'name: bad-skus',
        'version: 1',
        'system_metadata:',
        '  sharedComputeCapacityEnabled: true',
        '  license: MIT',
        '  tasks: {inferenceTasks: [image-classification]}',
        '',
      ].join('\n'),
    )
    await expect(packageModel(TINY, join(dir, 'pkg'), {specTemplate: template, skuNames: {inference: ['Standard_DS11_v2']}})).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/would not pass vitrine validate:\n {2}asset\/spec\.yaml:\d+:\d+ .*Standard_DS11_v2/),
    })
    expect((await readdir(dir)).sort()).toEqual(['spec.yaml'])
  })
})
