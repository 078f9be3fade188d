import {describe, expect, it} from 'vitest'

import {diffResource, formatChange, shownChange} from '../../src/azure/diff.js'
import {
  assetId,
  isoDurationToMs,
  modelVersionBody,
  msToIsoDuration,
  onlineDeploymentBody,
  onlineEndpointBody,
  pipelineJobBody,
} from '../../src/azure/rest-bodies.js'
import {ExitCode} from '../../src/core/errors.js'

const WS = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws'
const ctx = {file: 'x.yaml', workspacePath: WS}

describe('YAML -> REST conversions', () => {
  it('turns milliseconds into ISO-8601 durations and back', () => {
    expect(msToIsoDuration(90_000)).toBe('PT1M30S')
    expect(msToIsoDuration(5000)).toBe('PT5S')
    expect(msToIsoDuration(500)).toBe('PT0.5S')
    expect(msToIsoDuration(0)).toBe('PT0S')
    expect(msToIsoDuration(3_600_000 + 1000)).toBe('PT1H1S')
    expect(msToIsoDuration(299_000)).toBe('PT4M59S')
    expect(isoDurationToMs('PT1M30S')).toBe(90_000)
    expect(isoDurationToMs('P1DT1S')).toBe(86_401_000)
    expect(isoDurationToMs('00:01:30')).toBeUndefined()
    expect(isoDurationToMs('PT')).toBeUndefined()
  })

  it('maps azureml:<name>:<version> to workspace ARM ids and keeps registry URIs', () => {
    expect(assetId(ctx, 'model', 'azureml:vit:3', 'models')).toBe(`${WS}/models/vit/versions/3`)
    expect(assetId(ctx, 'compute', 'azureml:gpu', 'computes')).toBe(`${WS}/computes/gpu`)
    expect(assetId(ctx, 'model', 'azureml://registries/r/models/vit/versions/3', 'models')).toBe('azureml://registries/r/models/vit/versions/3')
    expect(() => assetId(ctx, 'model', 'azureml:vit@latest', 'models')).toThrow(/x\.yaml: model: .*name a version/)
    expect(() => assetId(ctx, 'model', './local/folder', 'models')).toThrow(/local path/)
  })

  it('names the file and field of a bad value (exit 1)', () => {
    try {
      onlineDeploymentBody(ctx, {name: 'blue', endpoint_name: 'ep', request_settings: {request_timeout_ms: 'soon'}, instance_type: 'Standard_DS3_v2'})
      expect.unreachable()
    } catch (error) {
      expect((error as Error).message).toBe('x.yaml: request_settings.request_timeout_ms: must be an integer >= 0, got "soon"')
      expect((error as {exitCode: number}).exitCode).toBe(ExitCode.InvalidInput)
    }
    expect(() => onlineDeploymentBody(ctx, {name: 'blue', endpoint_name: 'ep'})).toThrow('x.yaml: instance_type: is required')
    expect(() => onlineEndpointBody(ctx, {name: 'ep', auth_mode: 'password'})).toThrow("x.yaml: auth_mode: must be one of key, aml_token, aad_token, got 'password'")
    expect(() => onlineEndpointBody(ctx, {name: 'ep', traffic: {a: 60, b: 50}})).toThrow('percentages add up to 110')
  })

  it('sends tags and properties as strings (nested values as JSON text)', () => {
    const {body} = modelVersionBody(ctx, {name: 'vit', version: 18, tags: {n: 1, ok: true, nested: {a: 'b'}, list: ['x']}}, {type: 'mlflow_model'})
    expect(body).toEqual({
      properties: {tags: {n: '1', ok: 'true', nested: '{"a":"b"}', list: '["x"]'}, properties: {}, modelType: 'MLFlowModel', isAnonymous: false},
    })
    expect(() => modelVersionBody(ctx, {name: 'vit'})).toThrow(/version: is required/)
  })

  it('keeps uri and mode of pipeline asset inputs and names an unnamed job after its content', () => {
    const yaml = {
      type: 'pipeline',
      display_name: 'Fine Tune!',
      inputs: {m: {type: 'mlflow_model', path: 'azureml://registries/r/models/vit/versions/3', mode: 'ro_mount'}, epochs: 3},
      jobs: {step: {type: 'command', component: 'azureml:train:2', compute: 'azureml:gpu', inputs: {m: '${{parent.inputs.m}}', lr: 0.5}}},
    }
    const a = pipelineJobBody(ctx, yaml, 'file')
    const props = a.body.properties as Record<string, Record<string, unknown>>
    expect(props.inputs.m).toEqual({jobInputType: 'mlflow_model', uri: 'azureml://registries/r/models/vit/versions/3', mode: 'ReadOnlyMount'})
    expect(props.inputs.epochs).toEqual({jobInputType: 'literal', value: '3'})
    expect(props.jobs.step).toEqual({
      name: 'step',
      type: 'command',
      _source: 'REMOTE.WORKSPACE_COMPONENT',
      componentId: `${WS}/components/train/versions/2`,
      computeId: `${WS}/computes/gpu`,
      inputs: {m: {job_input_type: 'literal', value: '${{parent.inputs.m}}'}, lr: {job_input_type: 'literal', value: '0.5'}},
      outputs: {},
    })
    expect(a.name).toMatch(/^fine-tune-[0-9a-f]{10}$/)
    expect(pipelineJobBody(ctx, yaml, 'file').name).toBe(a.name)
    expect(pipelineJobBody(ctx, {...yaml, inputs: {...yaml.inputs, epochs: 4}}, 'file').name).not.toBe(a.name)
    expect(() => pipelineJobBody(ctx, {...yaml, inputs: {d: {type: 'uri_folder', path: './data'}}}, 'f')).toThrow(/inputs\.d\.path: '\.\/data' is a local path/)
  })
})

