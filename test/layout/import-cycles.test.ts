import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {tempDir} from '../helpers/tmp.js'
import {findCycles, importGraph, type ImportGraph} from './import-graph.js'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))

describe('import graph of src/', () => {
  it('has no cycle, type-only and dynamic imports included', () => {
    const graph = importGraph(SRC)
    expect(graph.size).toBeGreaterThan(50)
    expect(findCycles(graph)).toEqual([])
  })

  it('finds a planted cycle in an in-memory graph, however long, and a self-import', () => {
    const g: ImportGraph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts', 'd.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
    ])
    expect(findCycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['e.ts']])
    g.set('c.ts', [])
    expect(findCycles(g)).toEqual([['e.ts']])
  })

  it('sees type-only, re-export and dynamic imports in real sources', async () => {
    const root = await tempDir()
    await mkdir(join(root, 'x'))
    await writeFile(join(root, 'a.ts'), "import type {B} from './x/b.js'\nexport type A = B\n")
    await writeFile(join(root, 'x/b.ts'), "export type {C as B} from '../c.js'\n")
    await writeFile(join(root, 'c.ts'), "export type C = number\nexport async function f() {\n  return import('./a.js')\n}\n")
    await writeFile(join(root, 'd.ts'), "import {readFile} from 'node:fs'\nexport const d = readFile\n")
    const graph = importGraph(root)
    expect(Object.fromEntries(graph)).toEqual({'a.ts': ['x/b.ts'], 'c.ts': ['a.ts'], 'd.ts': [], 'x/b.ts': ['c.ts']})
    expect(findCycles(graph)).toEqual([['a.ts', 'c.ts', 'x/b.ts']])
  })
})
