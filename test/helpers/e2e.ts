/**
 * The end-to-end tier: tests that need a real `vitrine` process (signals, kill -9, a server soak, the README's
 * serve example) spawn bin/run.js, which runs dist/. `npm test` builds dist/ first; this check refuses to test a
 * dist/ older than its sources, so an e2e test never passes on stale code after an edit without a build.
 */
import {readdir, stat} from 'node:fs/promises'
import {join, relative} from 'node:path'

import {BIN, ROOT} from './cli.js'

async function sources(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(join(ROOT, dir), {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await sources(p)))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs
  } catch {
    return undefined
  }
}

/** Source files whose compiled dist/ file is missing or older than them (the ones a build would change). */
export async function staleBuild(): Promise<string[]> {
  const stale: string[] = []
  const manifest = await mtime(join(ROOT, 'oclif.manifest.json'))
  for (const dir of ['src', 'commands', 'cli']) {
    for (const src of await sources(dir)) {
      const built = await mtime(join(ROOT, 'dist', src.replace(/\.ts$/, '.js')))
      const edited = (await mtime(join(ROOT, src)))!
      if (built === undefined || built < edited) stale.push(src)
      else if (dir === 'commands' && (manifest === undefined || manifest < edited)) stale.push(`oclif.manifest.json (${src})`)
    }
  }
  return stale.map((s) => relative(ROOT, join(ROOT, s)))
}

let checked: Promise<string> | undefined

/** bin/run.js, once dist/ is known to be built from the current sources; throws naming the stale files otherwise. */
export function e2eBin(): Promise<string> {
  checked ??= staleBuild().then((stale) => {
    if (stale.length) {
      throw new Error(`dist/ is older than its sources (${stale.slice(0, 5).join(', ')}${stale.length > 5 ? `, ... ${stale.length} files` : ''}): run \`npm run build\` first (npm test does)`)
    }
    return BIN
  })
  return checked
}
