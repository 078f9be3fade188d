// selectBackend: the wasm backend where this runtime runs it (the TypeScript kernels where it does not:
// select-jitless.e2e.test.ts) or when asked for.
import {describe, expect, it} from 'vitest'

import {bestWasmVariant, defaultThreads, selectBackend} from '../../../src/engine/wasm/index.js'

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

})
