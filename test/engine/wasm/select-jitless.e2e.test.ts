// selectBackend falls back to the TypeScript kernels where the runtime has no WebAssembly: checked in a child
// process started with --jitless (a process of its own: the flag is per process), so in the end-to-end tier.
import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

describe('selectBackend without WebAssembly', () => {
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
