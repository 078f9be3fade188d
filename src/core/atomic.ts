import {randomBytes} from 'node:crypto'
import {mkdir, open, rename, rm, writeFile} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

/**
 * Writes go to a temp file beside the target, then rename: an interrupted run leaves the old file or none, never
 * half a file. Temp names start with `.vitrine-tmp-` so a crash leftover is recognisable.
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.vitrine-tmp-${basename(target)}-${randomBytes(4).toString('hex')}`)
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), {recursive: true})
  const tmp = tempPathFor(target)
  try {
    await writeFile(tmp, data)
    await rename(tmp, target)
  } catch (error) {
    await rm(tmp, {force: true})
    throw error
  }
}

/**
 * Streams chunks into a temp file, then renames it over `target`. `produce` gets a `write` function; if it throws,
 * the temp file is removed and nothing is left behind.
 */
export async function writeStreamAtomic(
  target: string,
  produce: (write: (chunk: Uint8Array) => Promise<void>) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(target), {recursive: true})
  const tmp = tempPathFor(target)
  const fh = await open(tmp, 'w')
  try {
    await produce(async (chunk) => {
      let off = 0
      while (off < chunk.length) {
        const {bytesWritten} = await fh.write(chunk, off, chunk.length - off)
        off += bytesWritten
      }
    })
    await fh.close()
    await rename(tmp, target)
  } catch (error) {
    await fh.close().catch(() => undefined)
    await rm(tmp, {force: true})
    throw error
  }
}

/**
 * Builds a whole output directory in a temp sibling and renames it into place at the end. An existing `target` is
 * replaced only after the new one is complete.
 */
export async function writeDirAtomic(target: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), {recursive: true})
  const tmp = tempPathFor(target)
  await mkdir(tmp, {recursive: true})
  try {
    await build(tmp)
    const old = `${tmp}-old`
    let hadOld = false
    try {
      await rename(target, old)
      hadOld = true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    await rename(tmp, target)
    if (hadOld) await rm(old, {recursive: true, force: true})
  } catch (error) {
    await rm(tmp, {recursive: true, force: true})
    throw error
  }
}
