/**
 * Hostile input, files (issue 13): one test per finding of the red-team pass, named after it. Every crafted file is
 * made here, small, in a temp folder.
 */
import {execFileSync} from 'node:child_process'
import {copyFile, mkdir, readFile, readdir, rm, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {convertCheckpoint} from '../../src/weights/convert.js'
import {packageModel} from '../../src/package/package.js'
import {verifyPackage} from '../../src/package/verify.js'
import {runBatch} from '../../src/runner/run-batch.js'
import {silentProgress} from '../../src/core/progress.js'
import {loadModel} from '../../src/engine/classifier.js'
import {tempDir} from '../helpers/tmp.js'
import {tinyFolder} from './tiny-folder.js'
import {userError} from './user-error.js'
import {FIXTURES} from '../helpers/weight-writers.js'

const TINY = join(FIXTURES, 'vit-tiny')
const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nsecret-user:x:1000:1000::/home/secret-user:/bin/sh\n'

describe('finding 1: a symlink exfiltrates files', () => {
  it('package refuses a preprocessor_config.json symlinked out of the model folder (a credentials file is never copied)', async () => {
    const {root, model} = await tinyFolder()
    const secret = join(root, 'credentials.json')
    await writeFile(secret, JSON.stringify({client_secret: 'hunter2-very-secret'}))
    await rm(join(model, 'preprocessor_config.json'))
    await symlink(secret, join(model, 'preprocessor_config.json'))
    const out = join(root, 'pkg')
    const e = await userError(packageModel(model, out, {name: 'x'}))
    expect(e.exitCode).toBe(1)
    expect(e.message).toMatch(/symbolic link to a file outside/)
    expect(e.message).not.toContain('hunter2')
    await expect(readdir(out)).rejects.toThrow()
  })

  it('a config.json linked to /etc/passwd-like content gets an error that never quotes a line of it', async () => {
    const {root, model} = await tinyFolder()
    const passwd = join(root, 'passwd')
    await writeFile(passwd, PASSWD)
    await rm(join(model, 'config.json'))
    await symlink(passwd, join(model, 'config.json'))
    const linked = await userError(convertCheckpoint(model, join(root, 'out')))
    expect(linked.message).not.toContain('root:x')
    expect(linked.message).toMatch(/symbolic link/)
    // Not a symlink: the content itself is not JSON; the message names the file and a position, not the text.
    await rm(join(model, 'config.json'))
    await writeFile(join(model, 'config.json'), PASSWD)
    const plain = await userError(convertCheckpoint(model, join(root, 'out')))
    expect(plain.message).toContain('config.json: not valid JSON')
    expect(plain.message).not.toContain('root:x')
    const scored = await userError(loadModel(model))
    expect(scored.message).not.toContain('root:x')
  })
})

describe('finding 2: outputs destroy what the user had', () => {
  it('package --out DIR never deletes an existing non-empty folder without --force', async () => {
    const {root, model} = await tinyFolder()
    const out = join(root, 'precious')
    await mkdir(out)
    await writeFile(join(out, 'thesis.tex'), 'years of work')
    const e = await userError(packageModel(model, out, {name: 'x'}))
    expect(e.exitCode).toBe(2)
    expect(e.message).toMatch(/exists and is not empty/)
    expect(await readFile(join(out, 'thesis.tex'), 'utf8')).toBe('years of work')
  }, 60_000)

  it('package --out PARENT (a folder holding the source) is refused even with --force (a guard kept, not a finding)', async () => {
    const {root, model} = await tinyFolder()
    const e = await userError(packageModel(model, root, {name: 'x', force: true}))
    expect(e.message).toMatch(/would replace the source/)
    expect((await readdir(model)).sort()).toEqual(['config.json', 'model.safetensors', 'preprocessor_config.json'])
  })

  it('batch IN.csv --out IN.csv neither overwrites its input nor, with --resume, renames it away', async () => {
    const root = await tempDir()
    const list = join(root, 'in.csv')
    const text = 'image\nimages/a.png\n'
    await writeFile(list, text)
    for (const resume of [false, true]) {
      const e = await userError(runBatch({model: TINY, input: list, out: list, resume}, silentProgress))
      expect(e.message).toMatch(/would replace the source/)
      expect(await readFile(list, 'utf8')).toBe(text)
      expect(await readdir(root)).toEqual(['in.csv'])
    }
    // An unrelated finished output is not replaced without --force.
    const out = join(root, 'out.csv')
    await writeFile(out, 'id,label_1\nsomething,1\n')
    const e = await userError(runBatch({model: TINY, input: list, out}, silentProgress))
    expect(e.message).toMatch(/exists and is not empty/)
  })
})

describe('finding 8: a /dev/zero symlink', () => {
  it('convert refuses a config.json that is a symlink to /dev/zero (exit 1), reading nothing', async () => {
    const {root, model} = await tinyFolder()
    await rm(join(model, 'config.json'))
    await symlink('/dev/zero', join(model, 'config.json'))
    const e = await userError(convertCheckpoint(model, join(root, 'out')))
    expect(e.exitCode).toBe(1)
  })
})

describe('finding 9: a FIFO config.json hangs convert and verify', () => {
  it('convert, package and verify refuse a FIFO at once instead of waiting for a writer', async () => {
    const {root, model} = await tinyFolder()
    const pkg = join(root, 'pkg')
    await packageModel(model, pkg, {name: 'x'})
    await rm(join(model, 'config.json'))
    execFileSync('mkfifo', [join(model, 'config.json')])
    const e = await userError(convertCheckpoint(model, join(root, 'out')))
    expect(e.message).toMatch(/not a regular file \(a FIFO\)/)
    // package without --name reads config.json for the model's default name before converting: the same opener
    const p = await userError(packageModel(model, join(root, 'pkg2')))
    expect(p.message).toMatch(/not a regular file \(a FIFO\)/)
    const pkgConfig = join(pkg, 'mlflow_model_folder', 'model', 'config.json')
    await rm(pkgConfig)
    execFileSync('mkfifo', [pkgConfig])
    const v = await verifyPackage(pkg)
    expect(v.ok).toBe(false)
    expect(v.issues.map((i) => i.message).join('\n')).toMatch(/not a regular file/)
  }, 60_000)
})

describe('finding 9: verify passes a listed file replaced by a symlink', () => {
  it('verify reports a listed file that is now a symlink, even to identical bytes', async () => {
    const {root, model} = await tinyFolder()
    const pkg = join(root, 'pkg')
    await packageModel(model, pkg, {name: 'x'})
    const listed = join(pkg, 'mlflow_model_folder', 'model', 'config.json')
    const copy = join(root, 'config-copy.json')
    await copyFile(listed, copy)
    await rm(listed)
    await symlink(copy, listed)
    const v = await verifyPackage(pkg)
    expect(v.ok).toBe(false)
    expect(v.issues).toContainEqual({file: 'mlflow_model_folder/model/config.json', message: expect.stringMatching(/symbolic link/) as unknown as string})
  }, 60_000)
})
