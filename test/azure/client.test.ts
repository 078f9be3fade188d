import {readFile, mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {JobBase} from '@azure/arm-machinelearning'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {credentialError, resolveCredential, StaticTokenCredential} from '../../src/azure/auth.js'
import {ArmClient} from '../../src/azure/client.js'
import {readInputs} from '../../src/azure/read-inputs.js'
import {retryAfterMs, retryDelay, DEFAULT_RETRY} from '../../src/azure/retry.js'
import {checkEndpointUrl, isLoopbackHost, resolveTarget, type ApplyTarget} from '../../src/azure/target.js'
import {blobUrl, redactUrl, uploadFiles, verifyFiles} from '../../src/azure/upload.js'
import {ExitCode} from '../../src/core/errors.js'
import type {Progress} from '../../src/core/progress.js'
import {tempDir} from '../helpers/tmp.js'
import {FakeArm} from './fake-arm.js'

const SUB = '00000000-1111-2222-3333-444444444444'
const WS_PATH = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/vit-ws`

let fake: FakeArm
let target: ApplyTarget
beforeEach(async () => {
  fake = await FakeArm.start()
  target = resolveTarget({subscription: SUB, resourceGroup: 'rg', workspace: 'vit-ws', registry: 'reg', armEndpoint: fake.url}, {}, {workspace: true, registry: true})
})
afterEach(async () => {
  await fake.close()
})

describe('ARM client on the 2.1.1 SDK pipeline', () => {
  it('the SDK serializer drops uri and mode of pipeline asset inputs; our raw request through the same pipeline keeps them', async () => {
    const client = new ArmClient(target, new StaticTokenCredential(fake.token))
    const body = {
      properties: {
        jobType: 'Pipeline',
        inputs: {m: {jobInputType: 'mlflow_model', uri: 'azureml://registries/r/models/vit/versions/3', mode: 'ReadOnlyMount'}},
        jobs: {},
      },
    }
    await client.sdk.jobs.createOrUpdate('rg', 'vit-ws', 'job-sdk', body as unknown as JobBase)
    await client.request('PUT', `${WS_PATH}/jobs/job-raw`, {body, what: 'job'})
    const sent = (name: string) => (fake.requests.find((r) => r.path.endsWith(`/jobs/${name}`))!.json as {properties: {inputs: unknown}}).properties.inputs
    expect(sent('job-sdk')).toEqual({m: {jobInputType: 'mlflow_model'}})
    expect(sent('job-raw')).toEqual(body.properties.inputs)
  })

  it('never follows a URL outside the ARM endpoint with the token', async () => {
    const client = new ArmClient(target, new StaticTokenCredential(fake.token), {retry: {maxRetries: 0}})
    const err = await client.request('GET', 'http://127.0.0.2:9/operations/x', {what: 'poll'}).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(/refusing to send the Azure token to http:\/\/127\.0\.0\.2:9/)
    expect(fake.requests).toEqual([])
  })

  it('raw requests carry the token only to the ARM origin and map Azure errors to exit 3', async () => {
    const client = new ArmClient(target, new StaticTokenCredential('wrong'), {retry: {maxRetries: 0}})
    const err = await client.request('GET', `${WS_PATH}/onlineEndpoints/x`, {what: 'endpoint x'}).catch((e: unknown) => e)
    expect((err as Error).message).toBe('endpoint x: InvalidAuthenticationToken: The access token is invalid. (HTTP 401)')
    expect((err as {exitCode: number}).exitCode).toBe(ExitCode.Remote)
    expect(fake.requests[0].headers.authorization).toBe('Bearer wrong')
  })
})

describe('blob upload', () => {
  const progress = (): Progress & {units: number} => {
    const p = {units: 0, start() {}, advance(n: number) { p.units += n }, stop() {}}
    return p
  }

  it('uploads big files as parallel blocks, retries a failed block, and the committed bytes are the file', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'm'), {recursive: true})
    const big = Buffer.from(Array.from({length: 5000}, (_, i) => (i * 7) & 0xff))
    await writeFile(join(dir, 'm/big.bin'), big)
    await writeFile(join(dir, 'm/small.txt'), 'hello')
    fake.fail({method: 'PUT', path: /big\.bin$/, status: 500, body: '<Error><Code>InternalError</Code><Message>x</Message></Error>'})
    const files = [
      {path: 'm/big.bin', size: 5000, sha256: ''},
      {path: 'm/small.txt', size: 5, sha256: ''},
    ]
    await verifyFiles(dir, files, 'test')
    const p = progress()
    const r = await uploadFiles(`${fake.url}/blob/c1?sv=1&sig=FAKESASSIGNATURE`, dir, files, {blockSize: 1024, concurrency: 3, progress: p, retry: {baseDelayMs: 10}})
    expect(fake.blobs.get('c1/m/big.bin')).toEqual(big)
    expect(fake.blobs.get('c1/m/small.txt')?.toString()).toBe('hello')
    expect(p.units).toBe(5005)
    expect(r.bytes).toBe(5005)
    const blocks = fake.blobRequests().filter((q) => q.query.comp === 'block')
    expect(blocks.length).toBe(6) // 5 blocks + 1 retried after the 500
    expect(fake.blobRequests().every((q) => q.headers.authorization === undefined)).toBe(true)
  })

  it('a refused SAS is exit 3 and the SAS signature is never in the message', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'a.txt'), 'x')
    const err = await uploadFiles(`${fake.url}/blob/c1?sv=1&sig=WRONGSECRET`, dir, [{path: 'a.txt', size: 1, sha256: ''}], {progress: progress()}).catch((e: unknown) => e)
    expect((err as Error).message).toContain('AuthenticationFailed')
    expect((err as Error).message).not.toContain('WRONGSECRET')
    expect((err as {exitCode: number}).exitCode).toBe(ExitCode.Remote)
    expect(blobUrl('https://a.blob.core.windows.net/c?sv=1&sig=s', 'd/e f.txt').toString()).toBe('https://a.blob.core.windows.net/c/d/e%20f.txt?sv=1&sig=s')
    expect(redactUrl('https://a/c?sig=s')).toBe('https://a/c?<sas redacted>')
  })
})

describe('inputs, target, auth and retry rules', () => {
  it('refuses a package whose manifest lists a path outside it (through the one manifest reader)', async () => {
    const dir = await tempDir()
    const ok = {schemaVersion: 1, name: 'n', version: '1', files: [{path: '../x', size: 1, sha256: 'a'.repeat(64)}]}
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(ok))
    await expect(readInputs([dir], target)).rejects.toThrow("manifest.json: files[0].path: '../x' is not a path inside the package")
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({...ok, files: [{path: 'a', size: 1, sha256: 'XYZ'}]}))
    await expect(readInputs([dir], target)).rejects.toThrow(/manifest\.json: not a vitrine manifest: files\.0\.sha256/)
    await writeFile(join(dir, 'manifest.json'), '{')
    await expect(readInputs([dir], target)).rejects.toThrow(/manifest\.json: not valid JSON/)
  })

  it('knows a YAML kind only by a $schema URL on an Azure ML schema host', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'a.yaml'), '$schema: https://example.com/latest/managedOnlineEndpoint.schema.json\nname: x\n')
    await expect(readInputs([join(dir, 'a.yaml')], target)).rejects.toThrow(/managedOnlineEndpoint\.schema\.json' is not a kind apply handles/)
  })

  it('rejects an unknown $schema and reports YAML errors with their line', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'a.yaml'), '$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\nname: x\n')
    await expect(readInputs([join(dir, 'a.yaml')], target)).rejects.toThrow(/commandJob\.schema\.json' is not a kind apply handles/)
    await writeFile(join(dir, 'b.yaml'), '$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\nname: x\nname: y\n')
    await expect(readInputs([join(dir, 'b.yaml')], target)).rejects.toThrow(/b\.yaml:3:1: Map keys must be unique/)
    await expect(readInputs([join(dir, 'missing.yaml')], target)).rejects.toMatchObject({exitCode: ExitCode.Usage})
  })

  it('refuses a package whose spec and manifest disagree on the version', async () => {
    const dir = await tempDir()
    const src = join(import.meta.dirname, 'fixtures/vit-pkg')
    await mkdir(join(dir, 'asset'), {recursive: true})
    await writeFile(join(dir, 'manifest.json'), await readFile(join(src, 'manifest.json')))
    await writeFile(join(dir, 'asset/asset.yaml'), await readFile(join(src, 'asset/asset.yaml')))
    await writeFile(join(dir, 'asset/spec.yaml'), (await readFile(join(src, 'asset/spec.yaml'), 'utf8')).replace('version: "3"', 'version: "4"'))
    await expect(readInputs([dir], target)).rejects.toThrow('asset/spec.yaml says vit-digits:4 but manifest.json says vit-digits:3')
  })

  it('allows plain http only to loopback', () => {
    for (const h of ['127.0.0.1', '127.9.8.7', 'localhost', '[::1]']) expect(isLoopbackHost(h)).toBe(true)
    for (const h of ['10.0.0.1', 'management.azure.com', '128.0.0.1']) expect(isLoopbackHost(h)).toBe(false)
    expect(checkEndpointUrl('http://127.0.0.1:8080', 'x').insecureLoopback).toBe(true)
    expect(() => checkEndpointUrl('http://10.0.0.1', 'x')).toThrow(/only for loopback/)
    expect(() => checkEndpointUrl('ftp://a', 'x')).toThrow(/unsupported protocol/)
  })

  it('AZURE_ACCESS_TOKEN is used unless --auth says otherwise; "no credential" is exit 2, a refused one exit 3', () => {
    expect(resolveCredential(undefined, {AZURE_ACCESS_TOKEN: 't'}).source).toBe('AZURE_ACCESS_TOKEN')
    expect(resolveCredential('cli', {AZURE_ACCESS_TOKEN: 't'}).source).toMatch(/^AzureCliCredential/)
    const unavailable = Object.assign(new Error('x'), {
      name: 'AggregateAuthenticationError',
      errors: [
        Object.assign(new Error('EnvironmentCredential is unavailable. No env.'), {name: 'CredentialUnavailableError'}),
        Object.assign(new Error('AzureCliCredential: Please run az login.'), {name: 'CredentialUnavailableError'}),
      ],
    })
    const e = credentialError(unavailable, 'DefaultAzureCredential') as Error & {exitCode: number}
    expect(e.exitCode).toBe(ExitCode.Usage)
    expect(e.message).toContain('  - EnvironmentCredential is unavailable. No env.\n  - AzureCliCredential: Please run az login.')
    const refused = credentialError(Object.assign(new Error('AADSTS7000215: Invalid client secret'), {name: 'AuthenticationError'}), 'EnvironmentCredential')
    expect((refused as Error & {exitCode: number}).exitCode).toBe(ExitCode.Remote)
  })

  it('reads Retry-After as seconds, ms or a date, and caps every wait', () => {
    const h = (m: Record<string, string>) => (n: string) => m[n]
    expect(retryAfterMs(h({'retry-after': '2'}))).toBe(2000)
    expect(retryAfterMs(h({'retry-after-ms': '150'}))).toBe(150)
    expect(retryAfterMs(h({'retry-after': new Date(10_000).toUTCString()}), 4000)).toBe(6000)
    expect(retryAfterMs(h({}))).toBeUndefined()
    expect(retryDelay(1, 3_600_000, DEFAULT_RETRY)).toBe(DEFAULT_RETRY.maxDelayMs)
    expect(retryDelay(3, undefined, {...DEFAULT_RETRY, baseDelayMs: 100})).toBeGreaterThanOrEqual(320)
    expect(retryDelay(3, undefined, {...DEFAULT_RETRY, baseDelayMs: 100})).toBeLessThanOrEqual(480)
  })
})
