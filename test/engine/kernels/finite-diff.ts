/**
 * Finite-difference checks of backward kernels: the scalar checked is L = sum(out * R) for a fixed random R, so
 * dout = R; each input element is nudged by +-h and the change of L compared with the analytic gradient.
 */
import {expect} from 'vitest'

const H = 1e-2
/** Absolute + relative: float32 forwards leave ~1e-6 noise in L, divided by 2h. */
const TOL = 2e-3

export function randomArray(n: number, rand: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n)
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale
  return a
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

/** Checks analytic[i] against (L(x + h e_i) - L(x - h e_i)) / 2h for every i of x. */
export function checkGradient(label: string, x: Float32Array, analytic: Float32Array, loss: () => number): void {
  let worst = 0
  for (let i = 0; i < x.length; i++) {
    const keep = x[i]
    x[i] = keep + H
    const up = loss()
    x[i] = keep - H
    const down = loss()
    x[i] = keep
    const numeric = (up - down) / (2 * H)
    const err = Math.abs(numeric - analytic[i]) / (1 + Math.abs(numeric))
    worst = Math.max(worst, err)
    if (!(err <= TOL)) throw new Error(`${label}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`)
  }
  expect(worst).toBeLessThanOrEqual(TOL)
}

