import {cp, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {FakeArm, type Json, type RecordedRequest} from '../azure/fake-arm.js'
import {ROOT, runCli, type CliResult} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const FIX = join(ROOT, 'test/azure/fixtures')
const PKG = join(FIX, 'vit-pkg')
const SUB = '00000000-1111-2222-3333-444444444444'
const RG = 'vit-rg'
const WS_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/workspaces/vit-ws`
const REG_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.MachineLearningServices/registries/vitrine-test`
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOi.secret-test-token.Zm9vYmFy'

const ALL = [
  PKG,
  join(FIX, 'model-remote.yaml'),
  join(FIX, 'online-endpoint.yaml'),
  join(FIX, 'online-deployment.yaml'),
  join(FIX, 'batch-endpoint.yaml'),
  join(FIX, 'batch-deployment.yaml'),
  join(FIX, 'finetune-pipeline.yaml'),
]

let fake: FakeArm

beforeEach(async () => {
  fake = await FakeArm.start()
  fake.token = TOKEN
})
afterEach(async () => {
  await fake.close()
})

/** The environment of a CI job that holds a token; nothing inherited from this machine's Azure settings. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AZURE_ACCESS_TOKEN: TOKEN,
    AZURE_SUBSCRIPTION_ID: SUB,
    AZURE_RESOURCE_GROUP: RG,
    AZUREML_WORKSPACE: '',
    AZURE_ML_WORKSPACE: '',
    AZUREML_REGISTRY: '',
    AZURE_ML_REGISTRY: '',
    AZURE_ARM_ENDPOINT: '',
    AZURE_TENANT_ID: '',
    AZURE_CLIENT_ID: '',
    AZURE_CLIENT_SECRET: '',
    AZURE_FEDERATED_TOKEN_FILE: '',
    ...extra,
  }
}

function apply(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  return runCli(
    ['apply', ...args, '--arm-endpoint', fake.url, '--workspace', 'vit-ws', '--registry', 'vitrine-test', '--poll-interval', '0.01'],
    {env: env(extra)},
  )
}

/** stderr as one line: oclif wraps error messages at the terminal width and prefixes them with ' ›   '. */
function flat(s: string): string {
  return s.replace(/\n? › {3}/g, ' ').replace(/\s+/g, ' ')
}

/** An online endpoint without traffic (traffic to a deployment that does not exist would be refused). */
async function plainEndpoint(): Promise<string> {
  const file = join(await tempDir(), 'endpoint.yaml')
  await writeFile(file, (await readFile(join(FIX, 'online-endpoint.yaml'), 'utf8')).replace(/traffic:\n {2}blue: 100\n/, ''))
  return file
}

function expectNoSecrets(r: CliResult): void {
  for (const s of [r.stdout, r.stderr]) {
    expect(s).not.toContain(TOKEN)
    expect(s).not.toContain('secret-test-token')
    expect(s).not.toContain('FAKESASSIGNATURE')
  }
}

function puts(pathEnd: string): RecordedRequest[] {
  return fake.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/subscriptions/') && r.path.endsWith(pathEnd))
}

function parseJsonResult(r: CliResult): Json {
  const json = JSON.parse(r.stdout) as Json
  const check = validateWithSchema('apply-result.schema.json', json)
  expect(check.state === 'ok' ? [] : check.issues).toEqual([])
  return json
}

// Each case runs the built CLI two to four times; on a shared 2-core machine one run can take 10 s.
describe('vitrine apply against the fake ARM + blob server', {timeout: 240_000}, () => {
  it('--plan, apply, --plan again: creates everything once, sends the right bodies and bytes, then has nothing to do', async () => {
    // 1. Plan: everything is to be created; nothing is written; --detailed-exitcode says changes are pending.
    const plan1 = await apply([...ALL, '--plan', '--detailed-exitcode'])
    expectNoSecrets(plan1)
    expect(plan1.stderr).toBe('')
    expect(plan1.exitCode).toBe(2)
    expect(plan1.stdout).toMatch(/\+ create {5}registry model version +vit-digits:3 /)
    expect(plan1.stdout).toMatch(/Plan: 9 to create, 0 to update, 0 unchanged\./)
    expect(fake.writes()).toEqual([])
    expect(fake.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true)

    // 2. Apply (blocks of 1 KiB so the 3000-byte weights go up as Put Block + Put Block List).
    fake.clear()
    const run = await apply([...ALL, '--upload-block-size', '1024', '--upload-concurrency', '3'])
    expectNoSecrets(run)
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stdout).toContain('Applied: 6 created, 1 submitted, 2 started.')
    expect(run.stdout).toContain('Still running in Azure (use --wait to follow):')

    // Registry model version: pending upload, the files' bytes, then the version PUT pointing at them.
    const start = fake.requests.find((r) => r.path === `${REG_PATH}/models/vit-digits/versions/3/startPendingUpload`)!
    expect(start.method).toBe('POST')
    expect(start.json).toMatchObject({pendingUploadType: 'TemporaryBlobReference'})
    const blobs = fake.blobRequests()
    expect(blobs.length).toBeGreaterThan(0)
    expect(blobs.every((b) => b.headers.authorization === undefined)).toBe(true)
    const container = blobs[0].path.split('/')[2]
    for (const f of ['mlflow_model_folder/MLmodel', 'mlflow_model_folder/model/config.json', 'mlflow_model_folder/model/model.safetensors']) {
      expect(fake.blobs.get(`${container}/${f}`), f).toEqual(await readFile(join(PKG, f)))
    }
    expect([...fake.blobs.keys()].filter((k) => k.includes('/asset/'))).toEqual([])
    const weights = blobs.filter((b) => b.path.endsWith('model.safetensors'))
    expect(weights.filter((b) => b.query.comp === 'block').map((b) => b.body.length)).toEqual(expect.arrayContaining([1024, 1024, 952]))
    expect(weights.filter((b) => b.query.comp === 'blocklist')).toHaveLength(1)
    const [version] = puts(`${REG_PATH}/models/vit-digits/versions/3`)
    expect(version.json).toEqual({
      properties: {
        description: 'A tiny ViT trained on 32x32 digit images (test fixture for vitrine apply).',
        tags: {task: 'image-classification', license: 'apache-2.0', model_specific_defaults: '{"apply_ort":"true"}'},
        properties: {SHA: '0123456789abcdef', datasets: 'digits'},
        modelType: 'MLFlowModel',
        isAnonymous: false,
        modelUri: `${fake.url}/blob/${container}/mlflow_model_folder`,
      },
    })
    expect(version.at).toBeGreaterThanOrEqual(Math.max(...blobs.map((b) => b.at)))
    const [remoteModel] = puts(`${REG_PATH}/models/vit-digits-finetuned/versions/1`)
    expect((remoteModel.json as Json).properties).toMatchObject({modelUri: 'azureml://jobs/vit-digits-finetune-1/outputs/trained_model', modelType: 'MLFlowModel'})

    // Online endpoint: created without traffic, then traffic set once the deployment has succeeded.
    const epPuts = puts(`${WS_PATH}/onlineEndpoints/vit-digits-ep`)
    expect(epPuts).toHaveLength(2)
    expect(epPuts[0].json).toEqual({
      location: 'westeurope',
      identity: {type: 'SystemAssigned'},
      tags: {model: 'vit-digits'},
      properties: {authMode: 'Key', description: 'ViT digits classifier'},
    })
    expect((epPuts[1].json as {properties: Json}).properties.traffic).toEqual({blue: 100})
    const [depPut] = puts(`${WS_PATH}/onlineEndpoints/vit-digits-ep/deployments/blue`)
    expect(depPut.json).toEqual({
      location: 'westeurope',
      sku: {name: 'Default', capacity: 1},
      properties: {
        endpointComputeType: 'Managed',
        model: 'azureml://registries/vitrine-test/models/vit-digits/versions/3',
        instanceType: 'Standard_DS3_v2',
        environmentVariables: {WORKER_COUNT: '1'},
        requestSettings: {maxConcurrentRequestsPerInstance: 1, requestTimeout: 'PT1M30S'},
        livenessProbe: {failureThreshold: 49, initialDelay: 'PT3M', period: 'PT3M', timeout: 'PT4M59S'},
        readinessProbe: {failureThreshold: 30, initialDelay: 'PT10S', period: 'PT10S', successThreshold: 1, timeout: 'PT2S'},
      },
    })
    // Order: endpoint PUT, its operation polled to Succeeded, deployment PUT, ..., traffic PUT last.
    expect(epPuts[0].at).toBeLessThanOrEqual(depPut.at)
    expect(depPut.at).toBeLessThanOrEqual(epPuts[1].at)

    const [batchDep] = puts(`${WS_PATH}/batchEndpoints/vit-digits-batch/deployments/default`)
    expect(batchDep.json).toEqual({
      location: 'westeurope',
      properties: {
        model: {referenceType: 'Id', assetId: 'azureml://registries/vitrine-test/models/vit-digits/versions/3'},
        compute: `${WS_PATH}/computes/cpu-cluster`,
        resources: {instanceCount: 1},
        miniBatchSize: 1,
        maxConcurrencyPerInstance: 1,
        errorThreshold: -1,
        outputAction: 'AppendRow',
        outputFileName: 'predictions.csv',
        loggingLevel: 'Info',
        retrySettings: {maxRetries: 3, timeout: 'PT5M'},
      },
    })
    const batchEps = puts(`${WS_PATH}/batchEndpoints/vit-digits-batch`)
    expect(batchEps.map((p) => (p.json as {properties: Json}).properties.defaults)).toEqual([undefined, {deploymentName: 'default'}])

    // Pipeline job: sent raw, asset inputs keep uri and mode (the 2.1.1 serializer would drop them).
    const jobPut = fake.requests.find((r) => r.method === 'PUT' && r.path.startsWith(`${WS_PATH}/jobs/`))!
    expect(jobPut.path).toMatch(/\/jobs\/vit-digits-finetune-[0-9a-f]{10}$/)
    const job = (jobPut.json as {properties: Json}).properties
    expect(job.jobType).toBe('Pipeline')
    expect(job.inputs).toEqual({
      mlflow_model: {jobInputType: 'mlflow_model', uri: 'azureml://registries/vitrine-test/models/vit-digits/versions/3'},
      training_data: {jobInputType: 'mltable', uri: 'azureml://datastores/workspaceblobstore/paths/digits/train/', mode: 'ReadOnlyMount'},
      validation_data: {jobInputType: 'mltable', uri: 'azureml://datastores/workspaceblobstore/paths/digits/validation/'},
      number_of_epochs: {jobInputType: 'literal', value: '3'},
      learning_rate: {jobInputType: 'literal', value: '0.0001'},
    })
    expect(job.outputs).toEqual({trained_model: {jobOutputType: 'mlflow_model', mode: 'ReadWriteMount'}})
    expect(job.settings).toEqual({default_compute: `${WS_PATH}/computes/gpu-cluster`, force_rerun: true})
    expect((job.jobs as Json).finetune).toMatchObject({
      componentId: 'azureml://registries/azureml/components/transformers_image_classification_pipeline/labels/latest',
      _source: 'REMOTE.REGISTRY',
      inputs: {
        mlflow_model: {job_input_type: 'literal', value: '${{parent.inputs.mlflow_model}}'},
        task_name: {job_input_type: 'literal', value: 'image-classification'},
      },
      outputs: {mlflow_model_folder: {type: 'literal', value: '${{parent.outputs.trained_model}}'}},
    })

    // 3. Plan again: nothing to do (exit 0 with --detailed-exitcode).
    fake.clear()
    const plan2 = await apply([...ALL, '--plan', '--detailed-exitcode', '--json'])
    expectNoSecrets(plan2)
    expect(plan2.exitCode, plan2.stderr).toBe(0)
    const json = parseJsonResult(plan2)
    expect(json.changesPending).toBe(false)
    expect((json.resources as Array<{action: string}>).map((r) => r.action)).toEqual(Array(9).fill('no-change'))

    // 4. Apply again: no write reaches Azure, nothing is uploaded.
    fake.clear()
    const again = await apply(ALL)
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stdout).toContain('No changes.')
    expect(fake.writes()).toEqual([])
    expect(fake.blobRequests()).toEqual([])
  })

  it('refuses a changed property of an existing model version with "bump the version" and writes nothing', async () => {
    fake.seed(`${REG_PATH}/models/vit-digits/versions/3`, {
      id: `${REG_PATH}/models/vit-digits/versions/3`,
      properties: {
        description: 'A tiny ViT trained on 32x32 digit images (test fixture for vitrine apply).',
        tags: {task: 'image-classification', license: 'apache-2.0', model_specific_defaults: '{"apply_ort":"true"}'},
        properties: {SHA: 'ffffffffffffffff', datasets: 'digits'},
        modelType: 'MLFlowModel',
        modelUri: 'https://example.invalid/x',
        provisioningState: 'Succeeded',
      },
    })
    for (const mode of [['--plan'], []]) {
      const r = await apply([PKG, ...mode])
      expect(r.exitCode).toBe(1)
      expect(r.stdout).toMatch(/! refused +registry model version +vit-digits:3 /)
      expect(r.stdout).toContain('properties.properties.SHA: "ffffffffffffffff" -> "0123456789abcdef"')
      expect(r.stdout).toContain('bump the version')
      expect(fake.writes()).toEqual([])
      expect(fake.blobRequests()).toEqual([])
    }
  })

  it('shows an update with its field diff, then applies it', async () => {
    const first = await apply([join(FIX, 'online-endpoint.yaml'), join(FIX, 'online-deployment.yaml')])
    expect(first.exitCode, first.stderr).toBe(0)
    const dir = await tempDir()
    const changed = (await readFile(join(FIX, 'online-deployment.yaml'), 'utf8')).replace('Standard_DS3_v2', 'Standard_DS4_v2').replace('instance_count: 1', 'instance_count: 2')
    await writeFile(join(dir, 'deployment.yaml'), changed)
    const plan = await apply([join(FIX, 'online-endpoint.yaml'), join(dir, 'deployment.yaml'), '--plan'])
    expect(plan.exitCode).toBe(0)
    expect(plan.stdout).toMatch(/~ update +online deployment +vit-digits-ep\/blue /)
    expect(plan.stdout).toContain('sku.capacity: 1 -> 2')
    expect(plan.stdout).toContain('properties.instanceType: "Standard_DS3_v2" -> "Standard_DS4_v2"')
    expect(plan.stdout).toMatch(/= no change\s+online endpoint\s+vit-digits-ep/)
    fake.clear()
    const run = await apply([join(FIX, 'online-endpoint.yaml'), join(dir, 'deployment.yaml'), '--wait'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(fake.writes().map((w) => w.path.split('/').slice(-3).join('/'))).toEqual(['vit-digits-ep/deployments/blue'])
    expect(run.stderr).toMatch(/online deployment vit-digits-ep\/blue: Succeeded/)
  })

  it('reports a 409 conflict with Azure\'s code and message (exit 3)', async () => {
    fake.fail({method: 'PUT', path: /\/deployments\/blue$/, status: 409, body: {error: {code: 'Conflict', message: 'Another operation is in progress on deployment blue.'}}})
    const r = await apply([join(FIX, 'online-endpoint.yaml'), join(FIX, 'online-deployment.yaml'), '--json'])
    expectNoSecrets(r)
    expect(r.exitCode).toBe(3)
    expect(flat(r.stderr)).toContain('Conflict: Another operation is in progress on deployment blue. (HTTP 409)')
    const json = parseJsonResult(r)
    expect(json.error).toMatchObject({code: 'Conflict', status: 409, exitCode: 3})
    expect((json.applied as Array<{name: string}>).map((a) => a.name)).toEqual(['vit-digits-ep'])
  })

  it('retries a 429 after the Retry-After it was given, and a 500 then succeeds', async () => {
    fake.fail({method: 'GET', path: /\/onlineEndpoints\/vit-digits-ep$/, status: 429, headers: {'retry-after': '1'}, body: {error: {code: 'TooManyRequests', message: 'slow down'}}})
    fake.fail({method: 'PUT', path: /\/onlineEndpoints\/vit-digits-ep$/, status: 500, body: {error: {code: 'InternalServerError', message: 'boom'}}})
    const r = await apply([await plainEndpoint()])
    expect(r.exitCode, r.stderr).toBe(0)
    const gets = fake.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/onlineEndpoints/vit-digits-ep'))
    expect(gets.length).toBeGreaterThanOrEqual(2)
    expect(gets[1].at - gets[0].at).toBeGreaterThanOrEqual(950)
    expect(r.stderr).toContain('HTTP 429: retrying in 1.0s (retry 1 of 4)')
    const putsSeen = puts('/onlineEndpoints/vit-digits-ep')
    expect(putsSeen).toHaveLength(2)
    expect(putsSeen[1].json).toEqual(putsSeen[0].json)
    expect(r.stderr).toMatch(/HTTP 500: retrying in/)
  })

  it('gives up after --max-retries 5xx answers with Azure\'s error (exit 3)', async () => {
    fake.fail({method: 'GET', path: /\/workspaces\/vit-ws$/, status: 503, headers: {'retry-after': '0'}, body: {error: {code: 'ServiceUnavailable', message: 'try later'}}, times: 10})
    const r = await apply([join(FIX, 'online-endpoint.yaml'), '--max-retries', '2'])
    expect(r.exitCode).toBe(3)
    expect(flat(r.stderr)).toContain('ServiceUnavailable: try later (HTTP 503)')
    expect(fake.requests.filter((q) => q.path.endsWith('/workspaces/vit-ws'))).toHaveLength(3)
  })

  it('reports a 401 with Azure\'s code and never prints the token', async () => {
    fake.token = 'a-different-token'
    // Even with the Azure SDK's most verbose logging on stderr.
    const r = await apply([join(FIX, 'online-endpoint.yaml'), '--plan'], {AZURE_LOG_LEVEL: 'verbose'})
    expectNoSecrets(r)
    expect(r.exitCode).toBe(3)
    expect(flat(r.stderr)).toContain('InvalidAuthenticationToken: The access token is invalid. (HTTP 401)')
    expect(fake.requests[0].headers.authorization).toBe(`Bearer ${TOKEN}`)
  })

  it('refuses a package whose file no longer matches manifest.json, before any upload', async () => {
    const dir = join(await tempDir(), 'pkg')
    await cp(PKG, dir, {recursive: true})
    const weights = join(dir, 'mlflow_model_folder/model/model.safetensors')
    const bytes = await readFile(weights)
    bytes[100] ^= 0xff
    await writeFile(weights, bytes)
    const r = await apply([dir])
    expect(r.exitCode).toBe(1)
    expect(flat(r.stderr)).toContain('model.safetensors: sha256')
    expect(flat(r.stderr)).toContain('manifest.json says 73166f0d')
    expect(fake.writes()).toEqual([])
    expect(fake.blobRequests()).toEqual([])
  })

  it('--wait follows a pipeline job to its terminal status with status lines', async () => {
    const r = await apply([join(FIX, 'finetune-pipeline.yaml'), '--wait'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/pipeline job vit-digits-finetune-[0-9a-f]{10}: submitted \(NotStarted\) https:\/\/ml\.azure\.com/)
    expect(r.stderr).toMatch(/: Running \(\d+s\)/)
    expect(r.stderr).toMatch(/: Completed \(\d+s\)/)
    expect(r.stdout).toContain('Applied: 1 succeeded.')
  })

  it('no credential: exit 2 listing what was tried', async () => {
    const r = await apply([join(FIX, 'online-endpoint.yaml'), '--plan', '--auth', 'env'], {AZURE_ACCESS_TOKEN: ''})
    expect(r.exitCode).toBe(2)
    expect(flat(r.stderr)).toContain('no Azure credential could be used')
    expect(flat(r.stderr)).toContain('EnvironmentCredential is unavailable')
    expect(flat(r.stderr)).toContain('Hint: run `az login`')
    expect(fake.requests).toEqual([])
  })

  it('plain http only to loopback; a missing target names its flag and variable', async () => {
    const r = await runCli(['apply', join(FIX, 'online-endpoint.yaml'), '--arm-endpoint', 'http://management.example.com', '--workspace', 'w'], {env: env()})
    expect(r.exitCode).toBe(2)
    expect(flat(r.stderr)).toContain('plain http is allowed only for loopback addresses')
    const m = await runCli(['apply', join(FIX, 'online-endpoint.yaml'), '--arm-endpoint', fake.url], {env: env({AZURE_SUBSCRIPTION_ID: ''})})
    expect(m.exitCode).toBe(2)
    expect(flat(m.stderr)).toContain('--subscription (or AZURE_SUBSCRIPTION_ID)')
    const w = await runCli(['apply', join(FIX, 'online-endpoint.yaml'), '--arm-endpoint', fake.url], {env: env()})
    expect(w.exitCode).toBe(2)
    expect(flat(w.stderr)).toContain('pass --workspace (or AZUREML_WORKSPACE)')
    expect(fake.requests).toEqual([])
  })

  it('reads the target from the environment (AZUREML_WORKSPACE, AZURE_ARM_ENDPOINT)', async () => {
    const r = await runCli(['apply', await plainEndpoint(), '--plan', '--json'], {
      env: env({AZUREML_WORKSPACE: 'vit-ws', AZURE_ARM_ENDPOINT: fake.url}),
    })
    expect(r.exitCode, r.stderr).toBe(0)
    const json = parseJsonResult(r)
    expect(json.target).toEqual({armEndpoint: fake.url, subscription: SUB, resourceGroup: RG, workspace: 'vit-ws'})
    expect(json.auth).toBe('AZURE_ACCESS_TOKEN')
  })
})

// Issue 13 (hostile input): what Azure returns is untrusted too (finding 8: an unparseable SAS URI), and no plan,
// error or result ever prints a SAS signature (finding 7).
/** Planted signatures: neither may appear in any output. */
const OLD_SIG = 'OldSignaturePlanted0123%2B%3D'
const NEW_SIG = 'NewSignaturePlanted4567%2B%3D'

function expectNoPlanted(r: CliResult, ...secrets: string[]): void {
  for (const s of secrets) {
    expect(r.stdout).not.toContain(s)
    expect(r.stderr).not.toContain(s)
  }
}

describe('finding 8: an unparseable SAS URI from ARM', {timeout: 120_000}, () => {
  it('startPendingUpload answering a sasUri that is not a URL: exit 3, a clear message, the URI never printed, nothing uploaded', async () => {
    const bad = `https://[not-a-host/pending?sv=2021-08-06&sr=c&sp=rcw&sig=${NEW_SIG}`
    fake.fail({method: 'POST', path: /\/startPendingUpload$/, status: 200, body: {blobReferenceForConsumption: {blobUri: 'https://acct.blob.core.windows.net/pending', credential: {credentialType: 'SAS', sasUri: bad}}}})
    for (const json of [false, true]) {
      const r = await apply([PKG, ...(json ? ['--json'] : [])])
      expect(r.exitCode, r.stderr).toBe(3)
      const message = json ? (JSON.parse(r.stdout) as {error: {message: string}}).error.message : r.stderr
      expect(message.replace(/\n? › {3}/g, ' ')).toMatch(/registry model version vit-digits:3: startPendingUpload's credential\.sasUri: Azure returned a SAS URI that is not a URL \(\d+ characters, not shown: it carries a credential\)/)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expectNoPlanted(r, NEW_SIG, 'not-a-host')
      expect(fake.blobRequests()).toEqual([])
      fake.fail({method: 'POST', path: /\/startPendingUpload$/, status: 200, body: {blobReferenceForConsumption: {blobUri: 'https://acct.blob.core.windows.net/pending', credential: {credentialType: 'SAS', sasUri: bad}}}})
    }
  })

  it('a SAS URI to a plain-http, non-loopback host: exit 3 (Azure\'s answer, not the user\'s usage), its query not printed', async () => {
    fake.fail({method: 'POST', path: /\/startPendingUpload$/, status: 200, body: {blobReferenceForConsumption: {blobUri: 'http://acct.example/pending', credential: {credentialType: 'SAS', sasUri: `http://acct.example/pending?sig=${NEW_SIG}`}}}})
    const r = await apply([PKG])
    expect(r.exitCode, r.stderr).toBe(3)
    expect(r.stderr).toContain('plain http is allowed only for loopback addresses')
    expectNoPlanted(r, NEW_SIG)
  })
})

describe('finding 7: apply\'s plan prints a model path\'s old and new sig=', {timeout: 120_000}, () => {
  async function modelYaml(): Promise<string> {
    const file = join(await tempDir(), 'model.yaml')
    await writeFile(file, [
      '$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json',
      'name: vit-blob',
      'version: "1"',
      'type: mlflow_model',
      `path: https://acct.blob.core.windows.net/models/vit?sv=2022-11-02&se=2030-01-01&sp=r&sig=${NEW_SIG}`,
      '',
    ].join('\n'))
    fake.seed(`${REG_PATH}/models/vit-blob/versions/1`, {
      id: `${REG_PATH}/models/vit-blob/versions/1`,
      properties: {modelType: 'MLFlowModel', modelUri: `https://acct.blob.core.windows.net/models/vit?sv=2022-11-02&se=2029-01-01&sp=r&sig=${OLD_SIG}`, provisioningState: 'Succeeded'},
    })
    return file
  }

  it('text, Markdown and --json plans show the path change with both signatures redacted', async () => {
    const file = await modelYaml()
    const text = await apply([file, '--plan'])
    expect(text.stdout).toContain('properties.modelUri: "https://acct.blob.core.windows.net/models/vit?sv=2022-11-02&se=2029-01-01&sp=r&sig=<redacted>" -> "https://acct.blob.core.windows.net/models/vit?sv=2022-11-02&se=2030-01-01&sp=r&sig=<redacted>"')
    expectNoPlanted(text, OLD_SIG, NEW_SIG)

    const markdown = await apply([file, '--plan', '--format', 'markdown'])
    expect(markdown.stdout).toContain('se=2030-01-01&sp=r&sig=<redacted>')
    expectNoPlanted(markdown, OLD_SIG, NEW_SIG)

    const json = await apply([file, '--plan', '--json'])
    const change = (JSON.parse(json.stdout) as {resources: Array<{changes: Array<{path: string; from: string; to: string}>}>}).resources[0].changes.find((c) => c.path === 'properties.modelUri')
    expect(change?.to).toBe('https://acct.blob.core.windows.net/models/vit?sv=2022-11-02&se=2030-01-01&sp=r&sig=<redacted>')
    expectNoPlanted(json, OLD_SIG, NEW_SIG)
    expect(fake.writes()).toEqual([])
  })

  it('an Azure error that quotes the SAS (a refused version PUT): stderr, --json and Markdown redact it', async () => {
    const file = await modelYaml()
    fake.resources.clear()
    const quoted = `https://acct.blob.core.windows.net/models/vit?sv=2022-11-02&sig=${NEW_SIG}`
    for (const args of [[], ['--json'], ['--format', 'markdown']]) {
      fake.fail({method: 'PUT', path: /\/models\/vit-blob\/versions\/1$/, status: 400, body: {error: {code: 'UserError', message: `Cannot access ${quoted}: AuthorizationFailure`}}})
      const r = await apply([file, ...args])
      expect(r.exitCode, r.stderr).toBe(3)
      expect(r.stdout + r.stderr).toContain('sig=<redacted>')
      expectNoPlanted(r, NEW_SIG)
    }
  })
})
