import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'

import {buildSpec, migrateLegacySpec} from '../../src/package/asset-yaml.js'

const ASSETS = join(import.meta.dirname, '..', 'fixtures', 'azureml-assets')

async function spec(form: 'legacy' | 'current'): Promise<Record<string, unknown>> {
  return parse(await readFile(join(ASSETS, `google-vit-base-patch16-224-${form}`, 'spec.yaml'), 'utf8')) as Record<string, unknown>
}

describe('migrateLegacySpec', () => {
  it('turns the legacy ViT spec into the current one azureml-assets migrated it to (#5150/#5190)', async () => {
    const migrated = migrateLegacySpec(await spec('legacy'))
    const current = await spec('current')
    // The one fact the legacy form cannot carry: the scan result (tags.hiddenlayerscanned "" became true upstream).
    const {hiddenLayerScanned, ...currentSm} = current.system_metadata as Record<string, unknown>
    expect(hiddenLayerScanned).toBe(true)
    expect(migrated).toEqual({...current, system_metadata: currentSm})
    expect(Object.keys(migrated)).toEqual(Object.keys(current))
  })

  it('leaves a current-form spec alone', async () => {
    const current = await spec('current')
    expect(migrateLegacySpec(current)).toBe(current)
  })

  it('buildSpec writes the system_metadata form from a legacy template', async () => {
    const built = buildSpec(await spec('legacy'), {name: 'my-vit', version: '2', license: 'MIT'}, {isDefaultTemplate: false})
    expect(built.tags).not.toHaveProperty('license')
    expect(built.system_metadata).toMatchObject({license: 'MIT', sharedComputeCapacityEnabled: true, publisher: 'Google'})
    expect([built.name, built.version]).toEqual(['my-vit', 2])
  })
})
