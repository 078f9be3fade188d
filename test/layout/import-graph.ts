/**
 * The import graph of src/, computed from the sources: every `import`/`export ... from` (type-only ones included)
 * and every `import('...')` of a relative module, resolved to the .ts file it names.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve, sep} from 'node:path'

import ts from 'typescript'

export type ImportGraph = Map<string, string[]>

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const full = join(dir, e.name)
    if (e.isDirectory()) out.push(...sourceFiles(full))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(full)
  }
  return out.sort()
}

/** `./x.js` (as ESM sources write it) -> the .ts file beside, or x/index.ts. */
function resolveModule(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec)
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

/** Files of `root` (paths relative to `root`) and the files of `root` each imports. */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map()
  for (const file of sourceFiles(root)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const deps = new Set<string>()
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue
      const target = resolveModule(file, ref.fileName)
      if (target && target.startsWith(root + sep)) deps.add(relative(root, target))
    }
    graph.set(relative(root, file), [...deps].sort())
  }
  return graph
}

/** Every cycle of the graph, each once, as the list of files round it (Tarjan's strongly connected components). */
export function findCycles(graph: ImportGraph): string[][] {
  let index = 0
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const visit = (v: string): void => {
    indices.set(v, index)
    low.set(v, index)
    index++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!))
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      const selfLoop = (graph.get(v) ?? []).includes(v)
      if (component.length > 1 || selfLoop) components.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!indices.has(v)) visit(v)
  return components
}
