import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'
import {startFakeArm, SUBSCRIPTION, type FakeArm} from '../skus/fake-vmsizes.js'

describe('vitrine skus refresh (built CLI) against a fake ARM on 127.0.0.1', () => {
  let arm: FakeArm
  beforeEach(async () => {
    arm = await startFakeArm()
  })
  afterEach(async () => {
    await arm.close()
  })

  it('writes the catalog, reports differences, and validate uses it', async () => {
    const dir = await tempDir()
    const out = join(dir, 'skus-eastus.json')
    const env = {AZURE_ACCESS_TOKEN: 'fake-token', AZURE_SUBSCRIPTION_ID: SUBSCRIPTION}
    const r = await runCli(['skus', 'refresh', '--region', 'eastus', '--out', out, '--arm-endpoint', arm.url], {env})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Wrote ${out}: 4 VM sizes of eastus`)
    expect(r.stdout).toContain('Standard_ND96amsr_A100_v4: bundled 96|8|1800|2900, API 96|8|1900|6400')
    expect(arm.requests[0].authorization).toBe('Bearer fake-token')

    const j = await runCli(['skus', 'refresh', '--region', 'eastus', '--output', out, '--arm-endpoint', arm.url, '--json'], {env}) // --output: the hidden alias of --out
    expect(j.exitCode).toBe(0)
    expect(validateWithSchema('skus-refresh-result.schema.json', JSON.parse(j.stdout)).state).toBe('ok')

    // The live catalog knows only 4 sizes: validating the ViT asset against it names the unknown ones.
    const v = await runCli(['validate', 'examples/assets', '--sku-catalog', out, '--json'])
    expect(v.exitCode).toBe(1)
    const res = JSON.parse(v.stdout) as {skuCatalog: string; assets: Array<{diagnostics: Array<{rule: string; message: string}>}>}
    expect(res.skuCatalog).toBe(out)
    const unknown = res.assets[0].diagnostics.filter((d) => d.rule === 'sku-unknown')
    expect(unknown.length).toBeGreaterThan(0)
    expect(unknown[0].message).toContain(out)
    expect(JSON.parse(await readFile(out, 'utf8')).skus).toHaveLength(4)
  })

  it('Azure refusing is exit 3; a bad subscription is exit 2; nothing is written', async () => {
    const dir = await tempDir()
    const out = join(dir, 'skus.json')
    const refused = await runCli(['skus', 'refresh', '--subscription', SUBSCRIPTION, '--output', out, '--arm-endpoint', arm.url], {env: {AZURE_ACCESS_TOKEN: 'wrong'}})
    expect(refused.exitCode).toBe(3)
    expect(refused.stderr).toContain('AuthenticationFailed')
    expect(refused.stderr).not.toMatch(/\n\s+at \S+ \(/)
    const usage = await runCli(['skus', 'refresh', '--subscription', 'nope', '--output', out, '--arm-endpoint', arm.url], {env: {AZURE_ACCESS_TOKEN: 'fake-token'}})
    expect(usage.exitCode).toBe(2)
    await expect(readFile(out)).rejects.toThrow()
  })
})
