import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

let cachedRoot: string | undefined

/**
 * The vitrine package root (holds package.json, schemas/, templates/, data/). Found by walking up from this file,
 * so it is the same whether the code runs compiled from dist/ or as TypeScript from src/ (tests).
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pj = join(dir, 'package.json')
    if (existsSync(pj)) {
      const name = (JSON.parse(readFileSync(pj, 'utf8')) as {name?: string}).name
      if (name === 'vitrine') return (cachedRoot = dir)
    }
    const up = dirname(dir)
    if (up === dir) throw new Error('vitrine package root not found above ' + fileURLToPath(import.meta.url))
    dir = up
  }
}

/** A file shipped with the package: `assetPath('schemas', 'asset.schema.json')`. */
export function assetPath(...parts: string[]): string {
  return join(packageRoot(), ...parts)
}
