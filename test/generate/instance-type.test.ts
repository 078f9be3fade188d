import {describe, expect, it} from 'vitest'

import {InvalidInputError} from '../../src/core/errors.js'
import {checkRequestedInstanceType, selectInstanceType} from '../../src/generate/instance-type.js'
import {makeSkuCatalog} from '../../src/skus/catalog.js'
import type {ModelAssetFacts} from '../../src/assets/facts.js'

/** A tiny catalog with figures chosen for the test (vmSizes field names; disk = MB / 1024). */
const catalog = makeSkuCatalog(
  [
    {name: 'Small_CPU', vCPUs: 2, gpus: 0, memoryGB: 8, maxResourceVolumeMB: 16 * 1024},
    {name: 'Wide_CPU', vCPUs: 16, gpus: 0, memoryGB: 64, maxResourceVolumeMB: 128 * 1024},
    {name: 'Mid_CPU', vCPUs: 4, gpus: 0, memoryGB: 16, maxResourceVolumeMB: 32 * 1024},
    {name: 'Mid_CPU_b', vCPUs: 4, gpus: 0, memoryGB: 16, maxResourceVolumeMB: 32 * 1024},
    {name: 'One_GPU', vCPUs: 4, gpus: 1, memoryGB: 28, maxResourceVolumeMB: 176 * 1024},
  ],
  'test catalog',
)

function facts(allowList: string[], minSkuSpec?: string): ModelAssetFacts {
  return {
    dir: '/assets/m',
    form: 'current',
    name: 'm',
    version: '1',
    inferenceTasks: ['image-classification'],
    finetuningTasks: [],
    skus: {inference: {allowList, recommended: allowList, ...(minSkuSpec ? {minSkuSpec} : {})}},
    tags: {},
    properties: {},
  }
}

describe('selectInstanceType', () => {
  it('takes the smallest SKU meeting the spec, whatever the allow-list order', () => {
    const c = selectInstanceType(facts(['Wide_CPU', 'One_GPU', 'Mid_CPU', 'Small_CPU'], '4|0|16|32'), 'inference', catalog)
    expect(c.name).toBe('Mid_CPU') // Small_CPU has 2 vCPUs < 4; One_GPU has a GPU, which sorts after every CPU SKU
    expect(c.source).toBe('selected')
    expect(c.reason).toContain('4|0|16|32')
    expect(c.figures).toEqual({vcpus: 4, gpus: 0, memoryGiB: 16, diskGiB: 32})
  })

  it('orders GPUs before vCPUs: a 16-vCPU CPU SKU is smaller than a 4-vCPU GPU SKU', () => {
    expect(selectInstanceType(facts(['One_GPU', 'Wide_CPU']), 'inference', catalog).name).toBe('Wide_CPU')
  })

  it('breaks a tie in figures by name', () => {
    expect(selectInstanceType(facts(['Mid_CPU_b', 'Mid_CPU']), 'inference', catalog).name).toBe('Mid_CPU')
  })

  it('skips SKUs the catalog does not know and says so', () => {
    const c = selectInstanceType(facts(['Nope_v9', 'Mid_CPU']), 'inference', catalog)
    expect(c.name).toBe('Mid_CPU')
    expect(c.reason).toContain('Nope_v9')
  })

  it('refuses when nothing meets the spec, or the scenario has no allow list', () => {
    expect(() => selectInstanceType(facts(['Small_CPU'], '4|0|16|32'), 'inference', catalog)).toThrow(/vCPUs 2 < 4/)
    expect(() => selectInstanceType(facts(['Mid_CPU']), 'finetune', catalog)).toThrow(InvalidInputError)
  })
})

describe('checkRequestedInstanceType', () => {
  it('takes an allow-listed SKU', () => {
    const r = checkRequestedInstanceType(facts(['Mid_CPU', 'Wide_CPU']), 'inference', 'Wide_CPU', catalog, false)
    expect(r.choice).toMatchObject({name: 'Wide_CPU', source: 'set'})
    expect(r.warnings).toEqual([])
  })

  it('refuses a SKU outside the allow list, suggesting the near name', () => {
    expect(() => checkRequestedInstanceType(facts(['Mid_CPU']), 'inference', 'mid_cpu', catalog, false)).toThrow(/did you mean Mid_CPU/)
    expect(() => checkRequestedInstanceType(facts(['Mid_CPU']), 'inference', 'Wide_CPU', catalog, false)).toThrow(InvalidInputError)
  })

  it('allowed outside the list, writes it and warns, also when below the spec', () => {
    const r = checkRequestedInstanceType(facts(['Mid_CPU'], '4|0|16|32'), 'inference', 'Small_CPU', catalog, true)
    expect(r.choice.source).toBe('forced')
    expect(r.warnings.join('\n')).toMatch(/outside .* allow list/)
    expect(r.warnings.join('\n')).toMatch(/vCPUs 2 < 4/)
  })
})
