import {open, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ZipWriter, npyBytes} from '../../bench/lib/formats.js'
import {openCheckpoint} from '../../src/weights/checkpoint.js'
import {convertCheckpoint} from '../../src/weights/convert.js'
import {ZipReader, unsafeEntryName} from '../../src/weights/zip.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES, expectNothingWritten} from '../helpers/weight-writers.js'

async function withZip<T>(path: string, fn: (zip: ZipReader) => Promise<T>): Promise<T> {
  const fh = await open(path, 'r')
  try {
    return await fn(await ZipReader.open(fh, path))
  } finally {
    await fh.close()
  }
}

describe('zip reader', () => {
  it('reads stored and deflated entries, with and without zip64 records', async () => {
    const dir = await tempDir()
    const payload = Buffer.from('x'.repeat(5000) + 'end')
    for (const zip64 of [false, true]) {
      const path = join(dir, `z${zip64}.zip`)
      const w = await ZipWriter.create(path, {zip64})
      await w.add('a/stored.bin', payload, 0)
      await w.add('a/deflated.bin', payload, 8)
      await w.close()
      await withZip(path, async (zip) => {
        expect([...zip.entries.keys()]).toEqual(['a/stored.bin', 'a/deflated.bin'])
        expect(zip.entries.get('a/deflated.bin')!.compressedSize).toBeLessThan(payload.length)
        for (const e of zip.entries.values()) {
          expect(Buffer.from(await zip.read(e)).equals(payload)).toBe(true)
          expect(Buffer.from(await zip.readRange(e, 4999, 4)).toString()).toBe('xend')
        }
      })
    }
  })

  it('reads the fixture npz (numpy savez: zip64 local headers)', async () => {
    await withZip(join(FIXTURES, 'vit-geom', 'vit_jax.npz'), async (zip) => {
      expect(zip.entries.size).toBe(56)
      expect(zip.entries.get('cls.npy')!.size).toBe(256)
    })
  })

  it.each([
    ['../evil.npy', /contains a '\.\.' path segment/],
    ['a/../../evil.npy', /contains a '\.\.' path segment/],
    ['/etc/passwd', /is an absolute path/],
    ['C:/x.npy', /starts with a drive letter/],
  ])('refuses the entry name %s', async (name, pattern) => {
    const dir = await tempDir()
    const path = join(dir, 'bad.npz')
    const w = await ZipWriter.create(path)
    await w.add(name, npyBytes('F32', [1], new Uint8Array(4)))
    await w.close()
    const err = await convertCheckpoint(path, join(dir, 'out')).then(() => undefined, (e: unknown) => e as Error)
    expect(err?.message).toMatch(new RegExp(`^${path}: zip entry '${name.replace(/[.*/\\]/g, '\\$&')}' \\(central directory byte offset \\d+\\) `))
    expect(err?.message).toMatch(pattern)
    await expectNothingWritten(join(dir, 'out'))
  })

  it('a torch zip whose data.pkl is ../data.pkl is refused the same way', async () => {
    const dir = await tempDir()
    const path = join(dir, 'bad.pth')
    const w = await ZipWriter.create(path)
    await w.add('../data.pkl', Buffer.from([0x80, 2, 0x7d, 0x2e]))
    await w.close()
    await expect(convertCheckpoint(path, join(dir, 'out'))).rejects.toThrow(/zip entry '\.\.\/data\.pkl' .*contains a '\.\.' path segment/)
  })

  it('names corruption: CRC mismatch, truncated archive, data past the end', async () => {
    expect(unsafeEntryName('archive/data/0')).toBeUndefined()
    const dir = await tempDir()
    const path = join(dir, 'c.zip')
    const w = await ZipWriter.create(path)
    await w.add('a.bin', Buffer.alloc(100, 7))
    await w.close()
    const good = await readFile(path)
    const flipped = Buffer.from(good)
    flipped[30 + 'a.bin'.length + 50] ^= 1
    await writeFile(path, flipped)
    await withZip(path, async (zip) => {
      await expect(zip.read(zip.entries.get('a.bin')!)).rejects.toThrow(/zip entry 'a\.bin' at byte offset 35: CRC-32 mismatch/)
    })
    await writeFile(path, good.subarray(0, 60))
    await expect(withZip(path, async () => undefined)).rejects.toThrow(/no end-of-central-directory record/)
    // Central directory claims the data is larger than the file.
    const lying = Buffer.from(good)
    const cd = lying.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))
    lying.writeUInt32LE(10_000, cd + 20)
    lying.writeUInt32LE(10_000, cd + 24)
    await writeFile(path, lying)
    await expect(withZip(path, async () => undefined)).rejects.toThrow(/zip entry 'a\.bin': data at byte offset 0 \(10000 bytes\) runs past the end of the file/)
  })
})

describe('npy arrays', () => {
  it('reads Fortran-order and big-endian arrays as row-major little-endian', async () => {
    const dir = await tempDir()
    // [[1, 2, 3], [4, 5, 6]] stored column-major: 1 4 2 5 3 6
    const fortran = new Float32Array([1, 4, 2, 5, 3, 6])
    const big = Buffer.alloc(12)
    ;[1.5, -2, 3].forEach((v, i) => big.writeFloatBE(v, 4 * i))
    const w = await ZipWriter.create(join(dir, 'a.npz'))
    await w.add('f.npy', npyBytes('F32', [2, 3], new Uint8Array(fortran.buffer), {fortran: true}))
    await w.add('b.npy', npyBytes('F32', [3], big, {descr: '>f4'}))
    await w.add('h.npy', npyBytes('F16', [2], new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer)), 8)
    await w.close()
    const ck = await openCheckpoint(join(dir, 'a.npz'))
    try {
      const f32 = async (n: string): Promise<number[]> => [...new Float32Array(new Uint8Array((await ck.tensors.get(n)!.read())).buffer)]
      expect(ck.tensors.get('f')!.shape).toEqual([2, 3])
      expect(await f32('f')).toEqual([1, 2, 3, 4, 5, 6])
      expect(await f32('b')).toEqual([1.5, -2, 3])
      expect(ck.tensors.get('h')!.dtype).toBe('F16')
      expect([...new Uint16Array(new Uint8Array((await ck.tensors.get('h')!.read())).buffer)]).toEqual([0x3c00, 0xc000])
    } finally {
      await ck.close()
    }
  })

  it('refuses an npz entry whose data does not fill its shape, and an unknown descr', async () => {
    const dir = await tempDir()
    const w = await ZipWriter.create(join(dir, 'a.npz'))
    await w.add('cls.npy', npyBytes('F32', [1, 1, 8], new Uint8Array(16)))
    await w.close()
    await expect(openCheckpoint(join(dir, 'a.npz'))).rejects.toThrow(/npz entry 'cls\.npy': F32\[1, 1, 8\] needs 32 bytes of data but the entry holds 16 after its 128-byte header/)
    const w2 = await ZipWriter.create(join(dir, 'b.npz'))
    await w2.add('cls.npy', npyBytes('F32', [1], new Uint8Array(4), {descr: '<c8'}))
    await w2.close()
    await expect(openCheckpoint(join(dir, 'b.npz'))).rejects.toThrow(/npz entry 'cls\.npy': unknown \.npy dtype '<c8'/)
  })
})
