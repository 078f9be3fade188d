import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {checkManifestEntry, hashFile, isPackagePath, listFiles, manifestPathProblems, readManifest, type PackageManifest} from '../../src/package/manifest.js'
import {tempDir} from '../helpers/tmp.js'

// sha256("hello"), as printed by `printf hello | sha256sum`.
const HELLO_SHA256 = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'

describe('the one manifest module', () => {
  it('hashes a file and lists a folder in byte order', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'b'))
    await writeFile(join(dir, 'b/x.txt'), 'hello')
    await writeFile(join(dir, 'B.txt'), '')
    await writeFile(join(dir, 'a.txt'), '')
    expect(await hashFile(join(dir, 'b/x.txt'))).toEqual({size: 5, sha256: HELLO_SHA256})
    expect(await listFiles(dir)).toEqual(['B.txt', 'a.txt', 'b/x.txt'])
    await expect(hashFile(join(dir, 'nope'))).rejects.toMatchObject({file: join(dir, 'nope')})
  })

  it('reads manifest.json: none is undefined, a bad one names the file and field', async () => {
    const dir = await tempDir()
    expect(await readManifest(dir)).toBeUndefined()
    await writeFile(join(dir, 'manifest.json'), '{')
    await expect(readManifest(dir)).rejects.toThrow(/manifest\.json: not valid JSON/)
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({schemaVersion: 1, name: 'n', version: '1', files: [{path: 'a', size: -1, sha256: 'a'.repeat(64)}]}))
    await expect(readManifest(dir)).rejects.toThrow(/not a vitrine manifest: files\.0\.size/)
  })

  it('names paths outside the package and paths listed twice', () => {
    for (const p of ['../x', '/etc/passwd', 'a//b', './a', 'a\\b', 'a/..']) expect(isPackagePath(p), p).toBe(false)
    expect(isPackagePath('mlflow_model_folder/MLmodel')).toBe(true)
    const entry = (path: string) => ({path, size: 0, sha256: '0'.repeat(64)})
    const m: PackageManifest = {schemaVersion: 1, name: 'n', version: '1', files: [entry('a'), entry('../b'), entry('a')]}
    expect(manifestPathProblems(m)).toEqual([
      {index: 1, path: '../b', message: 'is not a path inside the package'},
      {index: 2, path: 'a', message: 'is listed twice'},
    ])
  })

  it('checks a file against its entry: size before hash, then sha256', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'x'), 'hello')
    await mkdir(join(dir, 'd'))
    let hashed = 0
    const count = (n: number) => (hashed += n)
    expect(await checkManifestEntry(dir, {path: 'x', size: 5, sha256: HELLO_SHA256}, count)).toEqual({state: 'ok'})
    expect(hashed).toBe(5)
    expect(await checkManifestEntry(dir, {path: 'x', size: 4, sha256: HELLO_SHA256}, count)).toEqual({state: 'size', actual: 5})
    expect(hashed).toBe(5)
    expect(await checkManifestEntry(dir, {path: 'x', size: 5, sha256: '0'.repeat(64)})).toEqual({state: 'sha256', actual: HELLO_SHA256})
    expect(await checkManifestEntry(dir, {path: 'gone', size: 5, sha256: HELLO_SHA256})).toEqual({state: 'missing'})
    expect(await checkManifestEntry(dir, {path: 'd', size: 5, sha256: HELLO_SHA256})).toEqual({state: 'not-a-file'})
  })
})
