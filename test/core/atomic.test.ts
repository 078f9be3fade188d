import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {writeDirAtomic, writeFileAtomic, writeStreamAtomic} from '../../src/core/atomic.js'
import {tempDir} from '../helpers/tmp.js'

describe('atomic writes', () => {
  it('writes a file through a temp name and leaves nothing else', async () => {
    const dir = await tempDir()
    await writeFileAtomic(join(dir, 'a.txt'), 'hello')
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('hello')
    expect(await readdir(dir)).toEqual(['a.txt'])
  })

  it('removes the temp file and keeps the old one when the producer fails', async () => {
    const dir = await tempDir()
    const target = join(dir, 'b.bin')
    await writeFile(target, 'old')
    await expect(
      writeStreamAtomic(target, async (write) => {
        await write(new Uint8Array([1, 2, 3]))
        throw new Error('interrupted')
      }),
    ).rejects.toThrow('interrupted')
    expect(await readFile(target, 'utf8')).toBe('old')
    expect(await readdir(dir)).toEqual(['b.bin'])
  })

  it('replaces a directory only when the new one is complete', async () => {
    const dir = await tempDir()
    const target = join(dir, 'out')
    await writeDirAtomic(target, async (tmp) => writeFile(join(tmp, 'one'), '1'))
    await expect(
      writeDirAtomic(target, async (tmp) => {
        await writeFile(join(tmp, 'two'), '2')
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await readdir(target)).toEqual(['one'])
    expect(await readdir(dir)).toEqual(['out'])
  })
})
