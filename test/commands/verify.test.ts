import {readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {ROOT, runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const GEOM = join(ROOT, 'test/fixtures/vit-geom')

async function freshPackage(): Promise<string> {
  const out = join(await tempDir(), 'pkg')
  const r = await runCli(['package', GEOM, '--out', out, '--name', 'vit-geom', '--json'])
  expect(r.exitCode).toBe(0)
  return out
}

describe('vitrine verify', () => {
  it('exits 0 on a fresh package', async () => {
    const out = await freshPackage()
    const r = await runCli(['verify', out])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/OK — vit-geom version 1, 12 files \(\d+ bytes\) hashed, 56 tensor shapes checked/)
  })

  it('exits 1 naming a file with a flipped byte, in text and in --json', async () => {
    const out = await freshPackage()
    const f = join(out, 'mlflow_model_folder/model/model.safetensors')
    const bytes = await readFile(f)
    bytes[bytes.length - 1] ^= 0x80
    await writeFile(f, bytes)
    const text = await runCli(['verify', out])
    expect(text.exitCode).toBe(1)
    expect(text.stderr).toContain('mlflow_model_folder/model/model.safetensors: sha256 is ')
    const json = await runCli(['verify', out, '--json'])
    expect(json.exitCode).toBe(1)
    const result = JSON.parse(json.stdout) as {ok: boolean; issues: Array<{file: string}>}
    expect(validateWithSchema('verify-result.schema.json', result).state).toBe('ok')
    expect(result.ok).toBe(false)
    expect(result.issues.map((i) => i.file)).toEqual(['mlflow_model_folder/model/model.safetensors'])
  })

  it('exits 1 naming a missing file', async () => {
    const out = await freshPackage()
    await rm(join(out, 'mlflow_model_folder/components/image_processor/preprocessor_config.json'))
    const r = await runCli(['verify', out])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain('mlflow_model_folder/components/image_processor/preprocessor_config.json: is missing')
  })

  it('exits 2 for a folder that does not exist', async () => {
    const r = await runCli(['verify', join(await tempDir(), 'nope')])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('no such file or directory')
  })
})
