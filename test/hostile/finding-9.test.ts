/**
 * Hostile input, the smaller items of finding 9 (issue 13) that are not about opening files (those are in
 * files.test.ts): each crafted input is made here, small, in a temp folder.
 */
import {copyFile, cp, mkdir, readFile, rename, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {validatePaths} from '../../src/assets/validate.js'
import {loadModel} from '../../src/engine/classifier.js'
import {runScore} from '../../src/runner/run-score.js'
import {convertCheckpoint} from '../../src/weights/convert.js'
import {FIXTURES} from '../helpers/weight-writers.js'
import {tempDir} from '../helpers/tmp.js'
import {userError} from './user-error.js'

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

describe('finding 9: convert accepts id2label keys "0" and "00" and a string layer_norm_eps that score then refuses', () => {
  /** A copy of a tiny fixture (config, processor, weights) whose config.json is changed by `edit`. */
  async function tinyWith(family: string, edit: (cfg: Record<string, unknown>) => void): Promise<{root: string; model: string}> {
    const root = await tempDir()
    const model = join(root, 'model')
    await mkdir(model)
    for (const f of ['preprocessor_config.json', 'model.safetensors']) await copyFile(join(FIXTURES, `${family}-tiny`, f), join(model, f))
    const cfg = JSON.parse(await readFile(join(FIXTURES, `${family}-tiny`, 'config.json'), 'utf8')) as Record<string, unknown>
    edit(cfg)
    await writeFile(join(model, 'config.json'), JSON.stringify(cfg))
    return {root, model}
  }

  const cases: Array<[string, (cfg: Record<string, unknown>) => void, RegExp]> = [
    ['id2label keys "0" and "00"', (cfg) => {
      const labels = Object.values(cfg.id2label as Record<string, string>)
      cfg.id2label = {'0': labels[0], '00': labels[1], ...Object.fromEntries(labels.slice(2).map((l, i) => [String(i + 2), l]))}
      delete cfg.label2id
    }, /id2label\["00"\] is not a class id/],
    ['a string layer_norm_eps', (cfg) => {
      cfg.layer_norm_eps = '1e-12'
    }, /layer_norm_eps must be a non-negative number, got "1e-12"/],
  ]
  for (const family of ['vit', 'beit', 'dinov2', 'swinv2']) {
    for (const [what, edit, message] of cases) {
      it(`${family}: ${what} is refused by convert and by score alike (one config rule)`, async () => {
        const {root, model} = await tinyWith(family, edit)
        const converted = await userError(convertCheckpoint(model, join(root, 'out')))
        expect(converted.exitCode).toBe(1)
        expect(converted.message).toMatch(message)
        const scored = await userError(loadModel(model))
        expect(scored.exitCode).toBe(1)
        expect(scored.message).toMatch(message)
      })
    }
  }
})

describe('finding 9: NaN weights give "score": null with exit 0', () => {
  /** The tiny ViT with `value` written over every element of classifier.bias in model.safetensors. */
  async function tinyWithBias(value: number): Promise<string> {
    const root = await tempDir()
    const model = join(root, 'model')
    await mkdir(model)
    for (const f of ['config.json', 'preprocessor_config.json']) await copyFile(join(FIXTURES, 'vit-tiny', f), join(model, f))
    const bytes = await readFile(join(FIXTURES, 'vit-tiny', 'model.safetensors'))
    const headerLength = Number(bytes.readBigUInt64LE(0))
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, {dtype: string; data_offsets: [number, number]}>
    const bias = header['classifier.bias']
    expect(bias.dtype).toBe('F32')
    for (let at = 8 + headerLength + bias.data_offsets[0]; at < 8 + headerLength + bias.data_offsets[1]; at += 4) bytes.writeFloatLE(value, at)
    await writeFile(join(model, 'model.safetensors'), bytes)
    return model
  }

  for (const [what, value] of [['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY]] as const) {
    it(`${what} in the weights: score is a clear error (exit 1) naming the model's weights file, never a null score`, async () => {
      const model = await tinyWithBias(value)
      const image = join(FIXTURES, 'images', 'chelsea.png')
      const e = await userError(runScore({model, paths: [image], backend: 'ts'}))
      expect(e.exitCode).toBe(1)
      expect(e.message).toContain(join(model, 'model.safetensors'))
      expect(e.message).toMatch(/output is not a number/)
    })
  }
})
