import {join} from 'node:path'

import {execa} from 'execa'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {FakeArm} from '../azure/fake-arm.js'
import {ROOT} from '../helpers/cli.js'
import {e2eBin} from '../helpers/e2e.js'

const FIX = join(ROOT, 'test/azure/fixtures')
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOi.secret-test-token.Zm9vYmFy'

let fake: FakeArm
beforeEach(async () => {
  fake = await FakeArm.start()
  fake.token = TOKEN
})
afterEach(async () => {
  await fake.close()
})

/** A CI job's environment holding a token (see apply.test.ts), nothing of this machine's Azure settings. */
function env(): Record<string, string> {
  return {AZURE_ACCESS_TOKEN: TOKEN, AZURE_SUBSCRIPTION_ID: '00000000-1111-2222-3333-444444444444', AZURE_RESOURCE_GROUP: 'vit-rg', AZURE_ARM_ENDPOINT: ''}
}

// A process of its own: Ctrl-C (SIGINT) must reach a real `vitrine apply --wait`.
describe('vitrine apply --wait interrupted (end-to-end)', {timeout: 240_000}, () => {
  it('Ctrl-C stops waiting and says what is still running in Azure (exit 130)', async () => {
    fake.jobStatuses = ['NotStarted', 'Running']
    const child = execa('node', [await e2eBin(), 'apply', join(FIX, 'finetune-pipeline.yaml'), '--wait', '--arm-endpoint', fake.url, '--workspace', 'vit-ws', '--poll-interval', '0.05'], {
      cwd: ROOT,
      env: {NO_COLOR: '1', ...env()},
      reject: false,
    })
    let seen = ''
    await new Promise<void>((resolve) => {
      child.on('exit', () => resolve()) // a CLI that fails early must fail the test, not hang it
      child.stderr?.on('data', (d: Buffer) => {
        seen += d.toString()
        if (seen.includes(': Running')) resolve()
      })
    })
    child.kill('SIGINT')
    const r = await child
    expect(r.exitCode).toBe(130)
    expect(String(r.stdout)).toContain('Stopped waiting (Ctrl-C). Still running in Azure:')
    expect(String(r.stdout)).toMatch(/pipeline job vit-digits-finetune-[0-9a-f]{10}: Running/)
  })

})
