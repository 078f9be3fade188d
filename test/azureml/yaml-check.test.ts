import {describe, expect, it} from 'vitest'

import {schemaNameFromUrl} from '../../src/azureml/schemas.js'
import {checkAzureMlYaml} from '../../src/azureml/yaml-check.js'

/** Azure's own deploy-online.yaml (azureml-examples, image-classification inference sample). */
const SAMPLE_ONLINE = `$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: demo
instance_type: Standard_DS3_v2
instance_count: 1
liveness_probe:
  initial_delay: 180
  period: 180
  failure_threshold: 49
  timeout: 299
request_settings:
  request_timeout_ms: 90000
`

/** Azure's deploy-batch.yaml (older batchDeployment schema, settings nested). */
const SAMPLE_BATCH = `$schema: https://azuremlschemas.azureedge.net/latest/batchDeployment.schema.json
name: demo
description: "Batch endpoint for for image-classification task"
type: model
resources:
  instance_count: 1
settings:
  mini_batch_size: 1
`

/** The MLTable of the finetune sample's prepare_data.py. */
const SAMPLE_MLTABLE = `paths:
  - file: ./train_annotations.jsonl
transformations:
  - read_json_lines:
        encoding: utf8
        invalid_lines: error
        include_path_column: false
  - convert_column_types:
      - columns: image_url
        column_type: stream_info
`

describe('checkAzureMlYaml', () => {
  it("accepts Azure's own sample YAMLs", () => {
    expect(checkAzureMlYaml(SAMPLE_ONLINE, 'deploy-online.yaml')).toEqual([])
    expect(checkAzureMlYaml(SAMPLE_BATCH, 'deploy-batch.yaml')).toEqual([])
    expect(checkAzureMlYaml(SAMPLE_MLTABLE, 'data/MLTable')).toEqual([])
  })

  it('points a wrong type, an unknown key and a bad enum at their line and column', () => {
    const text = SAMPLE_ONLINE.replace('instance_count: 1', 'instance_count: one').replace('  timeout: 299', '  timeout: 299\n  timout: 3') +
      'egress_public_network_access: open\n'
    const d = checkAzureMlYaml(text, 'x.yaml')
    expect(d.map((x) => [x.rule, x.line, x.column])).toEqual([
      ['schema', 4, 17],
      ['schema', 10, 3],
      ['schema', 13, 31],
    ])
    expect(d[0].message).toMatch(/^instance_count: must be integer/)
    expect(d[1].message).toMatch(/liveness_probe.timout: unknown property 'timout'/)
    expect(d[2].message).toMatch(/must be one of "enabled", "disabled"/)
    expect(d.every((x) => x.file === 'x.yaml' && x.severity === 'error')).toBe(true)
  })

  it('checks the inputs of the registry components it knows', () => {
    const text = `$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
jobs:
  ft:
    type: pipeline
    component: azureml://registries/azureml/components/transformers_image_classification_pipeline/labels/latest
    inputs:
      task_name: image-classification-multiclass
      learning_rate: fast
      number_of_epoch: 3
      training_data: \${{parent.inputs.training_data}}
`
    const d = checkAzureMlYaml(text, 'ft.yaml')
    expect(d.map((x) => [x.line, x.message.split(' (')[0]])).toEqual([
      [8, 'jobs.ft.inputs.task_name: must be one of "image-classification", "image-classification-multilabel"'],
      [9, 'jobs.ft.inputs.learning_rate: must be a number'],
      [10, "jobs.ft.inputs.number_of_epoch: unknown property 'number_of_epoch'"],
    ])
  })

  it('checks every document of a multi-document file by its own $schema', () => {
    const text = `${SAMPLE_ONLINE}---\n$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\nname: x\n`
    const d = checkAzureMlYaml(text, 'two.yaml')
    expect(d).toHaveLength(1)
    expect(d[0]).toMatchObject({line: 14, column: 7})
    expect(d[0].message).toMatch(/^name: must be 3 to 32 characters/)
  })

  it('says when no bundled schema applies, as a warning', () => {
    const none = checkAzureMlYaml('name: x\n', 'plain.yaml')
    expect(none).toHaveLength(1)
    expect(none[0]).toMatchObject({rule: 'schema', severity: 'warning', line: 1})
    const other = checkAzureMlYaml('$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncommand: echo\n', 'job.yaml')
    expect(other[0]).toMatchObject({severity: 'warning'})
    expect(other[0].message).toMatch(/no bundled schema/)
  })

  it('reports syntax errors, duplicate keys and alias bombs without throwing', () => {
    expect(checkAzureMlYaml('a: [1, 2\n', 'bad.yaml')[0]).toMatchObject({rule: 'yaml-syntax', severity: 'error'})
    const dup = checkAzureMlYaml('name: a\nname: b\n', 'dup.yaml')
    expect(dup[0]).toMatchObject({rule: 'yaml-syntax', line: 2})
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 12; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`)
    const d = checkAzureMlYaml(bomb.join('\n') + '\n', 'bomb.yaml')
    expect(d[0]).toMatchObject({rule: 'yaml-syntax', severity: 'error'})
  })

  it('recognises schema URLs on Azure hosts, any version folder, case-insensitively', () => {
    expect(schemaNameFromUrl('https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json')).toBe('managedOnlineDeployment')
    expect(schemaNameFromUrl('https://azuremlschemasprod.azureedge.net/1.0.0/pipelinejob.schema.json')).toBe('pipelineJob')
    expect(schemaNameFromUrl('https://azuremlschemas.azureedge.net/latest/MLTable.schema.json')).toBe('mltable')
    expect(schemaNameFromUrl('https://example.com/latest/model.schema.json')).toBeUndefined()
    expect(schemaNameFromUrl('not a url')).toBeUndefined()
  })
})
