import {cpSync, existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {beforeAll, describe, expect, it} from 'vitest'
import {parse, parseAllDocuments} from 'yaml'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const ROOT = new URL('../..', import.meta.url).pathname
const ASSET = join(ROOT, 'test/fixtures/azureml-assets/google-vit-base-patch16-224-legacy')

/** oclif wraps error text to the terminal width behind ' ›   ': one line again, for matching. */
const flat = (stderr: string) => stderr.replace(/\n\s*›\s*/g, ' ').replace(/\s+/g, ' ')

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/commands/generate.js'))) throw new Error('build first: npm run build')
})

describe('vitrine generate (CLI)', () => {
  it('prints the YAML documents separated by --- and the reason for the SKU on stderr', async () => {
    const r = await runCli(['generate', 'online-endpoint', '--asset', ASSET])
    expect(r.exitCode).toBe(0)
    const docs = parseAllDocuments(r.stdout)
    const list = Array.isArray(docs) ? docs.map((d) => d.toJS() as Record<string, unknown>) : []
    expect(list.map((d) => d.$schema)).toEqual([
      'https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json',
      'https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json',
    ])
    expect(list[1].instance_type).toBe('Standard_E2s_v3')
    expect(r.stderr).toMatch(/instance type Standard_E2s_v3: smallest .* 2\|0\|14\|28/)
  })

  it('--out writes the files; --json is described by generate-result.schema.json; a rerun changes nothing', async () => {
    const out = join(await tempDir(), 'deploy')
    const r = await runCli(['generate', 'batch-endpoint', '--asset', ASSET, '--out', out, '--json'])
    expect(r.exitCode).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(validateWithSchema('generate-result.schema.json', result).state).toBe('ok')
    expect(result.files.map((f: {path: string; status: string}) => [f.path, f.status])).toEqual([
      [join(out, 'batch-endpoint.yaml'), 'created'],
      [join(out, 'batch-deployment.yaml'), 'created'],
    ])
    expect(parse(readFileSync(join(out, 'batch-deployment.yaml'), 'utf8')).settings.mini_batch_size).toBe(1)
    const again = JSON.parse((await runCli(['generate', 'batch-endpoint', '--asset', ASSET, '--out', out, '--json'])).stdout)
    expect(again.files.map((f: {status: string}) => f.status)).toEqual(['unchanged', 'unchanged'])
    const printed = JSON.parse((await runCli(['generate', 'model', '--asset', ASSET, '--json'])).stdout)
    expect(validateWithSchema('generate-result.schema.json', printed).state).toBe('ok')
    expect(printed.files[0]).toMatchObject({status: 'printed', path: 'model-version.yaml'})
    expect(printed.files[0].content).toContain('type: mlflow_model')
  })

  it('a --set path that does not exist: exit 2, clear message, nothing written', async () => {
    const out = join(await tempDir(), 'x')
    const r = await runCli(['generate', 'online-endpoint', '--asset', ASSET, '--out', out, '--set', 'liveness_probe.perod=10'])
    expect(r.exitCode).toBe(2)
    expect(flat(r.stderr)).toContain("'perod' is not a field of liveness_probe in managedOnlineDeployment")
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(existsSync(out)).toBe(false)
  })

  it('a --set value of the wrong type: exit 1, clear message, nothing written', async () => {
    const out = join(await tempDir(), 'x')
    const r = await runCli(['generate', 'online-endpoint', '--asset', ASSET, '--out', out, '--set', 'instance_count=two'])
    expect(r.exitCode).toBe(1)
    expect(flat(r.stderr)).toContain('instance_count must be integer')
    expect(existsSync(out)).toBe(false)
  })

  it('an instance type outside the allow list: exit 1 without --allow-sku-outside-list, written with it', async () => {
    const out = join(await tempDir(), 'x')
    const refused = await runCli(['generate', 'online-endpoint', '--asset', ASSET, '--out', out, '--set', 'instance_type=Standard_DS2_v2'])
    expect(refused.exitCode).toBe(1)
    expect(flat(refused.stderr)).toMatch(/not in google-vit-base-patch16-224's inference allow list/)
    expect(existsSync(out)).toBe(false)
    const forced = await runCli(['generate', 'online-endpoint', '--asset', ASSET, '--out', out, '--set', 'instance_type=Standard_DS2_v2', '--allow-sku-outside-list'])
    expect(forced.exitCode).toBe(0)
    expect(forced.stdout).toMatch(/warning: instance type Standard_DS2_v2 is outside/)
    expect(parse(readFileSync(join(out, 'online-deployment.yaml'), 'utf8')).instance_type).toBe('Standard_DS2_v2')
  })

  it('an unknown KIND: exit 2, the kinds listed, nothing written', async () => {
    const out = join(await tempDir(), 'x')
    const r = await runCli(['generate', 'online', '--asset', ASSET, '--out', out])
    expect(r.exitCode).toBe(2)
    expect(flat(r.stderr)).toMatch(/unknown KIND 'online': expected one of online-endpoint, batch-endpoint, finetune, evaluation, model/)
    expect(existsSync(out)).toBe(false)
  })

  it('an asset that fails validation: exit 1 with its diagnostics, nothing written', async () => {
    const work = await tempDir()
    const asset = join(work, 'asset')
    cpSync(ASSET, asset, {recursive: true})
    const spec = join(asset, 'spec.yaml')
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('  license: apache-2.0\n', ''))
    const r = await runCli(['generate', 'model', '--asset', asset, '--out', join(work, 'x')])
    expect(r.exitCode).toBe(1)
    expect(flat(r.stderr)).toMatch(/the asset fails validation \(1 error\), so nothing was generated/)
    expect(flat(r.stderr)).toMatch(/spec\.yaml:\d+:\d+ license-missing/)
    expect(readdirSync(work)).toEqual(['asset'])
  })
})
