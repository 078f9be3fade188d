/**
 * The thread pool's control block is laid out once (src/engine/wasm/control-block.ts) and handed to the workers:
 * the worker source must address it only through that layout, never by bare slot numbers that could drift from the
 * main thread's. (The 2-thread kernel tests run the real pool on it.)
 */
import {describe, expect, it} from 'vitest'

import {CONTROL_BLOCK} from '../../../src/engine/wasm/control-block.js'
import {WORKER_SOURCE} from '../../../src/engine/wasm/worker-source.js'

/** Atomics calls and typed-array views of the control block that use a numeric literal for a slot or an offset. */
function bareSlotNumbers(source: string): string[] {
  const atomics = source.match(/Atomics\.\w+\(\s*ctl\s*,\s*\d+/g) ?? []
  // The int32 area starts the block (byte offset 0); the argument area's offset and both lengths come from the layout.
  const offsets = source.match(/new Float64Array\(\s*control\s*,\s*\d+/g) ?? []
  const lengths = source.match(/new (Int32Array|Float64Array)\(\s*control\s*,\s*[^,)]+,\s*\d+/g) ?? []
  return [...atomics, ...offsets, ...lengths]
}

describe('the control block layout', () => {
  it('is consistent: distinct int32 slots inside the int32 area, the argument area after it', () => {
    const slots = [CONTROL_BLOCK.GEN, CONTROL_BLOCK.DONE, CONTROL_BLOCK.FN, CONTROL_BLOCK.NARGS, CONTROL_BLOCK.ERROR]
    expect(new Set(slots).size).toBe(slots.length)
    for (const s of slots) expect(s >= 0 && s < CONTROL_BLOCK.INT32_SLOTS).toBe(true)
    expect(CONTROL_BLOCK.INT32_SLOTS * 4).toBeLessThanOrEqual(CONTROL_BLOCK.ARGS_BYTE)
    expect(CONTROL_BLOCK.ARGS_BYTE % 8).toBe(0)
    expect(CONTROL_BLOCK.BYTES).toBe(CONTROL_BLOCK.ARGS_BYTE + 8 * CONTROL_BLOCK.MAX_ARGS)
  })

  it('is the only place the worker source takes slot numbers from', () => {
    expect(bareSlotNumbers(WORKER_SOURCE)).toEqual([])
    expect(WORKER_SOURCE).toContain('workerData')
    expect(WORKER_SOURCE).toMatch(/layout: L\b/)
    // The check itself sees bare numbers where they are written.
    expect(bareSlotNumbers('Atomics.load(ctl, 0); new Float64Array(control, 64, 16); Atomics.store(ctl, L.FN, 1)')).toEqual([
      'Atomics.load(ctl, 0',
      'new Float64Array(control, 64',
      'new Float64Array(control, 64, 16',
    ])
  })
})