describe('diffResource', () => {
  const desired = {
    location: 'westeurope',
    tags: {a: '1'},
    properties: {instanceType: 'Standard_DS3_v2', requestSettings: {requestTimeout: 'PT60S'}},
  }
  it('ignores fields Azure adds and compares durations by length of time', () => {
    const current = {
      id: '/x',
      location: 'West Europe',
      tags: {a: '1'},
      properties: {instanceType: 'Standard_DS3_v2', requestSettings: {requestTimeout: 'PT1M', maxQueueWait: 'PT0.5S'}, provisioningState: 'Succeeded'},
    }
    expect(diffResource(desired, current, ['location'])).toEqual([])
  })
  it('reports changed fields and tags that a PUT would remove', () => {
    const current = {tags: {a: '1', b: '2'}, properties: {instanceType: 'Standard_DS4_v2'}}
    expect(diffResource(desired, current, ['location'])).toEqual([
      {path: 'tags.b', from: '2', to: undefined},
      {path: 'properties.instanceType', from: 'Standard_DS4_v2', to: 'Standard_DS3_v2'},
      {path: 'properties.requestSettings.requestTimeout', from: undefined, to: 'PT60S'},
    ])
  })
})

describe('what the SDK does before the PUT (issue 12)', () => {
  it('keeps a curated environment in short form; a workspace environment becomes its ARM id', () => {
    const dep = (environment: string) =>
      onlineDeploymentBody(ctx, {name: 'blue', endpoint_name: 'ep', instance_type: 'Standard_DS3_v2', environment}).body.properties as Record<string, unknown>
    expect(dep('azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33').environmentId).toBe('azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33')
    expect(dep('AzureML-minimal-ubuntu20.04-py38-cpu@latest').environmentId).toBe('azureml:AzureML-minimal-ubuntu20.04-py38-cpu@latest')
    expect(dep('azureml:my-env:2').environmentId).toBe(`${WS}/environments/my-env/versions/2`)
  })

  it('strips zero-percent traffic and lower-cases deployment names', () => {
    const ep = onlineEndpointBody(ctx, {name: 'ep', traffic: {Blue: 100, green: 0}})
    expect(ep.traffic).toEqual({blue: 100})
  })

  it("checks model names against Azure's pattern, with the rule in the message", () => {
    expect(() => modelVersionBody(ctx, {name: 'vit.base', version: '1'})).toThrow(
      /x\.yaml: name: model name "vit\.base" is refused by Azure ML: .*\^\[a-zA-Z0-9\]\[a-zA-Z0-9\\-_\]\{0,254\}\$; no '\.'/,
    )
    expect(modelVersionBody(ctx, {name: '0-vit_base', version: '1'}).name).toBe('0-vit_base')
  })
})

describe('secrets in the plan', () => {
  it('an environment variable or secret-named field changed shows its key and "changed", never a value', () => {
    const changes = diffResource(
      {properties: {environmentVariables: {API_KEY: 'new-secret-value', LOG_LEVEL: 'debug'}, modelUri: 'https://a.blob.core.windows.net/c/m?sv=1&sig=NEWSIG', primaryKey: 'k2'}},
      {properties: {environmentVariables: {API_KEY: 'old-secret-value', LOG_LEVEL: 'info'}, modelUri: 'https://a.blob.core.windows.net/c/m?sv=1&sig=OLDSIG', primaryKey: 'k1'}},
    ).map(shownChange)
    expect(changes).toEqual([
      {path: 'properties.environmentVariables.API_KEY', hidden: true},
      {path: 'properties.environmentVariables.LOG_LEVEL', hidden: true},
      {path: 'properties.modelUri', from: 'https://a.blob.core.windows.net/c/m?sv=1&sig=<redacted>', to: 'https://a.blob.core.windows.net/c/m?sv=1&sig=<redacted>'},
      {path: 'properties.primaryKey', hidden: true},
    ])
    expect(changes.map(formatChange)[0]).toBe('properties.environmentVariables.API_KEY: changed (value not shown)')
    // A whole map added at once shows its keys only.
    expect(shownChange({path: 'properties.environmentVariables', to: {TOKEN: 'abc', MODE: 'x'}})).toEqual({
      path: 'properties.environmentVariables',
      to: {TOKEN: '<redacted>', MODE: '<redacted>'},
    })
  })
})
