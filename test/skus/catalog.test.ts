import {readFileSync} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {InvalidInputError, UsageError} from '../../src/core/errors.js'
import {validateWithSchema} from '../../src/core/json-schema.js'
import {catalogProblems, formatMinSkuSpec, loadSkuCatalog, meetsSpec, minimumOverAllowList, parseMinSkuSpec} from '../../src/skus/catalog.js'
import {SUPPORTED_INFERENCE_SKUS} from '../../src/skus/supported-inference.js'
import {tempDir} from '../helpers/tmp.js'

const supported = JSON.parse(readFileSync('test/fixtures/azureml-assets/supported_inference_skus.json', 'utf8')) as string[]

describe('SKU catalog', () => {
  const catalog = loadSkuCatalog()

  it('is a valid catalog file covering every supported inference SKU and the finetune/evaluation SKUs', () => {
    const raw = JSON.parse(readFileSync('data/sku-catalog.json', 'utf8')) as unknown
    expect(validateWithSchema('sku-catalog.schema.json', raw).state).toBe('ok')
    expect([...SUPPORTED_INFERENCE_SKUS].sort()).toEqual([...supported].sort())
    for (const name of supported) expect(catalog.get(name), name).toBeDefined()
    for (const name of ['Standard_DS12_v2', 'Standard_NC24rs_v3', 'Standard_NV12s_v3', 'Standard_NV24s_v3', 'Standard_NV48s_v3']) {
      expect(catalog.get(name), name).toBeDefined()
    }
    for (const name of catalog.names()) expect(catalog.get(name)!.source, name).not.toBe('')
  })

  it('uses the API semantics: int(memoryGB), floor(maxResourceVolumeMB / 1024), and the API figures where docs differ', () => {
    expect(catalog.get('Standard_DS1_v2')).toMatchObject({vcpus: 1, gpus: 0, memoryGiB: 3, diskGiB: 7})
    expect(catalog.get('Standard_NC4as_T4_v3')).toMatchObject({vcpus: 4, gpus: 1, memoryGiB: 28, diskGiB: 176})
    expect(catalog.get('Standard_ND96amsr_A100_v4')).toMatchObject({vcpus: 96, gpus: 8, memoryGiB: 1800, diskGiB: 2900})
    expect(catalog.get('Standard_ND96amsr_A100_v4')!.source).toMatch(/vmSizes API/)
    expect(catalog.get('Standard_NC24ads_A100_v4')).toMatchObject({vcpus: 24, gpus: 1, memoryGiB: 220, diskGiB: 64})
    expect(catalog.get('Standard_ND96isr_H100_v5')).toMatchObject({vcpus: 96, gpus: 8, memoryGiB: 1900, diskGiB: 1024})
    expect(catalog.get('Standard_E64s_v3')).toMatchObject({memoryGiB: 432, diskGiB: 864})
  })

  it('reproduces the published ViT min-SKU specs as per-field minima', () => {
    const inference = ['Standard_DS3_v2', 'Standard_E2s_v3', 'Standard_NC24ads_A100_v4', 'Standard_F8s_v2']
    const r = minimumOverAllowList(inference, catalog)
    expect(r.unknown).toEqual([])
    expect(formatMinSkuSpec(r.minimum!)).toBe('2|0|14|28')
    const ft = ['Standard_NC4as_T4_v3', 'Standard_NC6s_v3', 'Standard_ND96amsr_A100_v4', 'Standard_ND40rs_v2']
    expect(formatMinSkuSpec(minimumOverAllowList(ft, catalog).minimum!)).toBe('4|1|28|176')
    expect(minimumOverAllowList(['Standard_Nope', 'Standard_DS3_v2'], catalog).unknown).toEqual(['Standard_Nope'])
    expect(minimumOverAllowList([], catalog).minimum).toBeUndefined()
  })

  it('parses min-SKU specs strictly', () => {
    expect(parseMinSkuSpec('4|1|28|176')).toEqual({vcpus: 4, gpus: 1, memoryGiB: 28, diskGiB: 176})
    expect(parseMinSkuSpec(' 4 | 1|28|176')).toEqual({vcpus: 4, gpus: 1, memoryGiB: 28, diskGiB: 176})
    for (const bad of ['4|1|28', '4|1|28|176|1', '4|1|28.5|176', 'a|1|2|3', '', '4||28|176', '-1|0|1|1']) {
      expect(parseMinSkuSpec(bad), bad).toBeUndefined()
    }
  })

  it('meetsSpec compares every field', () => {
    const spec = parseMinSkuSpec('4|1|28|176')!
    expect(meetsSpec(catalog.get('Standard_NC4as_T4_v3')!, spec)).toBe(true)
    expect(meetsSpec(catalog.get('Standard_NC24ads_A100_v4')!, spec)).toBe(false)
    expect(meetsSpec(catalog.get('Standard_DS3_v2')!, spec)).toBe(false)
  })

  it('suggests the nearest known names for a typo', () => {
    expect(catalog.suggest('Standard_DS3_v3')[0]).toBe('Standard_DS3_v2')
    expect(catalog.suggest('standard_ds3_v2')).toEqual(['Standard_DS3_v2'])
    expect(catalog.suggest('Standard_NC4as_T4_v2')).toContain('Standard_NC4as_T4_v3')
  })

  it('loads a replacement catalog and rejects a broken one by name', async () => {
    const dir = await tempDir()
    const file = join(dir, 'c.json')
    await writeFile(file, JSON.stringify({origin: 'vmSizes API sub/eastus', skus: [{name: 'Standard_X1', vCPUs: 2, gpus: 0, memoryGB: 7.5, maxResourceVolumeMB: 15360}]}))
    const c = loadSkuCatalog(file)
    expect(c.get('Standard_X1')).toMatchObject({vcpus: 2, memoryGiB: 7, diskGiB: 15, source: 'vmSizes API sub/eastus'})
    expect(c.get('Standard_DS3_v2')).toBeUndefined()
    const bad = join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({skus: [{name: 'x', vCPUs: 'two'}]}))
    expect(() => loadSkuCatalog(bad)).toThrow(InvalidInputError)
    expect(() => loadSkuCatalog(bad)).toThrow(/bad\.json.*skus\.0/)
    expect(() => loadSkuCatalog(join(dir, 'none.json'))).toThrow(UsageError)
  })

  it('the hand-written catalog check agrees with schemas/sku-catalog.schema.json', () => {
    const good = {skus: [{name: 'a', vCPUs: 1, gpus: 0, memoryGB: 3.5, maxResourceVolumeMB: 7168, source: 's'}]}
    const cases: unknown[] = [
      good,
      {},
      {skus: 3},
      {skus: [1]},
      {skus: [{name: '', vCPUs: 1, gpus: 0, memoryGB: 1, maxResourceVolumeMB: 1}]},
      {skus: [{name: 'a', vCPUs: 1.5, gpus: 0, memoryGB: 1, maxResourceVolumeMB: 1}]},
      {skus: [{name: 'a', vCPUs: 1, gpus: -1, memoryGB: 1, maxResourceVolumeMB: 1}]},
      {skus: [{name: 'a', vCPUs: 1, gpus: 0, memoryGB: '1', maxResourceVolumeMB: 1}]},
      {skus: [{name: 'a', vCPUs: 1, gpus: 0, memoryGB: 1}]},
      {skus: [{name: 'a', vCPUs: 1, gpus: 0, memoryGB: 1, maxResourceVolumeMB: 1, source: 3}]},
      [],
    ]
    for (const c of cases) {
      expect(catalogProblems(c).length === 0, JSON.stringify(c)).toBe(validateWithSchema('sku-catalog.schema.json', c).state === 'ok')
    }
  })
})
