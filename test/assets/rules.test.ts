/**
 * Each rule on a mutated copy of the real ViT asset folders: the rule fires with its id, in the right file, at the
 * line of the node to fix, and no other rule fires. Expected lines are found in the mutated text by search, not
 * taken from the validator.
 */
import {cp, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import type {Diagnostic} from '../../src/assets/diagnostic.js'
import {validatePaths} from '../../src/assets/validate.js'
import {tempDir} from '../helpers/tmp.js'

const FIX = 'test/fixtures/azureml-assets'
type Form = 'current' | 'legacy'
type Edits = Partial<Record<'asset.yaml' | 'spec.yaml' | 'model.yaml', (text: string) => string>>

/** Replaces exactly one occurrence (the first) and fails loudly if the fixture no longer has it. */
function sub(from: string, to: string): (t: string) => string {
  return (t) => {
    expect(t.includes(from), `fixture text ${JSON.stringify(from)}`).toBe(true)
    return t.replace(from, to)
  }
}

/** 1-based line of the first line containing `needle` (after `after` when given). */
function lineOf(text: string, needle: string, after?: string): number {
  const lines = text.split('\n')
  const start = after ? lines.findIndex((l) => l.includes(after)) : 0
  const i = lines.findIndex((l, k) => k >= start && l.includes(needle))
  expect(i, `line with ${JSON.stringify(needle)}`).toBeGreaterThanOrEqual(0)
  return i + 1
}

async function copy(form: Form, edits: Edits = {}): Promise<{dir: string; texts: Record<string, string>}> {
  const dir = join(await tempDir(), `vit-${form}`)
  await cp(join(FIX, `google-vit-base-patch16-224-${form}`), dir, {recursive: true})
  const texts: Record<string, string> = {}
  for (const [file, edit] of Object.entries(edits)) {
    const t = edit!(await readFile(join(dir, file), 'utf8'))
    await writeFile(join(dir, file), t)
    texts[file] = t
  }
  return {dir, texts}
}

async function errorsOf(dir: string): Promise<Diagnostic[]> {
  const r = await validatePaths([dir])
  return r.assets.flatMap((a) => a.diagnostics).filter((d) => d.severity === 'error')
}

/** Exactly `rule` fired (once per expected line), at those lines of `file`. */
function expectOnly(errors: Diagnostic[], rule: string, file: string, lines: number[]): void {
  expect(errors.map((e) => e.rule), JSON.stringify(errors, null, 1)).toEqual(lines.map(() => rule))
  expect(errors.map((e) => e.line)).toEqual(lines)
  for (const e of errors) expect(e.file.endsWith(file), e.file).toBe(true)
}

describe('validate: the real folders', () => {
  it('both forms validate with 0 errors; the legacy one warns once', async () => {
    for (const form of ['current', 'legacy'] as const) {
      const r = await validatePaths([join(FIX, `google-vit-base-patch16-224-${form}`)])
      expect(r.summary.errors, form).toBe(0)
      expect(r.ok).toBe(true)
      expect(r.assets[0]).toMatchObject({type: 'model', name: 'google-vit-base-patch16-224', version: '18', ok: true})
      expect(r.assets[0].diagnostics.map((d) => d.rule)).toEqual(form === 'legacy' ? ['legacy-form'] : [])
    }
  })
})

describe('validate: system_metadata wins over legacy keys', () => {
  it('wrong legacy values under a right system_metadata are not errors', async () => {
    const {dir} = await copy('current', {
      'spec.yaml': sub('properties:\n', "properties:\n  inference-min-sku-spec: 9|9|9|9\n  finetuning-tasks: ''\n"),
    })
    expect(await errorsOf(dir)).toEqual([])
  })

  it('an empty system_metadata value falls back to the legacy key', async () => {
    const {dir, texts} = await copy('current', {
      'spec.yaml': (t) => sub('  license: apache-2.0\n', "  license: ''\n")(sub('tags:\n', "tags:\n  license: ''\n")(t)),
    })
    // Both empty: the legacy key (the one in effect) is where the error points.
    expectOnly(await errorsOf(dir), 'license-missing', 'spec.yaml', [lineOf(texts['spec.yaml'], "license: ''")])
  })
})

describe('validate: each rule fires alone at the right line', () => {
  it('yaml-syntax: a duplicate key', async () => {
    const {dir, texts} = await copy('current', {'spec.yaml': sub('  license: apache-2.0\n', '  license: apache-2.0\n  license: mit\n')})
    const errors = await errorsOf(dir)
    expectOnly(errors, 'yaml-syntax', 'spec.yaml', [lineOf(texts['spec.yaml'], 'license: mit')])
    expect(errors[0].message).toContain("duplicate key 'license'")
  })

  it('yaml-syntax: a syntax error in asset.yaml', async () => {
    const {dir} = await copy('current', {'asset.yaml': sub('categories: ["Foundation Models"]', 'categories: ["Foundation Models"\n')})
    const errors = await errorsOf(dir)
    expect(errors.length).toBeGreaterThan(0)
    expect(new Set(errors.map((e) => e.rule))).toEqual(new Set(['yaml-syntax']))
    expect(errors[0].file.endsWith('asset.yaml')).toBe(true)
  })

  it('schema: publish.type outside its enum (model.yaml)', async () => {
    const {dir, texts} = await copy('current', {'model.yaml': sub('  type: mlflow_model', '  type: onnx_model')})
    const errors = await errorsOf(dir)
    expectOnly(errors, 'schema', 'model.yaml', [lineOf(texts['model.yaml'], 'onnx_model')])
    expect(errors[0].column).toBe(9)
    expect(errors[0].message).toMatch(/publish\.type.*mlflow_model/)
  })

  it('schema: a version that is neither an integer nor auto', async () => {
    const {dir, texts} = await copy('legacy', {'spec.yaml': sub('version: 18', 'version: 1.5')})
    expectOnly(await errorsOf(dir), 'schema', 'spec.yaml', [lineOf(texts['spec.yaml'], 'version: 1.5')])
  })

  it('schema: a misspelt system_metadata key', async () => {
    const {dir} = await copy('current', {'spec.yaml': sub('  hiddenLayerScanned: true\n', '  hiddenLayerScanned: true\n  tasks2: {}\n  SKU2: 1\n')})
    const errors = await errorsOf(dir)
    // Unknown keys of system_metadata itself are allowed (it has many); a non-object SKU block is not.
    expect(errors).toEqual([])
    const {dir: dir2, texts: t2} = await copy('current', {'spec.yaml': sub('    inferenceMinSkuSpec: 2|0|14|28\n', '    inferenceMinSkuSpec: 2|0|14|28\n    inferenceMinSkuSpecs: 2|0|14|28\n')})
    expectOnly(await errorsOf(dir2), 'schema', 'spec.yaml', [lineOf(t2['spec.yaml'], 'inferenceMinSkuSpecs')])
  })

  it('name-format', async () => {
    const {dir} = await copy('current', {'spec.yaml': sub('name: google-vit-base-patch16-224', 'name: 1google-vit')})
    expectOnly(await errorsOf(dir), 'name-format', 'spec.yaml', [2])
  })

  it("name-format warns of a model name the azureml-assets CI accepts and Azure's REST API refuses (a dot)", async () => {
    const {dir} = await copy('current', {'spec.yaml': sub('name: google-vit-base-patch16-224', 'name: google-vit.base')})
    expect(await errorsOf(dir)).toEqual([])
    const r = await validatePaths([dir])
    const warnings = r.assets.flatMap((a) => a.diagnostics).filter((d) => d.rule === 'name-format')
    expect(warnings).toMatchObject([{severity: 'warning', line: 2, message: expect.stringMatching(/"google-vit\.base" is refused by Azure ML: .*no '\.'/)}])
  })

  it('name-forbidden-word, with the Azure- exemption and microsoft allowed for models', async () => {
    const {dir} = await copy('current', {'spec.yaml': sub('name: google-vit-base-patch16-224', 'name: azure-vit-base')})
    const errors = await errorsOf(dir)
    expectOnly(errors, 'name-forbidden-word', 'spec.yaml', [2])
    expect(errors[0].message).toContain('"azure"')
    for (const ok of ['Azure-vit-base', 'microsoft-vit-base']) {
      const {dir: d} = await copy('current', {'spec.yaml': sub('name: google-vit-base-patch16-224', `name: ${ok}`)})
      expect(await errorsOf(d), ok).toEqual([])
    }
    const {dir: d3} = await copy('current', {'spec.yaml': sub('name: google-vit-base-patch16-224', 'name: vit-model-x')})
    expectOnly(await errorsOf(d3), 'name-forbidden-word', 'spec.yaml', [2])
  })

  it('name-mismatch and version-mismatch (asset.yaml against spec.yaml)', async () => {
    const {dir, texts} = await copy('current', {'asset.yaml': (t) => t + 'name: google-vit-other\n'})
    expectOnly(await errorsOf(dir), 'name-mismatch', 'asset.yaml', [lineOf(texts['asset.yaml'], 'name:')])
    const v = await copy('legacy', {'asset.yaml': (t) => 'version: 17\n' + t})
    expectOnly(await errorsOf(v.dir), 'version-mismatch', 'asset.yaml', [1])
    const auto = await copy('legacy', {'asset.yaml': (t) => 'version: auto\n' + t})
    expect(await errorsOf(auto.dir)).toEqual([])
  })

  it('missing-file: publish.description', async () => {
    const {dir, texts} = await copy('current', {'model.yaml': sub('description: description.md', 'description: desc.md')})
    expectOnly(await errorsOf(dir), 'missing-file', 'model.yaml', [lineOf(texts['model.yaml'], 'desc.md')])
  })

  it('task-missing (both forms)', async () => {
    const c = await copy('current', {'spec.yaml': sub('    inferenceTasks:\n    - image-classification\n', '')})
    expectOnly(await errorsOf(c.dir), 'task-missing', 'spec.yaml', [lineOf(c.texts['spec.yaml'], '  tasks:')])
    const l = await copy('legacy', {'spec.yaml': sub('  task: image-classification\n', '')})
    expectOnly(await errorsOf(l.dir), 'task-missing', 'spec.yaml', [lineOf(l.texts['spec.yaml'], 'tags:')])
  })

  it('license-missing (both forms)', async () => {
    const c = await copy('current', {'spec.yaml': sub('  license: apache-2.0\n', '')})
    expectOnly(await errorsOf(c.dir), 'license-missing', 'spec.yaml', [lineOf(c.texts['spec.yaml'], 'system_metadata:')])
    const l = await copy('legacy', {'spec.yaml': sub('  license: apache-2.0', "  license: ''")})
    expectOnly(await errorsOf(l.dir), 'license-missing', 'spec.yaml', [lineOf(l.texts['spec.yaml'], "license: ''")])
  })

  it('shared-compute (both forms)', async () => {
    const c = await copy('current', {'spec.yaml': sub('sharedComputeCapacityEnabled: true', 'sharedComputeCapacityEnabled: false')})
    expectOnly(await errorsOf(c.dir), 'shared-compute', 'spec.yaml', [lineOf(c.texts['spec.yaml'], 'sharedComputeCapacityEnabled')])
    const l = await copy('legacy', {'spec.yaml': sub("  SharedComputeCapacityEnabled: ''\n", '')})
    expectOnly(await errorsOf(l.dir), 'shared-compute', 'spec.yaml', [lineOf(l.texts['spec.yaml'], 'SharedComputeCapacityEnabled')])
  })

  it('sku-allow-list-missing: inference always, evaluation when its other keys are there', async () => {
    const l = await copy('legacy', {'spec.yaml': (t) => t.replace(/ {2}inference_compute_allow_list:\n {4}\[[^\]]*\]\n/, '')})
    expect(l.texts['spec.yaml']).not.toContain('inference_compute_allow_list')
    expectOnly(await errorsOf(l.dir), 'sku-allow-list-missing', 'spec.yaml', [lineOf(l.texts['spec.yaml'], 'tags:')])
    const c = await copy('current', {'spec.yaml': (t) => t.replace(/ {4}evaluationComputes:\n( {4}- .*\n)+/, '')})
    expect(c.texts['spec.yaml']).not.toContain('evaluationComputes')
    expectOnly(await errorsOf(c.dir), 'sku-allow-list-missing', 'spec.yaml', [lineOf(c.texts['spec.yaml'], 'supportedComputes:')])
  })

  it('sku-recommended-mismatch (both forms)', async () => {
    const c = await copy('current', {'spec.yaml': sub('    - Standard_FX4mds\n', '')})
    const errors = await errorsOf(c.dir)
    expectOnly(errors, 'sku-recommended-mismatch', 'spec.yaml', [lineOf(c.texts['spec.yaml'], 'inferenceRecommendedSkus:')])
    expect(errors[0].message).toContain('in the allow list but not recommended: Standard_FX4mds')
    const l = await copy('legacy', {'spec.yaml': sub('finetune-recommended-sku: Standard_NC4as_T4_v3, Standard_NC6s_v3,', 'finetune-recommended-sku: Standard_NC4as_T4_v3, Standard_NC6s_v2,')})
    const e2 = await errorsOf(l.dir)
    expectOnly(e2, 'sku-recommended-mismatch', 'spec.yaml', [lineOf(l.texts['spec.yaml'], 'finetune-recommended-sku')])
    expect(e2[0].message).toContain('recommended but not in the allow list: Standard_NC6s_v2')
  })

  it('sku-unsupported: a real SKU outside supported_inference_skus.json', async () => {
    const l = await copy('legacy', {
      'spec.yaml': (t) => sub('      Standard_DS3_v2,\n', '      Standard_DS3_v2,\n      Standard_DS12_v2,\n')(sub('inference-recommended-sku: Standard_DS3_v2,', 'inference-recommended-sku: Standard_DS12_v2, Standard_DS3_v2,')(t)),
    })
    const errors = await errorsOf(l.dir)
    expectOnly(errors, 'sku-unsupported', 'spec.yaml', [lineOf(l.texts['spec.yaml'], '      Standard_DS12_v2,')])
    expect(errors[0].column).toBe(7)
  })

  it('sku-unknown, with the nearest known name', async () => {
    const c = await copy('current', {
      'spec.yaml': (t) => sub('    finetuneComputes:\n', '    finetuneComputes:\n    - Standard_NC4as_T4_v9\n')(sub('    finetuneRecommendedSkus:\n', '    finetuneRecommendedSkus:\n    - Standard_NC4as_T4_v9\n')(t)),
    })
    const errors = await errorsOf(c.dir)
    expectOnly(errors, 'sku-unknown', 'spec.yaml', [lineOf(c.texts['spec.yaml'], 'Standard_NC4as_T4_v9', 'finetuneComputes:')])
    expect(errors[0].message).toContain('did you mean Standard_NC4as_T4_v3')
  })

  it('min-sku-spec-format', async () => {
    const c = await copy('current', {'spec.yaml': sub('inferenceMinSkuSpec: 2|0|14|28', 'inferenceMinSkuSpec: 2|0|14')})
    const errors = await errorsOf(c.dir)
    expectOnly(errors, 'min-sku-spec-format', 'spec.yaml', [lineOf(c.texts['spec.yaml'], 'inferenceMinSkuSpec')])
    expect(errors[0].message).toContain("the allow list's minimum is 2|0|14|28")
  })

  it('min-sku-spec-mismatch: says what it should be and which SKUs fall below', async () => {
    const l = await copy('legacy', {'spec.yaml': sub('finetune-min-sku-spec: 4|1|28|176', 'finetune-min-sku-spec: 4|1|28|180')})
    const errors = await errorsOf(l.dir)
    expectOnly(errors, 'min-sku-spec-mismatch', 'spec.yaml', [lineOf(l.texts['spec.yaml'], 'finetune-min-sku-spec')])
    expect(errors[0].message).toContain("states 4|1|28|180, the allow list's minimum is 4|1|28|176")
    expect(errors[0].message).toContain('Standard_NC4as_T4_v3 (disk GiB 176 < 180)')
    const c = await copy('current', {'spec.yaml': sub('    inferenceMinSkuSpec: 2|0|14|28\n', '')})
    const e2 = await errorsOf(c.dir)
    expectOnly(e2, 'min-sku-spec-mismatch', 'spec.yaml', [lineOf(c.texts['spec.yaml'], '  SKU:')])
    expect(e2[0].message).toContain('2|0|14|28')
  })

  it('finetune-tasks-missing (both forms)', async () => {
    const c = await copy('current', {'spec.yaml': sub('    fineTuningTasks:\n    - image-classification\n', '')})
    expectOnly(await errorsOf(c.dir), 'finetune-tasks-missing', 'spec.yaml', [lineOf(c.texts['spec.yaml'], '  tasks:')])
    const l = await copy('legacy', {'spec.yaml': sub('finetuning-tasks: image-classification', "finetuning-tasks: ''")})
    expectOnly(await errorsOf(l.dir), 'finetune-tasks-missing', 'spec.yaml', [lineOf(l.texts['spec.yaml'], 'finetuning-tasks')])
  })

  it('duplicate-asset: two folders of one tree define the same model', async () => {
    const root = await tempDir()
    await cp(join(FIX, 'google-vit-base-patch16-224-current'), join(root, 'a'), {recursive: true})
    await cp(join(FIX, 'google-vit-base-patch16-224-current'), join(root, 'b'), {recursive: true})
    const r = await validatePaths([root])
    expect(r.assets).toHaveLength(2)
    for (const a of r.assets) expectOnly(a.diagnostics, 'duplicate-asset', 'spec.yaml', [2])
    expect(r.assets[0].diagnostics[0].message).toContain(join(root, 'b'))
  })

  it('file-too-large: a weights file in the asset folder', async () => {
    const {dir} = await copy('current')
    await writeFile(join(dir, 'model.safetensors'), Buffer.alloc(1024 * 1024 + 1))
    const errors = await errorsOf(dir)
    expectOnly(errors, 'file-too-large', 'model.safetensors', [1])
  })
})

