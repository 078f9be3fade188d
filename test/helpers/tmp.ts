import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach} from 'vitest'

const made: string[] = []

/** A fresh temp directory, removed after the current test. */
export async function tempDir(prefix = 'vitrine-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

afterEach(async () => {
  while (made.length) await rm(made.pop()!, {recursive: true, force: true})
})
