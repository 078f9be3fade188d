import {cp, open, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const CURRENT = 'test/fixtures/azureml-assets/google-vit-base-patch16-224-current'
const LEGACY = 'test/fixtures/azureml-assets/google-vit-base-patch16-224-legacy'

async function brokenCopy(edit: (spec: string) => string | Buffer): Promise<string> {
  const dir = join(await tempDir(), 'vit')
  await cp(CURRENT, dir, {recursive: true})
  const spec = join(dir, 'spec.yaml')
  await writeFile(spec, edit(await readFile(spec, 'utf8')))
  return dir
}

function noStack(s: string): void {
  expect(s).not.toMatch(/\n\s+at \S+ \(/)
}

describe('vitrine validate (built CLI)', () => {
  it('the example and both real folders: exit 0', async () => {
    const r = await runCli(['validate', 'examples/assets', CURRENT, LEGACY])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toContain('✓ examples/assets/google-vit-base-patch16-224')
    expect(r.stdout).toMatch(/3 assets validated: ok; 0 errors, 1 warning/)
  })

  it('--json on a broken asset: exit 1 and the documented shape', async () => {
    const dir = await brokenCopy((s) => s.replace('inferenceMinSkuSpec: 2|0|14|28', 'inferenceMinSkuSpec: 2|0|14|27'))
    const r = await runCli(['validate', dir, '--json'])
    expect(r.exitCode).toBe(1)
    const json = JSON.parse(r.stdout) as {ok: boolean; assets: Array<{diagnostics: Array<{rule: string; message: string}>}>}
    expect(validateWithSchema('validate-result.schema.json', json)).toEqual({state: 'ok', data: json})
    expect(json.ok).toBe(false)
    expect(json.assets[0].diagnostics[0].rule).toBe('min-sku-spec-mismatch')
    expect(json.assets[0].diagnostics[0].message).toContain("states 2|0|14|27, the allow list's minimum is 2|0|14|28")
  })

  it('human output points at file:line:col with the rule id; --format sarif prints SARIF', async () => {
    const dir = await brokenCopy((s) => s.replace('  license: apache-2.0\n', ''))
    const r = await runCli(['validate', dir])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toMatch(/spec\.yaml:\d+:\d+ +error +license-missing +license missing/)
    expect(r.stdout).toContain('1 of 1 failed')
    const s = await runCli(['validate', dir, '--format', 'sarif'])
    expect(s.exitCode).toBe(1)
    const sarif = JSON.parse(s.stdout) as {version: string; runs: Array<{results: Array<{ruleId: string}>}>}
    expect(sarif.version).toBe('2.1.0')
    expect(sarif.runs[0].results.map((x) => x.ruleId)).toEqual(['license-missing'])
  })

  it('--fix rewrites and reports, then exits 0', async () => {
    const dir = await brokenCopy((s) => s.replace('inferenceMinSkuSpec: 2|0|14|28', 'inferenceMinSkuSpec: 4|0|14|28'))
    const r = await runCli(['validate', dir, '--fix'])
    expect(r.exitCode, r.stdout).toBe(0)
    expect(r.stdout).toContain('inference min-SKU spec 4|0|14|28 -> 2|0|14|28')
    expect(await readFile(join(dir, 'spec.yaml'), 'utf8')).toBe(await readFile(join(CURRENT, 'spec.yaml'), 'utf8'))
  })

  it('--threads 2 (worker threads, and --jobs, its hidden alias) gives the same result as one thread', async () => {
    const root = await tempDir()
    for (let i = 0; i < 6; i++) {
      const dir = join(root, `vit-${i}`)
      await cp(CURRENT, dir, {recursive: true})
      const spec = join(dir, 'spec.yaml')
      let text = (await readFile(spec, 'utf8')).replace('name: google-vit-base-patch16-224', `name: google-vit-${i % 5}`)
      if (i === 3) text = text.replace('  license: apache-2.0\n', '')
      await writeFile(spec, text)
    }
    const one = await runCli(['validate', root, '--json'])
    const two = await runCli(['validate', root, '--json', '--threads', '2'])
    const jobs = await runCli(['validate', root, '--json', '--jobs', '2'])
    expect(one.exitCode).toBe(1)
    expect(two.exitCode).toBe(1)
    expect(JSON.parse(two.stdout)).toEqual(JSON.parse(one.stdout))
    expect(jobs.exitCode).toBe(1)
    expect(JSON.parse(jobs.stdout)).toEqual(JSON.parse(one.stdout))
    const rules = (JSON.parse(one.stdout) as {assets: Array<{diagnostics: Array<{rule: string}>}>}).assets.map((a) => a.diagnostics.map((d) => d.rule).join(','))
    expect(rules).toEqual(['duplicate-asset', '', '', 'license-missing', '', 'duplicate-asset'])
  })

  it('usage errors exit 2 without a stack: a missing path, a missing --sku-catalog; a broken catalog exits 1', async () => {
    const missing = await runCli(['validate', 'no/such/dir'])
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain('no/such/dir: no such file or directory')
    noStack(missing.stderr)
    const cat = await runCli(['validate', CURRENT, '--sku-catalog', 'no-such.json'])
    expect(cat.exitCode).toBe(2)
    const dir = await tempDir()
    await writeFile(join(dir, 'c.json'), '{"skus": 3}')
    const bad = await runCli(['validate', CURRENT, '--sku-catalog', join(dir, 'c.json')])
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr.replace(/\s*\n ›\s+/g, ' ')).toContain('c.json: not a SKU catalog: skus must be array')
    noStack(bad.stderr)
  })

  it('garbage in: binary, 50 MB, deeply nested and alias-bomb spec.yaml each exit 1 with a diagnostic', async () => {
    let bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    let prev = 'a'
    for (const l of 'bcdefghi') {
      bomb += `${l}: &${l} [${Array(9).fill('*' + prev).join(',')}]\n`
      prev = l
    }
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['binary', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]), /yaml-syntax .*binary/],
      ['nested', '['.repeat(200_000) + ']'.repeat(200_000), /yaml-syntax .*nested too deeply/],
      ['bomb', bomb, /yaml-syntax .*too many aliases/],
    ]
    for (const [what, content, expected] of cases) {
      const dir = await brokenCopy(() => content)
      const r = await runCli(['validate', dir], {timeout: 30_000})
      expect(r.exitCode, what).toBe(1)
      expect(r.stdout, what).toMatch(expected)
      noStack(r.stderr)
    }
    const dir = await brokenCopy(() => '')
    const fh = await open(join(dir, 'spec.yaml'), 'w')
    const chunk = Buffer.from('a: b\n'.repeat(200_000))
    for (let n = 0; n < 50 * 1024 * 1024; n += chunk.length) await fh.write(chunk)
    await fh.close()
    const big = await runCli(['validate', dir], {timeout: 30_000})
    expect(big.exitCode).toBe(1)
    expect(big.stdout).toMatch(/file-too-large .*spec\.yaml is 50\.\d MB/)
  })
})