describe('validate reads YAML as the real CI does (issue 12)', () => {
  it("a Prism-style multi-line licenseDescription continued at column 0 is accepted (as PyYAML/ruamel do), with a warning", async () => {
    const prism =
      '  license: apache-2.0\n  licenseDescription: "Use of this model is governed by the Prism license & terms;\nsee LICENSE for the full text. Research use only!\nCommercial use requires a separate agreement."\n'
    const {dir, texts} = await copy('legacy', {'spec.yaml': sub('  license: apache-2.0\n', prism)})
    expect(await errorsOf(dir)).toEqual([])
    const r = await validatePaths([dir])
    const warnings = r.assets.flatMap((a) => a.diagnostics).filter((d) => d.rule === 'yaml-syntax')
    expect(warnings).toMatchObject([
      {severity: 'warning', line: lineOf(texts['spec.yaml'], 'licenseDescription'), message: expect.stringMatching(/PyYAML and ruamel .* accept it, YAML 1\.2 does not/)},
    ])
  })

  it('a stray asset.yml is reported even beside an asset.yaml, as validate_tree does', async () => {
    const {dir} = await copy('current')
    await writeFile(join(dir, 'asset.yml'), 'type: model\n')
    const r = await validatePaths([dir])
    const errors = r.assets.flatMap((a) => a.diagnostics).filter((d) => d.severity === 'error')
    expect(errors).toMatchObject([{rule: 'missing-file', message: expect.stringContaining('asset.yml: the asset file must be named asset.yaml')}])
  })
})
