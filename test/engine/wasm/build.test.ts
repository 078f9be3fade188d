// The committed WebAssembly (src/engine/wasm/generated/kernels-wasm.ts) must be what assembly/kernels.ts compiles
// to, so a change to the sources cannot ship with a stale binary. Skipped only where the AssemblyScript compiler
// (a devDependency) is not installed.
import {createRequire} from 'node:module'
import {readFile} from 'node:fs/promises'
import {describe, expect, it} from 'vitest'

const require = createRequire(import.meta.url)
let ascInstalled = true
try {
  require.resolve('assemblyscript/package.json')
} catch {
  ascInstalled = false
}

describe.skipIf(!ascInstalled)('generated kernels module', () => {
  it('is what `npm run build:wasm` produces from assembly/kernels.ts', async () => {
    const script = await import('../../../scripts/build-wasm.mjs')
    const bins = await script.compileKernels()
    const committed = await readFile(script.GENERATED, 'utf8')
    expect(committed === script.generatedModule(bins), 'stale src/engine/wasm/generated/kernels-wasm.ts: run npm run build:wasm').toBe(true)
  }, 120_000)
})
