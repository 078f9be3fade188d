/**
 * Rule `schema`: asset.yaml, model.yaml and the model spec against their JSON Schemas (schemas/asset.schema.json,
 * model-config.schema.json, model-spec.schema.json), with ajv's errors pointed at the offending node.
 */
import type {ErrorObject} from 'ajv'

import {toIssues} from '../../core/schema-issues.js'
import * as generated from '../schema-validators.js'
import type {YamlFile} from '../yaml-file.js'
import type {Reporter} from './reporter.js'

type StandaloneValidator = ((data: unknown) => boolean) & {errors?: ErrorObject[] | null}

/**
 * The schemas' ajv validators, generated ahead of time (./schema-validators.ts, kept equal to schemas/ by a test):
 * compiling them at every start cost more than validating a hundred assets.
 */
const VALIDATORS = generated as unknown as Record<'asset' | 'modelConfig' | 'modelSpec', StandaloneValidator>
const SCHEMA_OF = {'asset.schema.json': 'asset', 'model-config.schema.json': 'modelConfig', 'model-spec.schema.json': 'modelSpec'} as const

export function schemaCheck(r: Reporter, yf: YamlFile, schema: keyof typeof SCHEMA_OF, data: unknown, label: string): void {
  const validate = VALIDATORS[SCHEMA_OF[schema]]
  if (validate(data)) return
  for (const issue of toIssues(validate.errors)) {
    // if/then and allOf wrappers repeat what their inner keyword already said.
    if (issue.keyword === 'if' || issue.keyword === 'allOf') continue
    const where = issue.path.length ? issue.path.join('.') : '(top level)'
    const prefer = issue.keyword === 'additionalProperties' ? 'key' : 'value'
    const message = issue.keyword === 'not' && schema === 'asset.schema.json' ? 'conda_environment and pip_requirements are mutually exclusive' : issue.message
    r.at(yf, issue.path, 'schema', `${label} ${where}: ${message}`, {prefer})
  }
}
