import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {TokenCredential} from '@azure/identity'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {RemoteError, UsageError} from '../../src/core/errors.js'
import {validateWithSchema} from '../../src/core/json-schema.js'
import {loadSkuCatalog} from '../../src/skus/catalog.js'
import {refreshSkuCatalog} from '../../src/skus/refresh.js'
import {tempDir} from '../helpers/tmp.js'
import {startFakeArm, SUBSCRIPTION, type FakeArm} from './fake-vmsizes.js'

const fakeCredential: TokenCredential = {getToken: async () => ({token: 'fake-token', expiresOnTimestamp: Date.now() + 3_600_000})}

describe('skus refresh (library) against a fake vmSizes endpoint', () => {
  let arm: FakeArm
  beforeEach(async () => {
    arm = await startFakeArm()
  })
  afterEach(async () => {
    await arm.close()
  })

  const run = async (over: Partial<Parameters<typeof refreshSkuCatalog>[0]> = {}) => {
    const output = join(await tempDir(), 'skus.json')
    return refreshSkuCatalog({
      subscription: SUBSCRIPTION,
      region: 'eastus',
      credential: fakeCredential,
      credentialSource: 'test',
      output,
      armEndpoint: arm.url,
      retry: {maxRetries: 0},
      now: () => new Date('2026-11-27T02:00:00Z'),
      ...over,
    })
  }

  it('writes a catalog validate can read, with the API semantics, and compares it with the bundled one', async () => {
    const r = await run()
    expect(arm.requests).toHaveLength(1)
    expect(arm.requests[0].method).toBe('GET')
    expect(arm.requests[0].url).toMatch(/\/locations\/eastus\/vmSizes\?api-version=2022-10-01$/)
    expect(arm.requests[0].authorization).toBe('Bearer fake-token')
    expect(validateWithSchema('skus-refresh-result.schema.json', r).state).toBe('ok')
    expect(r).toMatchObject({skus: 4, skipped: ['Standard_Broken'], region: 'eastus', fetchedAt: '2026-11-27T02:00:00.000Z'})
    expect(r.comparedToBundled.differing).toEqual([{name: 'Standard_ND96amsr_A100_v4', bundled: '96|8|1800|2900', api: '96|8|1900|6400'}])
    expect(r.comparedToBundled.supportedInferenceMissing).toHaveLength(59 - 4)
    const catalog = loadSkuCatalog(r.file)
    expect(catalog.get('Standard_NC4as_T4_v3')).toMatchObject({vcpus: 4, gpus: 1, memoryGiB: 28, diskGiB: 176, source: 'vmSizes API eastus 2026-11-27'})
    expect(catalog.names()).toHaveLength(4)
    const file = JSON.parse(await readFile(r.file, 'utf8')) as {origin: string}
    expect(file.origin).toBe(`vmSizes API ${SUBSCRIPTION}/eastus`)
  })

  it('Azure failures are remote errors (exit 3) with the code Azure gave; nothing is written', async () => {
    arm.answer = {status: 500, body: {error: {code: 'InternalServerError', message: 'boom'}}}
    const e1 = await run().catch((e: unknown) => e)
    expect(e1).toBeInstanceOf(RemoteError)
    expect((e1 as Error).message).toMatch(/InternalServerError: boom \(HTTP 500\)/)
    const e2 = await run({region: 'westus'}).catch((e: unknown) => e)
    expect((e2 as Error).message).toMatch(/NoRegisteredProviderFound/)
    const bad: TokenCredential = {getToken: async () => ({token: 'other', expiresOnTimestamp: Date.now() + 1000})}
    const e3 = await run({credential: bad}).catch((e: unknown) => e)
    expect(e3).toBeInstanceOf(RemoteError)
    expect((e3 as RemoteError).status).toBe(401)
    arm.answer = {status: 200, body: {nothing: true}}
    await expect(run()).rejects.toThrow(/no list of VM sizes/)
  })

  it('refuses a bad subscription, region or non-loopback http endpoint before any request', async () => {
    await expect(run({subscription: 'abc'})).rejects.toThrow(UsageError)
    await expect(run({region: 'East US'})).rejects.toThrow(/not an Azure region name/)
    await expect(run({armEndpoint: 'http://example.com'})).rejects.toThrow(/plain http is allowed only for loopback/)
    expect(arm.requests).toHaveLength(0)
  })
})
