import {existsSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ZipWriter} from '../../bench/lib/formats.js'
import {validateWithSchema} from '../../src/core/json-schema.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES, expectNothingWritten} from '../helpers/weight-writers.js'

/** oclif wraps long messages and prefixes each line with ' ›': back to one line. */
const unwrap = (stderr: string): string => stderr.replaceAll(/\s*›\s*/g, ' ').replaceAll(/\s+/g, ' ')

describe('vitrine convert', () => {
  it('--json: a result valid against schemas/convert-result.schema.json, true to the files written', async () => {
    const dir = await tempDir()
    const r = await runCli(['convert', join(FIXTURES, 'vit-tiny', 'vit_jax.npz'), '--out', join(dir, 'out'), '--dtype', 'bfloat16', '--json'])
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const result = JSON.parse(r.stdout) as {format: string; files: Array<{path: string; size: number}>; config: Record<string, unknown>; tensors: Array<{dtype: string}>}
    const check = validateWithSchema('convert-result.schema.json', result)
    expect(check.state === 'error' ? check.issues : []).toEqual([])
    expect(result.format).toBe('jax')
    expect(result.config.torch_dtype).toBe('bfloat16')
    expect(result.tensors.every((t) => t.dtype === 'BF16')).toBe(true)
    for (const f of result.files) expect((await readFile(join(dir, 'out', f.path))).length).toBe(f.size)
    expect(JSON.parse(await readFile(join(dir, 'out', 'config.json'), 'utf8'))).toEqual(result.config)
  })

  it('prints a human summary, no progress bar when stderr is not a terminal', async () => {
    const dir = await tempDir()
    const r = await runCli(['convert', join(FIXTURES, 'vit-geom'), '--out', join(dir, 'out'), '--from', 'timm'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/Converted .*timm\.pth \(timm\) into/)
    expect(r.stdout).toMatch(/56 tensors, 37,269 parameters, float32; 5 labels \(source config\)/)
    expect(r.stderr).toBe('')
  })

  it('a pickle calling os.system: exit 1, the global named, no stack trace, nothing written', async () => {
    const dir = await tempDir()
    const src = join(dir, 'evil.bin')
    const w = await ZipWriter.create(src)
    const cmd = Buffer.from(`touch ${join(dir, 'PWNED')}`)
    const len = Buffer.alloc(4)
    len.writeUInt32LE(cmd.length)
    await w.add('archive/data.pkl', Buffer.concat([Buffer.from([0x80, 2, 0x63]), Buffer.from('os\nsystem\n'), Buffer.from([0x58]), len, cmd, Buffer.from([0x85, 0x52, 0x2e])]))
    await w.close()
    const r = await runCli(['convert', src, '--out', join(dir, 'out')])
    expect(r.exitCode).toBe(1)
    const stderr = unwrap(r.stderr)
    expect(stderr).toMatch(/evil\.bin \(archive\/data\.pkl\): pickle at byte offset 2 refers to the global 'os\.system'/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(existsSync(join(dir, 'PWNED'))).toBe(false)
    await expectNothingWritten(join(dir, 'out'))
  })

  it('a truncated safetensors file: exit 1 with the byte offset; --json carries the error', async () => {
    const dir = await tempDir()
    const full = await readFile(join(FIXTURES, 'vit-tiny', 'model.safetensors'))
    await writeFile(join(dir, 'model.safetensors'), full.subarray(0, 4))
    const r = await runCli(['convert', join(dir, 'model.safetensors'), '--out', join(dir, 'out'), '--json'])
    expect(r.exitCode).toBe(1)
    const err = JSON.parse(r.stdout) as {error: {message: string; exitCode: number}}
    expect(err.error.message).toMatch(/model\.safetensors: truncated safetensors: 4 bytes, the 8-byte header length is missing \(byte offset 0\)/)
    await expectNothingWritten(join(dir, 'out'))
  })

  it('usage errors exit 2: a missing source, an unknown --from, an occupied --out', async () => {
    const dir = await tempDir()
    expect((await runCli(['convert', join(dir, 'nope.pth'), '--out', join(dir, 'o')])).exitCode).toBe(2)
    // oclif's FlagInvalidOptionError exits 1 today (reported: BaseCommand could map every parse error to 2).
    const bad = await runCli(['convert', join(FIXTURES, 'vit-geom'), '--out', join(dir, 'o'), '--from', 'onnx'])
    expect(bad.exitCode).not.toBe(0)
    expect(unwrap(bad.stderr)).toMatch(/Expected --from=onnx to be one of: auto, safetensors, pytorch, timm, jax/)
    await writeFile(join(dir, 'file'), 'x')
    const r = await runCli(['convert', join(FIXTURES, 'vit-geom'), '--out', dir])
    expect(r.exitCode).toBe(2)
    expect(unwrap(r.stderr)).toMatch(/exists and is not empty[\s\S]*--force/)
  })
})
