// selectBackend: the wasm backend where this runtime runs it, the TypeScript kernels where it does not (checked in
// a child process started with --jitless, which has no WebAssembly at all) or when asked for.
import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'

import {bestWasmVariant, defaultThreads, selectBackend} from '../../../src/engine/wasm/index.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

describe('selectBackend', () => {
  it('picks the fastest wasm variant on every core by default', async () => {
    const backend = await selectBackend()
    try {
      expect(backend.name).toBe(bestWasmVariant() === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd')
      expect(backend.threads).toBe(defaultThreads())
    } finally {
      backend.dispose()
    }
  })

  it('honours threads and prefer: ts', async () => {
    const one = await selectBackend({threads: 1})
    expect(one.threads).toBe(1)
    one.dispose()
    const ts = await selectBackend({prefer: 'ts'})
    expect(ts.name).toBe('ts')
    ts.dispose()
    await expect(selectBackend({threads: -1})).rejects.toThrow(/threads must be an integer/)
  })

  it('falls back to the TypeScript kernels when the runtime has no WebAssembly', async () => {
    const code = `
      import {selectBackend, bestWasmVariant} from './src/engine/wasm/index.ts'
      const b = await selectBackend({threads: 2})
      console.log(JSON.stringify({wasm: typeof WebAssembly, best: bestWasmVariant(), name: b.name}))
      b.dispose()`
    const {stdout} = await run(process.execPath, ['--jitless', '--import', 'tsx', '--input-type=module', '-e', code], {cwd: ROOT})
    expect(JSON.parse(stdout.trim())).toEqual({wasm: 'undefined', best: null, name: 'ts'})
  }, 60_000)
})
