import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {runApply, type ApplyRequest} from '../../src/azure/run-apply.js'
import {parseDuration} from '../../src/azure/timeout.js'
import {uploadFiles} from '../../src/azure/upload.js'
import {ExitCode} from '../../src/core/errors.js'
import {silentProgress} from '../../src/core/progress.js'
import {tempDir} from '../helpers/tmp.js'
import {FakeArm} from './fake-arm.js'

const FIX = join(import.meta.dirname, 'fixtures')
const SUB = '00000000-1111-2222-3333-444444444444'
const WS_PATH = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/vit-ws`

let fake: FakeArm
let lines: string[]
beforeEach(async () => {
  fake = await FakeArm.start()
  lines = []
})
afterEach(async () => {
  await fake.close()
})

function request(files: string[], extra: Partial<ApplyRequest> = {}): ApplyRequest {
  return {
    files,
    planOnly: false,
    wait: false,
    target: {subscription: SUB, resourceGroup: 'rg', workspace: 'vit-ws', armEndpoint: fake.url},
    env: {AZURE_ACCESS_TOKEN: fake.token},
    pollIntervalMs: 5,
    log: (l) => lines.push(l),
    progress: silentProgress,
    ...extra,
  }
}

describe('runApply in process', () => {
  it('without --registry a model YAML becomes a workspace model version through the SDK', async () => {
    const r = await runApply(request([join(FIX, 'model-remote.yaml')]))
    expect(r.error).toBeUndefined()
    const put = fake.requests.find((q) => q.method === 'PUT')!
    expect(put.path).toBe(`${WS_PATH}/models/vit-digits-finetuned/versions/1`)
    expect(put.query['api-version']).toBe('2022-10-01')
    expect(put.json).toEqual({
      properties: {
        description: 'Fine-tuned on the digits set',
        tags: {task: 'image-classification'},
        properties: {},
        modelType: 'MLFlowModel',
        isAnonymous: false,
        modelUri: 'azureml://jobs/vit-digits-finetune-1/outputs/trained_model',
      },
    })
  })

  it('--wait follows every endpoint and deployment operation to Succeeded, with status lines', async () => {
    const files = ['online-endpoint.yaml', 'online-deployment.yaml', 'batch-endpoint.yaml', 'batch-deployment.yaml'].map((f) => join(FIX, f))
    const r = await runApply(request(files, {wait: true}))
    expect(r.error).toBeUndefined()
    expect(r.stillRunning).toEqual([])
    expect(r.applied!.map((a) => [a.name, a.outcome, a.status])).toEqual([
      ['vit-digits-ep', 'created', 'Succeeded'],
      ['vit-digits-batch', 'created', 'Succeeded'],
      ['vit-digits-ep/blue', 'created', 'Succeeded'],
      ['vit-digits-batch/default', 'created', 'Succeeded'],
      // The routing steps (traffic, default deployment) on endpoints that did not exist at plan time.
      ['vit-digits-ep', 'created', 'Succeeded'],
      ['vit-digits-batch', 'created', 'Succeeded'],
    ])
    for (const p of ['onlineEndpoints/vit-digits-ep', 'onlineEndpoints/vit-digits-ep/deployments/blue', 'batchEndpoints/vit-digits-batch/deployments/default']) {
      expect((fake.get(`${WS_PATH}/${p}`)!.properties as {provisioningState: string}).provisioningState).toBe('Succeeded')
    }
    expect(lines).toContain('online deployment vit-digits-ep/blue: Succeeded (0s)')
    expect(lines.some((l) => /^batch deployment vit-digits-batch\/default: InProgress/.test(l))).toBe(true)
  })

  it('--all-traffic routes each endpoint to the deployment in the files (as az ml --all-traffic / --set-default)', async () => {
    const files = ['online-deployment.yaml', 'batch-deployment.yaml'].map((f) => join(FIX, f))
    fake.seed(`${WS_PATH}/onlineEndpoints/vit-digits-ep`, {location: 'westeurope', properties: {authMode: 'Key', traffic: {}, provisioningState: 'Succeeded'}})
    fake.seed(`${WS_PATH}/batchEndpoints/vit-digits-batch`, {location: 'westeurope', properties: {authMode: 'AADToken', provisioningState: 'Succeeded'}})
    const plan = await runApply(request(files, {planOnly: true, allTraffic: true}))
    expect(plan.resources.map((r) => [r.kind, r.action, r.changes])).toEqual([
      ['online-deployment', 'create', []],
      ['batch-deployment', 'create', []],
      ['online-endpoint-traffic', 'update', [{path: 'properties.traffic.blue', to: 100}]],
      ['batch-endpoint-default', 'update', [{path: 'properties.defaults.deploymentName', to: 'default'}]],
    ])
    const r = await runApply(request(files, {allTraffic: true}))
    expect(r.error).toBeUndefined()
    const epPut = fake.requests.filter((q) => q.method === 'PUT' && q.path.endsWith('/onlineEndpoints/vit-digits-ep'))
    expect(epPut).toHaveLength(1)
    expect(epPut[0].json).toEqual({location: 'westeurope', properties: {authMode: 'Key', traffic: {blue: 100}}})
    expect(await runApply(request(files, {planOnly: true, allTraffic: true}))).toMatchObject({changesPending: false})
  })

  it('an operation that ends Failed is reported with Azure\'s error code (exit 3)', async () => {
    fake.fail({method: 'GET', path: /^\/operations\//, status: 200, body: {status: 'Failed', error: {code: 'ResourceNotReady', message: 'User container has crashed or terminated.'}}, times: 100})
    const r = await runApply(request([join(FIX, 'online-endpoint.yaml'), join(FIX, 'online-deployment.yaml')]))
    expect(r.error).toMatchObject({exitCode: 3})
    expect(r.error!.message).toBe('online endpoint vit-digits-ep: Failed: ResourceNotReady: User container has crashed or terminated.')
    expect(r.applied).toEqual([])
    expect(fake.requests.some((q) => q.method === 'PUT' && q.path.includes('/deployments/'))).toBe(false)
  })

  it('a job that ends Failed makes the apply fail (exit 3) after saying so', async () => {
    fake.jobStatuses = ['NotStarted', 'Running', 'Failed']
    const r = await runApply(request([join(FIX, 'finetune-pipeline.yaml')], {wait: true}))
    expect(r.error).toMatchObject({exitCode: 3})
    expect(r.applied![0]).toMatchObject({outcome: 'failed', status: 'Failed'})
    expect(lines.some((l) => /: Failed \(\d+s\)$/.test(l))).toBe(true)
  })

  it('aborting while waiting on an SDK operation lists it as still running, with its operation URL', async () => {
    fake.pollsBeforeDone = 1_000_000
    const controller = new AbortController()
    const r = runApply(
      request([join(FIX, 'online-deployment.yaml'), join(FIX, 'online-endpoint.yaml')], {
        wait: true,
        signal: controller.signal,
        log: (l) => {
          lines.push(l)
          if (/InProgress/.test(l)) controller.abort()
        },
      }),
    )
    const result = await r
    expect(result.interrupted).toBe(true)
    expect(result.stillRunning).toHaveLength(1)
    expect(result.stillRunning![0]).toMatchObject({kind: 'online-endpoint', name: 'vit-digits-ep'})
    expect(result.stillRunning![0].operation).toMatch(new RegExp(`^${fake.url}/operations/`))
    expect(fake.requests.some((q) => q.method === 'PUT' && q.path.includes('/deployments/'))).toBe(false)
  })
})

// The real Azure contract (issue 12): deadlines and request timeouts, an upload that stops at its first failure, job
// statuses as the REST spec defines them.
describe('timeouts', () => {
  it('parses durations as users write them', () => {
    expect(parseDuration('90s', '--timeout')).toBe(90_000)
    expect(parseDuration('1h30m', '--timeout')).toBe(5_400_000)
    expect(parseDuration('250ms', '--timeout')).toBe(250)
    expect(parseDuration('2', '--timeout')).toBe(2000)
    expect(() => parseDuration('soon', '--timeout')).toThrow(/--timeout: 'soon' is not a duration/)
    expect(() => parseDuration('0s', '--timeout')).toThrow(/longer than zero/)
  })

  it('an ARM that never answers: the plan ends at --timeout with exit 3, nothing changed', async () => {
    fake.fail({method: 'GET', path: /\/workspaces\/vit-ws$/, status: 0, hang: true})
    const started = Date.now()
    const err = await runApply(request([join(FIX, 'online-endpoint.yaml')], {timeoutMs: 800})).catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(5000)
    expect((err as {exitCode: number}).exitCode).toBe(ExitCode.Remote)
    expect((err as Error).message).toMatch(/timed out after 800ms \(--timeout\) while reading what exists in Azure; nothing was changed/)
    expect(fake.writes()).toEqual([])
  })

  it('a request that hangs once is abandoned after the request timeout and retried', async () => {
    fake.fail({method: 'GET', path: /\/workspaces\/vit-ws$/, status: 0, hang: true})
    const r = await runApply(request([join(FIX, 'model-remote.yaml'), join(FIX, 'online-endpoint.yaml')], {planOnly: true, requestTimeoutMs: 300}))
    expect(r.summary.create).toBeGreaterThan(0)
    expect(fake.requests.filter((q) => q.path === WS_PATH)).toHaveLength(2)
    expect(lines.join('\n')).toMatch(/no answer within 300ms \(request timeout\)|ETIMEDOUT/)
  })

  it('--wait on a job that never ends stops at --timeout: exit 3, the job listed as still running with how to follow it', async () => {
    fake.jobStatuses = ['NotStarted', 'Running']
    const r = await runApply(request([join(FIX, 'finetune-pipeline.yaml')], {wait: true, timeoutMs: 600}))
    expect(r.error?.exitCode).toBe(ExitCode.Remote)
    expect(r.timedOut).toEqual({afterMs: 600, phase: 'apply'})
    expect(r.interrupted).toBe(false)
    expect(r.stillRunning).toEqual([{kind: 'pipeline-job', name: expect.stringMatching(/^vit-digits-finetune-[0-9a-f]{10}$/), status: 'Running'}])
    expect(r.error?.message).toContain('timed out after 600ms (--timeout) before everything finished')
    expect(r.error?.message).toContain(`az ml job show -n ${r.stillRunning![0].name} -g rg -w vit-ws`)
  })
})

describe('job statuses per the REST spec', () => {
  it('NotResponding and Paused are shown and waited on, not failures', async () => {
    fake.jobStatuses = ['Running', 'NotResponding', 'NotResponding', 'Paused', 'Running', 'Completed']
    const r = await runApply(request([join(FIX, 'finetune-pipeline.yaml')], {wait: true}))
    expect(r.error).toBeUndefined()
    expect(r.applied).toEqual([{kind: 'pipeline-job', name: expect.stringMatching(/^vit-digits-finetune-/), outcome: 'succeeded', status: 'Completed'}])
    const text = lines.join('\n')
    expect(text).toMatch(/NotResponding \(Azure lost contact with the job; it may still recover/)
    expect(text).toMatch(/Paused \(paused by a user/)
    expect(text).toMatch(/: Completed/)
  })
})

describe('upload', () => {
  it('the first failed blob call aborts every call in flight and sends no other', async () => {
    const dir = await tempDir()
    const files = []
    for (let i = 0; i < 24; i++) {
      const name = `f${String(i).padStart(2, '0')}.bin`
      await writeFile(join(dir, name), Buffer.alloc(100, i))
      files.push({path: name, size: 100, sha256: ''})
    }
    // Successful calls are held in flight for 4 s; the call for f01 fails at once (400: not retried).
    fake.blobDelayMs = 4000
    fake.fail({method: 'PUT', path: /f01\.bin$/, status: 400, body: '<Error><Code>InvalidHeaderValue</Code><Message>bad</Message></Error>'})
    const started = Date.now()
    const err = await uploadFiles(`${fake.url}/blob/c1?sv=1&sig=FAKESASSIGNATURE`, dir, files, {concurrency: 4, progress: silentProgress}).catch((e: unknown) => e)
    expect((err as Error).message).toContain('InvalidHeaderValue')
    // It returned when the failure was known, not after the held calls finished.
    expect(Date.now() - started).toBeLessThan(3500)
    // Only the 4 calls in flight when f01 failed were ever sent: none after (the aborted ones freed their slots).
    await new Promise((r) => setTimeout(r, 4200))
    expect(fake.blobRequests().map((q) => q.path.split('/').pop()).sort()).toEqual(['f00.bin', 'f01.bin', 'f02.bin', 'f03.bin'])
  })
})

describe('Failed resources and registries elsewhere', () => {
  const REG_SUB = '99999999-8888-7777-6666-555555555555'
  const REG_ID = `/subscriptions/${REG_SUB}/resourceGroups/shared-rg/providers/Microsoft.MachineLearningServices/registries/shared-reg`

  it('a model version Azure holds as Failed is planned "repair" and sent again, even when its body matches', async () => {
    const file = join(FIX, 'model-remote.yaml')
    const path = `${WS_PATH}/models/vit-digits-finetuned/versions/1`
    const first = await runApply(request([file]))
    expect(first.error).toBeUndefined()
    const stored = fake.get(path)!
    ;(stored.properties as Record<string, unknown>).provisioningState = 'Failed'
    fake.clear()
    const plan = await runApply(request([file], {planOnly: true}))
    expect(plan.resources[0]).toMatchObject({action: 'repair', notes: [expect.stringContaining('provisioningState Failed')]})
    expect(plan.summary).toMatchObject({repair: 1, noChange: 0})
    expect(plan.changesPending).toBe(true)
    const again = await runApply(request([file]))
    expect(again.error).toBeUndefined()
    expect(fake.writes().map((w) => `${w.method} ${w.path}`)).toEqual([`PUT ${path}`])
  })

  it('a Failed endpoint stops its deployment with a clear error; given with the deployment, it is repaired first', async () => {
    const epPath = `${WS_PATH}/onlineEndpoints/vit-digits-ep`
    fake.seed(epPath, {id: epPath, name: 'vit-digits-ep', location: 'westeurope', properties: {authMode: 'Key', provisioningState: 'Failed', traffic: {}}})
    const dep = await runApply(request([join(FIX, 'online-deployment.yaml')]))
    expect(dep.summary.refused).toBe(1)
    expect(dep.resources[0].reason).toMatch(/endpoint vit-digits-ep is in provisioningState Failed in Azure: a deployment sent to it would fail too/)
    expect(fake.writes()).toEqual([])

    const endpoint = await runApply(request([join(FIX, 'online-endpoint.yaml'), join(FIX, 'online-deployment.yaml')], {planOnly: true}))
    expect(endpoint.resources.map((r) => `${r.kind} ${r.action}`)).toEqual(['online-endpoint repair', 'online-deployment create', 'online-endpoint-traffic update'])
  })

  it('a repaired endpoint that fails again stops apply before the deployment is sent', async () => {
    const epPath = `${WS_PATH}/onlineEndpoints/vit-digits-ep`
    fake.seed(epPath, {id: epPath, name: 'vit-digits-ep', location: 'westeurope', properties: {authMode: 'Key', provisioningState: 'Failed', traffic: {}}})
    fake.failOperations = {code: 'EndpointProvisioningFailed', message: 'quota exceeded'}
    const r = await runApply(request([join(FIX, 'online-endpoint.yaml'), join(FIX, 'online-deployment.yaml')]))
    expect(r.error?.exitCode).toBe(ExitCode.Remote)
    expect(r.error?.message).toMatch(/online endpoint vit-digits-ep: .*EndpointProvisioningFailed: quota exceeded/)
    expect(fake.writes().filter((w) => w.path.includes('/deployments/'))).toEqual([])
  })

  it("--registry as a full ARM id (or --registry-subscription) reaches a registry in another subscription", async () => {
    const r = await runApply(request([join(FIX, 'model-remote.yaml')], {planOnly: true, target: {subscription: SUB, resourceGroup: 'rg', registry: REG_ID, armEndpoint: fake.url}}))
    expect(r.resources[0].id).toBe(`${REG_ID}/models/vit-digits-finetuned/versions/1`)
    expect(fake.requests.map((q) => q.path)).toEqual([`${REG_ID}/models/vit-digits-finetuned/versions/1`])
    const flags = await runApply(
      request([join(FIX, 'model-remote.yaml')], {
        planOnly: true,
        target: {subscription: SUB, resourceGroup: 'rg', registry: 'shared-reg', registrySubscription: REG_SUB, registryResourceGroup: 'shared-rg', armEndpoint: fake.url},
      }),
    )
    expect(flags.resources[0].id).toBe(r.resources[0].id)
    await expect(
      runApply(request([join(FIX, 'model-remote.yaml')], {target: {subscription: SUB, resourceGroup: 'rg', registry: REG_ID, registrySubscription: SUB, armEndpoint: fake.url}})),
    ).rejects.toThrow(/--registry-subscription '.*' disagrees with the registry ARM id/)
  })
})

describe('a model whose local path is a single file', () => {
  it('is uploaded as that one file and the model version points at it', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'model.onnx'), Buffer.from([1, 2, 3, 4, 5]))
    await writeFile(
      join(dir, 'model.yaml'),
      '$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\nname: vit-digits-onnx\nversion: "1"\ntype: custom_model\npath: ./model.onnx\n',
    )
    const target = {subscription: SUB, resourceGroup: 'rg', registry: 'reg', armEndpoint: fake.url}
    const r = await runApply(request([join(dir, 'model.yaml')], {target}))
    expect(r.error).toBeUndefined()
    const blobs = fake.blobRequests()
    expect(blobs.length).toBeGreaterThan(0)
    const container = blobs[0].path.split('/')[2]
    expect([...fake.blobs.keys()]).toEqual([`${container}/model.onnx`])
    expect(fake.blobs.get(`${container}/model.onnx`)).toEqual(Buffer.from([1, 2, 3, 4, 5]))
    const put = fake.writes().find((w) => w.method === 'PUT' && w.path.endsWith('/models/vit-digits-onnx/versions/1'))!
    expect((put.json as {properties: {modelUri: string}}).properties.modelUri).toMatch(new RegExp(`/blob/${container}/model\\.onnx$`))
  })
})
