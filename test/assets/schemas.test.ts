import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import * as generated from '../../src/assets/schema-validators.js'
import {generateValidators, GENERATED, SCHEMAS} from './generate-validators.js'

type Validator = ((data: unknown) => boolean) & {errors?: Array<{instancePath: string; keyword: string}> | null}

describe('generated schema validators', () => {
  it('are up to date with schemas/ (regenerate: npx tsx test/assets/generate-validators.ts)', () => {
    expect(readFileSync(GENERATED, 'utf8')).toBe(generateValidators())
  })

  it('accept and reject what ajv compiling the schema files does', () => {
    const samples: Record<keyof typeof SCHEMAS, unknown[]> = {
      asset: [{type: 'model', spec: 'spec.yaml', extra_config: 'model.yaml', categories: ['x']}, {type: 'model', spec: 'spec.yaml', categories: []}, {type: 'nope'}, {type: 'environment', spec: 's', categories: ['c'], test: {pytest: {enabled: true, conda_environment: 'a', pip_requirements: 'b'}}}],
      modelConfig: [{path: {type: 'azureblob', storage_name: 's', container_name: 'c', container_path: 'p'}, publish: {description: 'd.md', type: 'mlflow_model'}}, {path: {type: 'git'}, publish: {type: 'x'}}, {path: {type: 'ftp'}}],
      modelSpec: [{name: 'm', version: 1}, {name: 'm', version: '1.5'}, {name: 'm', version: 'auto', system_metadata: {SKU: {inferenceMinSkuSpec: 2, extra: 1}}}, {name: 'm', version: 3, tags: {task: 1}, properties: {a: {}}, unknown: 1}, 'x'],
    }
    for (const [name, file] of Object.entries(SCHEMAS) as Array<[keyof typeof SCHEMAS, string]>) {
      const v = (generated as unknown as Record<string, Validator>)[name]
      for (const data of samples[name]) {
        const ok = v(data)
        const ref = validateWithSchema(file, data)
        expect(ok, `${name} ${JSON.stringify(data)}`).toBe(ref.state === 'ok')
        if (!ok && ref.state === 'error') {
          const pointer = (path: Array<string | number>) => (path.length ? '/' + path.join('/') : '')
          const refKeys = ref.issues.map((i) => `${pointer(i.keyword === 'additionalProperties' ? i.path.slice(0, -1) : i.path)} ${i.keyword}`)
          expect(new Set((v.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`))).toEqual(new Set(refKeys))
        }
      }
    }
  })
})
