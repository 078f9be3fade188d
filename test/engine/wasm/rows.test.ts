// The WebAssembly row kernels (assembly/rows.ts: gatherRows, scatterAddRows, addInto) against their naive twins
// (src/engine/kernels/reference.ts) on odd shapes: one row, row widths of 1, 3 and 130 floats (not multiples of 4),
// index tables with padding (-1) and shuffled order as SwinV2's shifted windows make them, one-image and three-image
// batches; 1 and 3 threads, both SIMD variants; arrays in the backend's memory and outside it (staged).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {seededRandom} from '../../../src/core/random.js'
import {addIntoNaive, gatherRowsNaive, scatterAddRowsNaive} from '../../../src/engine/kernels/reference.js'
import {type SimdVariant, type WasmBackend, createWasmBackend, wasmVariantSupported} from '../../../src/engine/wasm/index.js'
import {windowSources} from '../../../src/models/swinv2/forward.js'

function randomArray(n: number, rnd: () => number): Float32Array {
  return Float32Array.from({length: n}, () => rnd() * 2 - 1)
}

/** A table of R distinct rows of a map of `mapRows` rows (R <= mapRows), shuffled, every `padEvery`-th entry -1. */
function indexTable(R: number, mapRows: number, padEvery: number, rnd: () => number): Int32Array {
  const perm = Array.from({length: mapRows}, (_, i) => i)
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[perm[i], perm[j]] = [perm[j], perm[i]]
  }
  return Int32Array.from({length: R}, (_, r) => (padEvery > 0 && r % padEvery === padEvery - 1 ? -1 : perm[r]))
}

// [R, mapRows, C, padEvery]
const SHAPES: Array<[number, number, number, number]> = [
  [1, 1, 1, 0],
  [1, 3, 3, 0],
  [7, 9, 5, 3],
  [37, 40, 130, 4],
  [64, 64, 4, 0],
]

const variants: SimdVariant[] = (['simd', 'relaxed'] as const).filter((v) => wasmVariantSupported(v))

for (const variant of variants) {
  for (const threads of [1, 3]) {
    describe(`row kernels (${variant}, ${threads} thread${threads > 1 ? 's' : ''})`, () => {
      let backend: WasmBackend
      beforeAll(async () => {
        backend = await createWasmBackend({threads, variant})
      })
      afterAll(() => backend.dispose())

      const inMemory = (a: Float32Array): Float32Array => {
        const v = backend.alloc(a.length)
        v.set(a)
        return v
      }

      for (const [R, mapRows, C, padEvery] of SHAPES) {
        it(`gatherRows and scatterAddRows: ${R} rows of ${C} from a map of ${mapRows}${padEvery ? `, every ${padEvery}th padding` : ''}`, () => {
          const rnd = seededRandom(R * 100 + C)
          const map = randomArray(mapRows * C, rnd)
          const rows = indexTable(R, mapRows, padEvery, rnd)
          const want = new Float32Array(R * C).fill(7)
          gatherRowsNaive(want, map, rows, R, C)
          const got = backend.alloc(R * C).fill(7)
          const rowsIn = backend.allocIndex(R)
          rowsIn.set(rows)
          backend.gatherRows(got, inMemory(map), rowsIn, R, C)
          expect(got).toEqual(want)
          const staged = new Float32Array(R * C).fill(7)
          backend.gatherRows(staged, map, rows, R, C)
          expect(staged).toEqual(want)

          const windows = randomArray(R * C, rnd)
          const wantMap = map.slice()
          scatterAddRowsNaive(wantMap, windows, rows, R, C)
          const gotMap = inMemory(map)
          backend.scatterAddRows(gotMap, inMemory(windows), rowsIn, R, C)
          expect(gotMap).toEqual(wantMap)
          const stagedMap = map.slice()
          backend.scatterAddRows(stagedMap, windows, rows, R, C)
          expect(stagedMap).toEqual(wantMap)
        })
      }

      it("gatherRows then scatterAddRows over SwinV2's shifted, padded windows of a 1- and a 3-image batch", () => {
        // a 5x7 map padded to 8x8 for windows of 4, shifted by 2: 4 windows of 16 tokens, 29 of them padding
        const g = {windowSize: 4, shift: 2, height: 5, width: 7, padHeight: 8, padWidth: 8, numWindows: 4}
        const src = windowSources(g)
        const C = 6
        const N = g.height * g.width
        for (const B of [1, 3]) {
          const rnd = seededRandom(B)
          const rows = Int32Array.from({length: B * src.length}, (_, k) => (src[k % src.length] < 0 ? -1 : Math.floor(k / src.length) * N + src[k % src.length]))
          const x = randomArray(B * N * C, rnd)
          const want = new Float32Array(rows.length * C)
          gatherRowsNaive(want, x, rows, rows.length, C)
          const got = backend.alloc(rows.length * C)
          backend.gatherRows(got, inMemory(x), rows, rows.length, C)
          expect(got).toEqual(want)
          // every map row appears once: scattering the gathered windows back adds x to itself
          const doubled = inMemory(x)
          backend.scatterAddRows(doubled, got, rows, rows.length, C)
          expect(doubled).toEqual(x.map((v) => v + v))
        }
      })

      it.each([1, 3, 4, 4003])('addInto of %i floats', (n) => {
        const rnd = seededRandom(n)
        const x = randomArray(n, rnd)
        const y = randomArray(n, rnd)
        const want = x.slice()
        addIntoNaive(want, y, n)
        const got = inMemory(x)
        backend.addInto(got, inMemory(y), n)
        expect(got).toEqual(want)
        const staged = x.slice()
        backend.addInto(staged, y, n)
        expect(staged).toEqual(want)
      })
    })
  }
}
