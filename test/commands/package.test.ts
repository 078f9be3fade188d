import {existsSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {ROOT, runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const TINY = join(ROOT, 'test/fixtures/vit-tiny')

describe('vitrine package', () => {
  it('packages a Hugging Face folder and prints a result that matches its schema with --json', async () => {
    const out = join(await tempDir(), 'pkg')
    const r = await runCli([
      'package', TINY, '--out', out, '--name', 'vit-tiny-fridge', '--version', '2', '--onnx',
      '--storage-name', 'acct', '--container-name', 'models', '--container-path', 'vit-tiny-fridge/2/mlflow_model_folder', '--json',
    ])
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const result = JSON.parse(r.stdout) as Record<string, unknown>
    const checked = validateWithSchema('package-result.schema.json', result)
    expect(checked.state === 'error' ? checked.issues : []).toEqual([])
    expect(result).toMatchObject({name: 'vit-tiny-fridge', version: '2', onnx: true, weightsLocation: {type: 'azureblob', storageName: 'acct'}})
    expect(existsSync(join(out, 'mlflow_model_folder/model.onnx'))).toBe(true)
  })

  it('prints a human summary', async () => {
    const out = join(await tempDir(), 'pkg')
    const r = await runCli(['package', TINY, '--out', out, '--name', 'vit-tiny-fridge'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('Packaged vit-tiny-fridge version 1 (image-classification, 10 labels, 84,922 parameters, F32)')
    expect(r.stdout).toContain('manifest.json         12 files with size and sha256')
    expect(r.stdout).toContain('vitrine validate      0 errors, 0 warnings')
    // What it says is what `vitrine validate` finds.
    const v = await runCli(['validate', join(out, 'asset'), '--json'])
    expect(v.exitCode).toBe(0)
    expect((JSON.parse(v.stdout) as {summary: unknown}).summary).toEqual({assets: 1, errors: 0, warnings: 0})
  })

  it('a missing source is a usage error (exit 2) naming it, with nothing written', async () => {
    const dir = await tempDir()
    const r = await runCli(['package', join(dir, 'nope'), '--out', join(dir, 'pkg'), '--name', 'x'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain(`${join(dir, 'nope')}: no such file or directory`)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(await readdir(dir)).toEqual([])
  })

  it('half of the blob location is a usage error', async () => {
    const dir = await tempDir()
    const r = await runCli(['package', TINY, '--out', join(dir, 'pkg'), '--name', 'x', '--storage-name', 'acct'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/container-name/)
  })

  it('a bad model name is a usage error', async () => {
    const dir = await tempDir()
    const r = await runCli(['package', TINY, '--out', join(dir, 'pkg'), '--name', 'has space'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain(`--name: model name "has space" does not match azureml-assets'`)
  })
})
