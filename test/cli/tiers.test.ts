/**
 * The unit tier (`npm run test:unit`) starts no child process: a test file that spawns one (the built CLI, node
 * with other flags, a browser) is an end-to-end file, named `*.e2e.test.ts`, run by `npm test` only. Checked here
 * from the sources of every unit-tier test file and the test helpers they import.
 */
import {readdir, readFile} from 'node:fs/promises'
import {join, relative} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ROOT} from '../helpers/cli.js'

/** What starts a process from a test: execa, node:child_process, playwright's browser launch, the built CLI. */
const SPAWNS = /from 'execa'|from 'node:child_process'|from 'child_process'|\.launch(Persistent)?(Context)?\(|\bBIN\b|e2eBin\(/

/** Unit-tier files allowed a child process, with the reason. */
const ALLOWED: Record<string, string> = {
  'test/assets/validate.test.ts': '`validate --changed-since` runs git itself; the test makes a git repository with git',
  'test/helpers/cli.ts': 'defines BIN for the e2e tier; runCli itself runs in-process',
  'test/golden/readme/examples.ts': 'runServeExample is used by the e2e file readme-serve.e2e.test.ts only',
  'test/golden/readme/record.ts': 'not a test: the recorder, run by hand on the pre-move build',
  'test/cli/tiers.test.ts': 'names the patterns it looks for',
  'test/hostile/files.test.ts': 'mkfifo makes a FIFO (Node has no API for it); the library under test runs in-process',
}

/** Helpers that spawn, for e2e files only (checked below). */
const E2E_HELPERS = ['test/helpers/e2e.ts', 'test/runner/serve-process.ts', 'test/helpers/ci-runner.ts']

async function files(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(join(ROOT, dir), {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await files(p)))
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out
}

describe('test tiers', () => {
  it('no unit-tier test file (or helper) starts a child process', async () => {
    const offenders: string[] = []
    for (const file of await files('test')) {
      const rel = relative(ROOT, join(ROOT, file))
      if (rel.endsWith('.e2e.test.ts') || E2E_HELPERS.includes(rel) || rel in ALLOWED) continue
      if (SPAWNS.test(await readFile(join(ROOT, file), 'utf8'))) offenders.push(rel)
    }
    expect(offenders).toEqual([])
  })

  it('helpers that spawn are imported by e2e files only', async () => {
    const offenders: string[] = []
    for (const file of await files('test')) {
      if (file.endsWith('.e2e.test.ts')) continue
      const text = await readFile(join(ROOT, file), 'utf8')
      const imported = E2E_HELPERS.filter((h) => text.includes(`/${h.split('/').slice(-2).join('/').replace(/\.ts$/, '.js')}'`) || text.includes(`'./${h.split('/').pop()!.replace(/\.ts$/, '.js')}'`))
      if (imported.length && !E2E_HELPERS.includes(file)) offenders.push(`${file} imports ${imported.join(', ')}`)
    }
    expect(offenders).toEqual([])
  })
})
