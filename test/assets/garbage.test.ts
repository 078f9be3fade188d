/** Garbage in: every case is a diagnostic (never a throw, never a hang), and the asset is not ok. */
import {cp, writeFile} from 'node:fs/promises'
import {open} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {validatePaths} from '../../src/assets/validate.js'
import {loadYamlFile, nestingTooDeep} from '../../src/assets/yaml-file.js'
import {tempDir} from '../helpers/tmp.js'

const CURRENT = 'test/fixtures/azureml-assets/google-vit-base-patch16-224-current'

async function assetWithSpec(content: string | Buffer): Promise<string> {
  const dir = join(await tempDir(), 'asset')
  await cp(CURRENT, dir, {recursive: true})
  await writeFile(join(dir, 'spec.yaml'), content)
  return dir
}

async function rulesFor(dir: string): Promise<string[]> {
  const r = await validatePaths([dir])
  expect(r.ok).toBe(false)
  return r.assets.flatMap((a) => a.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.rule} ${d.file.replace(/^.*[/\\]/, '')}:${d.line}`))
}

/** A billion-laughs document: 9 levels of 9 aliases each. */
function aliasBomb(): string {
  let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
  let prev = 'a'
  for (const l of 'bcdefghi') {
    text += `${l}: &${l} [${Array(9).fill('*' + prev).join(',')}]\n`
    prev = l
  }
  return text
}

describe('validate: garbage in', () => {
  it('a binary file named spec.yaml', async () => {
    const bin = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52])
    const dir = await assetWithSpec(bin)
    expect(await rulesFor(dir)).toEqual(['yaml-syntax spec.yaml:1'])
    const r = await validatePaths([dir])
    expect(r.assets[0].diagnostics[0].message).toMatch(/binary.*byte 0 is not UTF-8/)
  })

  it('a 50 MB YAML file is not parsed: file-too-large', async () => {
    const dir = join(await tempDir(), 'asset')
    await cp(CURRENT, dir, {recursive: true})
    const fh = await open(join(dir, 'spec.yaml'), 'w')
    const chunk = Buffer.from('key: value\n'.repeat(100_000))
    for (let written = 0; written < 50 * 1024 * 1024; written += chunk.length) await fh.write(chunk)
    await fh.close()
    const t0 = Date.now()
    expect(await rulesFor(dir)).toEqual(['file-too-large spec.yaml:1'])
    expect(Date.now() - t0).toBeLessThan(20_000)
  })

  it('deeply nested YAML (flow, block entries, indentation) is refused before the parser recurses', async () => {
    for (const deep of ['['.repeat(300_000) + ']'.repeat(300_000), '- '.repeat(300_000) + 'x\n', Array.from({length: 700}, (_, i) => ' '.repeat(i) + 'a:').join('\n')]) {
      const dir = await assetWithSpec(deep)
      const rules = await rulesFor(dir)
      expect(rules).toHaveLength(1)
      expect(rules[0]).toMatch(/^yaml-syntax spec\.yaml:\d+$/)
    }
    expect(nestingTooDeep('a: "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\n')).toBeUndefined()
    expect(nestingTooDeep('['.repeat(100) + ']'.repeat(100))).toBeUndefined()
    expect(nestingTooDeep('['.repeat(101))).toMatchObject({offset: 100})
    // At the limits, where the quick pre-check hands over to the scan: just past them is refused, at them is not.
    expect(nestingTooDeep('a: 1\n' + '- '.repeat(101) + 'x\n')).toMatchObject({what: expect.stringMatching(/block entries/)})
    expect(nestingTooDeep('a: 1\n' + '- '.repeat(100) + 'x\n')).toBeUndefined()
    expect(nestingTooDeep('a:\n' + ' '.repeat(401) + 'b: 1\n')).toMatchObject({what: expect.stringMatching(/indented/)})
    expect(nestingTooDeep('a:\n' + ' '.repeat(400) + 'b: 1\n')).toBeUndefined()
    expect(nestingTooDeep('a: {b: ' + '['.repeat(100) + ']'.repeat(100) + '}\n')).toMatchObject({offset: 106})
  })

  it('a YAML alias bomb stops at the alias limit', async () => {
    const dir = await assetWithSpec(aliasBomb())
    expect(await rulesFor(dir)).toEqual(['yaml-syntax spec.yaml:1'])
    const y = loadYamlFile(join(dir, 'spec.yaml'))
    expect(y.problems[0].message).toMatch(/alias/)
  })

  it('a YAML file that is a scalar or a list, not a mapping', async () => {
    expect(await rulesFor(await assetWithSpec('just a string\n'))).toEqual(['schema spec.yaml:1'])
    expect(await rulesFor(await assetWithSpec('- a\n- b\n'))).toEqual(['schema spec.yaml:1'])
  })

  it('an empty asset folder tree is a usage error, a missing path too', async () => {
    const dir = await tempDir()
    await expect(validatePaths([dir])).rejects.toThrow(/no asset\.yaml found/)
    await expect(validatePaths([join(dir, 'nope')])).rejects.toThrow(/no such file/)
  })
})
