import {readdirSync, readFileSync} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {parseDocument} from 'yaml'
import {describe, expect, it} from 'vitest'

import {loadYamlFile, locate} from '../../src/assets/yaml-file.js'
import {tempDir} from '../helpers/tmp.js'

const FIX = 'test/fixtures/azureml-assets'

describe('loadYamlFile', () => {
  it('the fast path reads every fixture YAML to the same data as yaml, and positions still work', () => {
    for (const form of ['current', 'legacy']) {
      for (const f of readdirSync(join(FIX, `google-vit-base-patch16-224-${form}`)).filter((x) => x.endsWith('.yaml'))) {
        const path = join(FIX, `google-vit-base-patch16-224-${form}`, f)
        const y = loadYamlFile(path)
        expect(y.problems, path).toEqual([])
        expect(y.data, path).toEqual(parseDocument(readFileSync(path, 'utf8')).toJS())
      }
    }
    const specPath = join(FIX, 'google-vit-base-patch16-224-current', 'spec.yaml')
    const spec = loadYamlFile(specPath)
    const lines = readFileSync(specPath, 'utf8').split('\n')
    const line = lines.findIndex((l) => l.includes('inferenceMinSkuSpec:')) + 1
    const column = lines[line - 1].indexOf('2|0|14|28') + 1
    expect(locate(spec, ['system_metadata', 'SKU', 'inferenceMinSkuSpec'])).toEqual({line, column})
  })

  it('finds top-level keys without the Document exactly where the Document puts them', async () => {
    const dir = await tempDir()
    const file = join(dir, 'x.yaml')
    const text = 'a: 1\n"b": two  # c\nc:\n  - x\nd:   # comment\n  e: 1\n"f g": [1, 2]\n'
    await writeFile(file, text)
    for (const path of [join(FIX, 'google-vit-base-patch16-224-legacy', 'spec.yaml'), join(FIX, 'google-vit-base-patch16-224-current', 'spec.yaml'), file]) {
      const fast = loadYamlFile(path)
      expect(fast.lazyDoc).toBe(true)
      const keys = Object.keys(fast.data as object)
      const quick = keys.flatMap((k) => [locate(fast, [k], 'key'), locate(fast, [k], 'value')])
      const full = loadYamlFile(path)
      void full.doc // build the Document first: locate then walks it
      full.lazyDoc = false
      expect(quick, path).toEqual(keys.flatMap((k) => [locate(full, [k], 'key'), locate(full, [k], 'value')]))
    }
  })

  it('agrees with yaml on scalars that differ between YAML 1.1 and 1.2, and falls back for anchors and tags', async () => {
    const dir = await tempDir()
    const cases = [
      'a: yes\nb: on\nc: 0o17\nd: 017\ne: 1_000\nf: 2023-01-02\ng: ~\nh: .inf\ni: "True"\nj: True\nk: 0x1f\nl: 1e3\n',
      'x: &x [1, 2]\ny: *x\n',
      'z: !!str 12\n',
      '',
      '# only a comment\n',
    ]
    for (const [i, text] of cases.entries()) {
      const file = join(dir, `${i}.yaml`)
      await writeFile(file, text)
      const y = loadYamlFile(file)
      expect(y.problems, text).toEqual([])
      expect(y.data, text).toEqual(parseDocument(text).toJS())
    }
  })
})
