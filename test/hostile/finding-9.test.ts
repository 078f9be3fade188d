/**
 * Hostile input, the smaller items of finding 9 (issue 13) that are not about opening files (those are in
 * files.test.ts): each crafted input is made here, small, in a temp folder.
 */
import {copyFile, cp, mkdir, readFile, rename, rm, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {validatePaths} from '../../src/assets/validate.js'
import {loadModel} from '../../src/engine/classifier.js'
import {runScore} from '../../src/runner/run-score.js'
import {runBatch} from '../../src/runner/run-batch.js'
import {silentProgress} from '../../src/core/progress.js'
import {isVitrineError} from '../../src/core/errors.js'
import {parseNpyHeader} from '../../src/weights/npy.js'
import {convertCheckpoint} from '../../src/weights/convert.js'
import {FIXTURES} from '../helpers/weight-writers.js'
import {tempDir} from '../helpers/tmp.js'
import {printable, printableLines} from '../../src/core/printable.js'
import type {ValidateResult} from '../../src/assets/diagnostic.js'
import type {BatchResult} from '../../src/runner/run-batch.js'
import type {VerifyResult} from '../../src/package/verify.js'
import type {PlannedResource} from '../../src/azure/types.js'
import {renderValidateResult} from '../../cli/validate-render.js'
import {renderBatchResult} from '../../cli/runner-render.js'
import {renderVerifyResult} from '../../cli/package-render.js'
import {renderPlan} from '../../cli/apply-render.js'
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

describe('finding 9: the .npy header is parsed with a regex (accepts what numpy refuses)', () => {
  /** A .npy of `version` holding `header` (padded as numpy pads it) and no data. */
  function npy(header: string, version: [number, number] = [1, 0]): Uint8Array {
    const pre = version[0] === 1 ? 10 : 12
    const padded = header + ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n'
    const out = Buffer.alloc(pre + Buffer.byteLength(padded, 'latin1'))
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, ...version]).copy(out)
    if (version[0] === 1) out.writeUInt16LE(out.length - pre, 8)
    else out.writeUInt32LE(out.length - pre, 8)
    out.write(padded, pre, 'latin1')
    return out
  }
  const parse = (bytes: Uint8Array) => parseNpyHeader(bytes, 'x.npy')

  it('reads every header numpy writes (and Python 2 long integers, as numpy does)', () => {
    expect(parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"))).toMatchObject({dtype: 'F32', shape: [3, 4], fortranOrder: false, bigEndian: false})
    expect(parse(npy("{'descr': '>f8', 'fortran_order': True, 'shape': (5,), }", [2, 0]))).toMatchObject({dtype: 'F64', shape: [5], fortranOrder: true, bigEndian: true})
    expect(parse(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (), }", [3, 0]))).toMatchObject({dtype: 'U8', shape: []})
    expect(parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }"))).toMatchObject({shape: [3, 4]})
    // Literal forms ast.literal_eval reads: double quotes, a comment, line breaks, key order.
    expect(parse(npy('{"shape": (2,\n 3), # rows, cols\n "fortran_order": False, "descr": "<i8"}'))).toMatchObject({dtype: 'I64', shape: [2, 3]})
  })

  const refused: Array<[string, Uint8Array, RegExp]> = [
    ['an extra key', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }"), /keys must be exactly/],
    ['a missing key', npy("{'descr': '<f4', 'shape': (2,), }"), /keys must be exactly/],
    ['text after the dict', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk"), /after the value/],
    ['a shape that is not a tuple', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }"), /shape is not a tuple/],
    ['a shape given as a list', npy("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }"), /shape is not a tuple/],
    ['a negative dimension', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"), /negative/],
    ['fortran_order not a bool', npy("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,), }"), /'Falsey' is not a literal/],
    ['a key hidden in a string value', npy(`{'descr': "'shape': (9,)", 'fortran_order': False, 'shape': (2,), }`), /unknown \.npy dtype/],
    ['a call', npy("{'descr': '<f4', 'fortran_order': bool(0), 'shape': (2,), }"), /'bool' is not a literal/],
    ['an unclosed dict', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)"), /not closed/],
    ['format version 1.1', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", [1, 1]), /version 1\.1/],
    ['Python 2 suffixes in format 3.0', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }", [3, 0]), /not an array header/],
    ['a header over 10,000 characters', npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }${' '.repeat(10_100)}`, [2, 0]), /longer than numpy reads/],
  ]
  for (const [what, bytes, message] of refused) {
    it(`refuses ${what}, as numpy.lib.format does`, () => {
      let error: unknown
      try {
        parse(bytes)
      } catch (e) {
        error = e
      }
      expect(isVitrineError(error), String(error)).toBe(true)
      expect((error as Error).message).toMatch(/^x\.npy: /)
      expect((error as Error).message).toMatch(message)
    })
  }
})

describe('finding 9: a batch partial file torn inside a quoted multi-line field cannot be resumed', () => {
  it('--resume cuts the torn row at the last complete CSV record (a quoted id holding a line break) and finishes the same output', async () => {
    const root = await tempDir()
    const image = (await readFile(join(FIXTURES, 'images', 'block.png'))).toString('base64')
    const input = join(root, 'in.csv')
    // Ids with line breaks are quoted in the output, so a row spans lines.
    await writeFile(input, `id,image\n"first\nrow",${image}\n"second\nrow",${image}\nthird,${image}\n`)
    const out = join(root, 'out.csv')
    await runBatch({model: join(FIXTURES, 'vit-tiny'), input, out, backend: 'ts'}, silentProgress)
    const whole = await readFile(out, 'utf8')
    // Killed while writing the second row: inside its quoted id, just after the line break.
    const tornAt = whole.indexOf('"second\n') + '"second\n'.length
    expect(tornAt).toBeGreaterThan('"second\n'.length)
    await writeFile(`${out}.partial`, whole.slice(0, tornAt))
    await rm(out)
    const resumed = await runBatch({model: join(FIXTURES, 'vit-tiny'), input, out, backend: 'ts', resume: true}, silentProgress)
    expect(resumed.skipped).toBe(1)
    expect(await readFile(out, 'utf8')).toBe(whole)
  })
})

describe('finding 9: labels and file names with ESC sequences or newlines are printed raw (every renderer)', () => {
  const nasty = 'a\u001b[2J\rb\nc\u009b\u202e\u0000'
  const shown = 'a\\x1b[2J\\rb\\nc\\x9b\\u202e\\x00'

  it('printable shows every control character as an escape; printableLines keeps only the line breaks', () => {
    expect(printable(nasty)).toBe(shown)
    expect(printable('plain ünïcödé ✓ 漢字')).toBe('plain ünïcödé ✓ 漢字')
    expect(printableLines('one\u001b[31m\ntwo\r')).toBe('one\\x1b[31m\ntwo\\r')
  })

  it('validate, batch, verify and the apply plan render hostile names escaped, one line each', () => {
    const validate = renderValidateResult({
      ok: false,
      assets: [{path: `/t/${nasty}`, type: 'model', name: nasty, version: '1', ok: false, diagnostics: [{rule: 'schema', severity: 'error', message: `bad ${nasty}`, file: `/t/${nasty}/spec.yaml`, line: 1, column: 1}]}],
      summary: {assets: 1, errors: 1, warnings: 0},
      skuCatalog: 'bundled',
    } as unknown as ValidateResult, false)
    const batch = renderBatchResult({out: `/o/${nasty}.csv`, scored: 1, failed: 1, skipped: 0, total: 1, imagesPerSecond: 1, backend: 'ts', threads: 1, seconds: 1, errors: [{id: nasty, error: `${nasty}: not an image`}]} as unknown as BatchResult)
    const verify = renderVerifyResult({ok: false, dir: nasty, filesChecked: 1, bytesChecked: 1, tensorsChecked: 0, issues: [{file: nasty, message: nasty}]} as unknown as VerifyResult)
    const plan = renderPlan([{action: 'create', kind: 'online-endpoint', name: nasty, file: nasty, changes: [], notes: [nasty], reason: nasty} as unknown as PlannedResource])
    for (const out of [validate, batch, verify, plan]) {
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/)
      expect(out).toContain(shown)
    }
    expect(validate.split('\n')).toHaveLength(4)
    expect(batch.split('\n')).toHaveLength(3)
    expect(verify.split('\n')).toHaveLength(2)
  })
})
