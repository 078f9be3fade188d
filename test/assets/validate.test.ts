import {cp, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {UsageError} from '../../src/core/errors.js'
import {validateWithSchema} from '../../src/core/json-schema.js'
import {RULE_IDS} from '../../src/assets/diagnostic.js'
import {toSarif} from '../../src/assets/sarif.js'
import {validatePaths} from '../../src/assets/validate.js'
import {tempDir} from '../helpers/tmp.js'

const FIX = 'test/fixtures/azureml-assets'
const CURRENT = `${FIX}/google-vit-base-patch16-224-current`

async function tree(): Promise<string> {
  const root = await tempDir()
  await cp(CURRENT, join(root, 'assets', 'models', 'vit-a'), {recursive: true})
  await cp(CURRENT, join(root, 'assets', 'models', 'vit-b'), {recursive: true})
  // Distinct names, so the tree is valid.
  for (const n of ['a', 'b']) {
    const spec = join(root, 'assets', 'models', `vit-${n}`, 'spec.yaml')
    await writeFile(spec, (await readFile(spec, 'utf8')).replace('name: google-vit-base-patch16-224', `name: google-vit-${n}`))
  }
  return root
}

describe('validatePaths', () => {
  it('finds every asset.yaml of a tree and names files by the path given', async () => {
    const root = await tree()
    const r = await validatePaths(['assets'], {cwd: root})
    expect(r.assets.map((a) => a.path)).toEqual([join('assets', 'models', 'vit-a'), join('assets', 'models', 'vit-b')])
    expect(r.ok).toBe(true)
    expect(validateWithSchema('validate-result.schema.json', r).state).toBe('ok')
  })

  it('reports tree mistakes: spec.yaml without asset.yaml, a file named asset.yml', async () => {
    const root = await tree()
    await cp(CURRENT, join(root, 'assets', 'orphan'), {recursive: true})
    await rm(join(root, 'assets', 'orphan', 'asset.yaml'))
    await cp(CURRENT, join(root, 'assets', 'yml'), {recursive: true})
    await rename(join(root, 'assets', 'yml', 'asset.yaml'), join(root, 'assets', 'yml', 'asset.yml'))
    const r = await validatePaths([join(root, 'assets')])
    const bad = r.assets.filter((a) => !a.ok)
    expect(bad.map((a) => [a.path.replace(/^.*[/\\]/, ''), a.diagnostics.map((d) => d.rule)])).toEqual([
      ['orphan', ['missing-file']],
      ['yml', ['missing-file']],
    ])
  })

  it('--changed-since: only assets with files changed since the ref (committed, unstaged or untracked)', async () => {
    const root = await tree()
    const git = (...args: string[]) => execa('git', args, {cwd: root})
    await git('init', '-q')
    await git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'base')
    await git('add', '.')
    await git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'assets')
    const none = await validatePaths(['assets'], {cwd: root, changedSince: 'HEAD'})
    expect(none.assets).toEqual([])
    expect(none.ok).toBe(true)
    const spec = join(root, 'assets', 'models', 'vit-b', 'spec.yaml')
    await writeFile(spec, (await readFile(spec, 'utf8')).replace('inferenceMinSkuSpec: 2|0|14|28', 'inferenceMinSkuSpec: 2|0|14|29'))
    const one = await validatePaths(['assets'], {cwd: root, changedSince: 'HEAD'})
    expect(one.assets.map((a) => a.path)).toEqual([join('assets', 'models', 'vit-b')])
    expect(one.assets[0].diagnostics.map((d) => d.rule)).toEqual(['min-sku-spec-mismatch'])
    // Since the first commit, both assets were added.
    const both = await validatePaths(['assets'], {cwd: root, changedSince: 'HEAD~1'})
    expect(both.assets).toHaveLength(2)
    // Duplicates still count the whole tree: an untracked copy of vit-a clashes with the unchanged vit-a.
    await cp(join(root, 'assets', 'models', 'vit-a'), join(root, 'assets', 'models', 'vit-a2'), {recursive: true})
    const dup = await validatePaths(['assets'], {cwd: root, changedSince: 'HEAD'})
    expect(dup.assets.map((a) => [a.path.replace(/^.*[/\\]/, ''), a.diagnostics.map((d) => d.rule)])).toEqual([
      ['vit-a2', ['duplicate-asset']],
      ['vit-b', ['min-sku-spec-mismatch']],
    ])
    await expect(validatePaths(['assets'], {cwd: root, changedSince: 'no-such-ref'})).rejects.toThrow(UsageError)
    await expect(validatePaths(['assets'], {cwd: root, changedSince: 'no-such-ref'})).rejects.toThrow(/unknown git ref no-such-ref/)
  })

  it('routes a standalone Azure ML YAML through the generate checker', async () => {
    const dir = await tempDir()
    const good = join(dir, 'endpoint.yaml')
    await writeFile(good, '$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\nname: vit-ep\nauth_mode: key\n')
    const r = await validatePaths([good])
    expect(r.assets).toHaveLength(1)
    expect(r.assets[0]).toMatchObject({type: 'yaml', ok: true})
    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, '$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\nname: vit-ep\nauth_mode: password\n')
    const r2 = await validatePaths([bad])
    expect(r2.ok).toBe(false)
    expect(r2.assets[0].diagnostics[0]).toMatchObject({rule: 'schema', line: 3})
    const binary = join(dir, 'bin.yaml')
    await writeFile(binary, Buffer.from([0, 1, 2, 3]))
    expect((await validatePaths([binary])).assets[0].diagnostics.map((d) => d.rule)).toEqual(['yaml-syntax'])
  })

  it('--sku-catalog replaces the bundled figures', async () => {
    const dir = await tempDir()
    const catalog = JSON.parse(await readFile('data/sku-catalog.json', 'utf8')) as {skus: Array<{name: string; maxResourceVolumeMB: number}>}
    // A live API that reports 180 GiB for the T4 size makes the published finetune spec wrong.
    catalog.skus.find((s) => s.name === 'Standard_NC4as_T4_v3')!.maxResourceVolumeMB = 180 * 1024
    const file = join(dir, 'skus.json')
    await writeFile(file, JSON.stringify({origin: 'vmSizes API test/eastus', skus: catalog.skus}))
    const r = await validatePaths([CURRENT], {skuCatalog: file})
    expect(r.skuCatalog).toBe(file)
    const d = r.assets[0].diagnostics
    expect(d.map((x) => x.rule)).toEqual(['min-sku-spec-mismatch', 'min-sku-spec-mismatch'])
    expect(d[0].message).toMatch(/^evaluation: min-SKU spec states 4\|1\|28\|176, the allow list's minimum is 4\|1\|28\|180; /)
    expect(d[1].message).toMatch(/^finetune: min-SKU spec states 4\|1\|28\|176, the allow list's minimum is 4\|1\|28\|180; /)
  })

  it('--supported-skus replaces the bundled supported inference list', async () => {
    const dir = await tempDir()
    const file = join(dir, 'supported_inference_skus.json')
    const all = JSON.parse(await readFile(`${FIX}/supported_inference_skus.json`, 'utf8')) as string[]
    await writeFile(file, JSON.stringify(all.filter((s) => s !== 'Standard_FX4mds')))
    const r = await validatePaths([CURRENT], {supportedInferenceSkus: file})
    expect(r.assets[0].diagnostics.map((d) => `${d.rule} ${d.message}`)).toEqual([
      'sku-unsupported inference: Standard_FX4mds is not a supported inference SKU (supported_inference_skus.json)',
    ])
    await writeFile(file, '{"not": "a list"}')
    await expect(validatePaths([CURRENT], {supportedInferenceSkus: file})).rejects.toThrow(/expected a JSON array of SKU names/)
  })

  it('SARIF: one rule per id, one result per diagnostic, relative URIs', async () => {
    const dir = join(await tempDir(), 'vit')
    await cp(CURRENT, dir, {recursive: true})
    const spec = join(dir, 'spec.yaml')
    await writeFile(spec, (await readFile(spec, 'utf8')).replace('  license: apache-2.0\n', ''))
    const r = await validatePaths(['vit'], {cwd: join(dir, '..')})
    const sarif = toSarif(r, '0.1.0')
    expect(sarif.version).toBe('2.1.0')
    expect(sarif.runs[0].tool.driver.rules.map((x) => x.id)).toEqual(RULE_IDS)
    expect(sarif.runs[0].results).toEqual([
      {
        ruleId: 'license-missing',
        ruleIndex: RULE_IDS.indexOf('license-missing'),
        level: 'error',
        message: {text: r.assets[0].diagnostics[0].message},
        locations: [{physicalLocation: {artifactLocation: {uri: 'vit/spec.yaml'}, region: {startLine: r.assets[0].diagnostics[0].line, startColumn: 1}}}],
      },
    ])
  })

  it('the result schema lists exactly the rule ids', async () => {
    const schema = JSON.parse(await readFile('schemas/validate-result.schema.json', 'utf8')) as {definitions: {rule: {enum: string[]}}}
    expect(schema.definitions.rule.enum).toEqual(RULE_IDS)
  })
})
