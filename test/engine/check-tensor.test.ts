import {describe, expect, it} from 'vitest'

import {checkTensor} from '../helpers/check-tensor.js'

// The helper every engine test leans on must itself fail when it should.
describe('checkTensor', () => {
  it('passes within tolerance and returns the max abs diff and where it is', () => {
    expect(checkTensor([1, 2, 3.00005], [1, 2, 3], 'ok', 1e-4)).toEqual({maxAbsDiff: expect.closeTo(5e-5, 9), at: 2, mismatches: 0})
  })

  it('fails past tolerance, reporting the count, the max abs diff and the first mismatches', () => {
    const actual = [0, 1, 2, 3, 4, 5, 6, 7].map((x, i) => (i % 2 ? x + 0.5 : x))
    const expected = [0, 1, 2, 3, 4, 5, 6, 7]
    expect(() => checkTensor(actual, expected, 'logits', 0.1)).toThrow(/logits: TENSOR NOT OK, 4 of 8 elements differ by more than 0.1; max abs diff 5\.000e-1 at \[1\]/)
    expect(() => checkTensor(actual, expected, 'logits', 0.1)).toThrow(/\[1\] 1\.5 vs 1 \(diff 5\.000e-1\)\n {2}\[3\] 3\.5 vs 3/)
  })

  it('counts NaN as a mismatch (a NaN would otherwise slip through every comparison)', () => {
    expect(() => checkTensor([1, NaN], [1, 2], 'nan', 1)).toThrow(/1 of 2 elements .* max abs diff Infinity at \[1\]/)
  })

  it('fails on a length mismatch', () => {
    expect(() => checkTensor([1, 2], [1, 2, 3], 'short', 1)).toThrow(/short: TENSOR NOT OK, length 2, expected 3/)
  })
})
