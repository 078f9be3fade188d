/**
 * llm.c's check_tensor for vitest: compares two float arrays element by element and, when any element is off by
 * more than `tol` (absolute), throws an Error reporting the max abs diff, where it is, and the first mismatches.
 * NaN anywhere counts as a mismatch. Returns the max abs diff so tests can report it.
 */
export interface TensorCheck {
  maxAbsDiff: number
  /** Index of the largest difference. */
  at: number
  mismatches: number
}

export function compareTensors(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): TensorCheck & {first: number[]} {
  let maxAbsDiff = 0
  let at = -1
  let mismatches = 0
  const first: number[] = []
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i])
    const bad = !(d <= tol) // NaN is bad
    if (bad) {
      mismatches++
      if (first.length < 5) first.push(i)
    }
    if (Number.isNaN(d) ? maxAbsDiff !== Infinity : d > maxAbsDiff) {
      maxAbsDiff = Number.isNaN(d) ? Infinity : d
      at = i
    }
  }
  return {maxAbsDiff, at, mismatches, first}
}

export function checkTensor(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol: number): TensorCheck {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: TENSOR NOT OK, length ${actual.length}, expected ${expected.length}`)
  }
  const {maxAbsDiff, at, mismatches, first} = compareTensors(actual, expected, tol)
  if (mismatches > 0) {
    const lines = first.map((i) => `  [${i}] ${actual[i]} vs ${expected[i]} (diff ${Math.abs(actual[i] - expected[i]).toExponential(3)})`)
    throw new Error(
      `${label}: TENSOR NOT OK, ${mismatches} of ${expected.length} elements differ by more than ${tol}; ` +
        `max abs diff ${maxAbsDiff.toExponential(3)} at [${at}]; first mismatches:\n${lines.join('\n')}`,
    )
  }
  return {maxAbsDiff, at, mismatches}
}
