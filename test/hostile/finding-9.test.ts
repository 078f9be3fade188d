/**
 * Hostile input, the smaller items of finding 9 (issue 13) that are not about opening files (those are in
 * files.test.ts): each crafted input is made here, small, in a temp folder.
 */
import {cp, readFile, rename, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {validatePaths} from '../../src/assets/validate.js'
import {tempDir} from '../helpers/tmp.js'

const ASSET = 'test/fixtures/azureml-assets/google-vit-base-patch16-224-current'

describe('finding 9: validate --fix follows spec: ../../elsewhere.yaml out of the asset tree', () => {
  /** An asset at ROOT/tree/vit whose spec, broken the way --fix repairs, lies at ROOT/elsewhere.yaml. */
  async function assetWithSpecOutside(how: 'relative' | 'symlink'): Promise<{root: string; tree: string; outside: string; text: string}> {
    const root = await tempDir()
    const tree = join(root, 'tree')
    const dir = join(tree, 'vit')
    await cp(ASSET, dir, {recursive: true})
    const outside = join(root, 'elsewhere.yaml')
    const text = (await readFile(join(dir, 'spec.yaml'), 'utf8')).replace('    inferenceMinSkuSpec: 2|0|14|28\n', '')
    await writeFile(outside, text)
    await rename(join(dir, 'spec.yaml'), join(root, 'unused.yaml'))
    if (how === 'relative') await writeFile(join(dir, 'asset.yaml'), 'extra_config: model.yaml\nspec: ../../elsewhere.yaml\ntype: model\n')
    else await symlink(outside, join(dir, 'spec.yaml'))
    return {root, tree, outside, text}
  }

  it('a spec named by ../../ is neither read nor rewritten; validate reports it at asset.yaml line:column', async () => {
    const {tree, outside, text} = await assetWithSpecOutside('relative')
    const plain = await validatePaths([tree])
    const outsideDiag = plain.assets[0].diagnostics.filter((d) => /outside the asset folder/.test(d.message))
    expect(outsideDiag).toMatchObject([{rule: 'missing-file', severity: 'error', file: join(tree, 'vit', 'asset.yaml'), line: 2, column: 7}])
    // Nothing of elsewhere.yaml was read: no diagnostic names it.
    expect(plain.assets[0].diagnostics.filter((d) => d.file.endsWith('elsewhere.yaml'))).toEqual([])
    const fixed = await validatePaths([tree], {fix: true})
    expect(fixed.ok).toBe(false)
    expect(fixed.fixes ?? []).toEqual([])
    expect(await readFile(outside, 'utf8')).toBe(text)
  })

  it('a spec.yaml symlinked out of the asset folder is neither read nor rewritten', async () => {
    const {tree, outside, text} = await assetWithSpecOutside('symlink')
    const fixed = await validatePaths([tree], {fix: true})
    expect(fixed.assets[0].diagnostics.filter((d) => /outside the asset folder/.test(d.message))).toMatchObject([{rule: 'missing-file', line: 2, column: 7}])
    expect(fixed.fixes ?? []).toEqual([])
    expect(await readFile(outside, 'utf8')).toBe(text)
  })
})
