/** `validate --fix`: min-SKU specs and recommended lists rewritten in place, everything else byte for byte kept. */
import {cp, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {readModelAssetFacts} from '../../src/assets/asset.js'
import {validatePaths} from '../../src/assets/validate.js'
import {tempDir} from '../helpers/tmp.js'

const FIX = 'test/fixtures/azureml-assets'

async function copyOf(form: 'current' | 'legacy'): Promise<{dir: string; spec: string; original: string}> {
  const dir = join(await tempDir(), form)
  await cp(join(FIX, `google-vit-base-patch16-224-${form}`), dir, {recursive: true})
  const spec = join(dir, 'spec.yaml')
  return {dir, spec, original: await readFile(spec, 'utf8')}
}

/** Lines of `text` without the lines of the property `key` (its key line and indented continuation lines). */
function withoutProperty(text: string, key: string): string[] {
  const lines = text.split('\n')
  const i = lines.findIndex((l) => l.trimStart().startsWith(key + ':'))
  const indent = lines[i].length - lines[i].trimStart().length
  let j = i + 1
  while (j < lines.length && lines[j].length - lines[j].trimStart().length > indent) j++
  return [...lines.slice(0, i), ...lines.slice(j)]
}

describe('validate --fix', () => {
  it('current form: restores a block-list item and adds a missing min-SKU spec; nothing else moves', async () => {
    const {dir, spec, original} = await copyOf('current')
    const commented = original.replace('system_metadata:\n', '# reviewed by the model team\nsystem_metadata:  # the enforced form\n')
    const broken = commented.replace('    - Standard_FX4mds\n', '').replace('    inferenceMinSkuSpec: 2|0|14|28\n', '')
    await writeFile(spec, broken)
    const before = await validatePaths([dir])
    expect(before.assets[0].diagnostics.map((d) => d.rule).sort()).toEqual(['min-sku-spec-mismatch', 'sku-recommended-mismatch'])

    const r = await validatePaths([dir], {fix: true})
    expect(r.ok).toBe(true)
    expect(validateWithSchema('validate-result.schema.json', r).state).toBe('ok')
    expect(r.fixes?.map((f) => f.rule).sort()).toEqual(['min-sku-spec-mismatch', 'sku-recommended-mismatch'])
    const fixed = await readFile(spec, 'utf8')
    // The recommended list is the allow list again, in its order; the added key goes at the end of SKU.
    const expected = commented
      .replace('    inferenceMinSkuSpec: 2|0|14|28\n', '')
      .replace('    finetuneMinSkuSpec: 4|1|28|176\n', '    finetuneMinSkuSpec: 4|1|28|176\n    inferenceMinSkuSpec: 2|0|14|28\n')
    expect(fixed).toBe(expected)
  })

  it('legacy form: rewrites a wrong min-SKU spec and a comma-separated recommended list, keeping comments', async () => {
    const {dir, spec, original} = await copyOf('legacy')
    const commented = original.replace('tags:\n', '# tags below are legacy\ntags:\n')
    const broken = commented
      .replace('finetune-min-sku-spec: 4|1|28|176', 'finetune-min-sku-spec: 4|1|28|180')
      .replace('evaluation-recommended-sku: Standard_NC4as_T4_v3, Standard_NC6s_v3, ', 'evaluation-recommended-sku: Standard_NC4as_T4_v3, ')
    await writeFile(spec, broken)
    const r = await validatePaths([dir], {fix: true})
    expect(r.summary.errors).toBe(0)
    expect(r.fixes).toHaveLength(2)
    expect(r.fixes!.find((f) => f.rule === 'min-sku-spec-mismatch')!.message).toBe('finetune min-SKU spec 4|1|28|180 -> 4|1|28|176 (a registry property: publishing the change needs a version bump)')
    const fixed = await readFile(spec, 'utf8')
    expect(fixed).toContain('# tags below are legacy\n')
    expect(fixed).toContain('finetune-min-sku-spec: 4|1|28|176\n')
    // Every line outside the rewritten property is the original's.
    expect(withoutProperty(fixed, 'evaluation-recommended-sku')).toEqual(withoutProperty(commented, 'evaluation-recommended-sku'))
    // And the facts are the original asset's.
    const facts = await readModelAssetFacts(dir)
    const ref = await readModelAssetFacts(join(FIX, 'google-vit-base-patch16-224-legacy'))
    expect(facts.skus).toEqual(ref.skus)
  })

  it('does not guess: an unknown SKU leaves the min-SKU spec alone', async () => {
    const {dir, spec, original} = await copyOf('current')
    const broken = original
      .replace('    finetuneComputes:\n', '    finetuneComputes:\n    - Standard_Mystery_v1\n')
      .replace('    finetuneRecommendedSkus:\n', '    finetuneRecommendedSkus:\n    - Standard_Mystery_v1\n')
      .replace('finetuneMinSkuSpec: 4|1|28|176', 'finetuneMinSkuSpec: 4|1|28|100')
    await writeFile(spec, broken)
    const r = await validatePaths([dir], {fix: true})
    expect(r.fixes ?? []).toEqual([])
    expect(await readFile(spec, 'utf8')).toBe(broken)
    expect(r.assets[0].diagnostics.map((d) => d.rule)).toEqual(['sku-unknown'])
  })
})
