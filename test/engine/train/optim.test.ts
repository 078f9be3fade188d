/** AdamW, SGD, clipping and the schedules against values worked out by hand from PyTorch's and transformers' formulas. */
import {describe, expect, it} from 'vitest'

import {adamwUpdate, clipGrads, gradNorm, sgdUpdate} from '../../../src/engine/train/optim.js'
import {learningRate, type ScheduleName, scheduleFactor} from '../../../src/engine/train/schedule.js'

describe('AdamW (torch.optim.AdamW)', () => {
  it('first step: decoupled decay on decaying ranges only, bias-corrected moments', () => {
    const params = new Float32Array([1, 1])
    const grads = new Float32Array([0.5, 0.5])
    const m = new Float32Array(2)
    const v = new Float32Array(2)
    const ranges = [
      {offset: 0, size: 1, decay: true},
      {offset: 1, size: 1, decay: false},
    ]
    adamwUpdate(params, grads, m, v, ranges, {lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01}, 1)
    // m = 0.05, v = 0.00025; m_hat / (sqrt(v_hat) + eps) = 0.5 / (0.5 + 1e-8) ~ 1: p = p (1 - lr wd) - lr
    expect(params[0]).toBeCloseTo(0.999 - 0.1, 6)
    expect(params[1]).toBeCloseTo(1 - 0.1, 6)
    expect(m[0]).toBeCloseTo(0.05, 7)
    expect(v[0]).toBeCloseTo(0.00025, 9)
  })

  it('lr 0 (the first warmup step) moves no weight but updates the moments', () => {
    const params = new Float32Array([2])
    const m = new Float32Array(1)
    const v = new Float32Array(1)
    adamwUpdate(params, new Float32Array([1]), m, v, [{offset: 0, size: 1, decay: true}], {lr: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1}, 1)
    expect(params[0]).toBe(2)
    expect(m[0]).toBeCloseTo(0.1, 7)
  })
})

describe('SGD and clipping', () => {
  it('SGD: p -= lr (g + wd p) where decay applies', () => {
    const params = new Float32Array([1, 1])
    sgdUpdate(params, new Float32Array([0.5, 0.5]), [{offset: 0, size: 1, decay: true}, {offset: 1, size: 1, decay: false}], 0.1, 0.2)
    expect(params[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.2), 6)
    expect(params[1]).toBeCloseTo(0.95, 6)
  })

  it('global norm, and clip_grad_norm_ scaling by max / (norm + 1e-6) only when above', () => {
    const g = new Float32Array([3, 4])
    const norm = gradNorm(g, 2)
    expect(norm).toBe(5)
    clipGrads(g, norm, 1, 2)
    expect(g[0]).toBeCloseTo(3 / (5 + 1e-6), 7)
    const small = new Float32Array([0.3, 0.4])
    clipGrads(small, 0.5, 1, 2)
    expect([...small]).toEqual([new Float32Array([0.3])[0], new Float32Array([0.4])[0]])
  })
})

describe('schedules (transformers get_scheduler), 2 warmup steps of 10', () => {
  const f = (name: ScheduleName, step: number): number => scheduleFactor({name, warmupSteps: 2, totalSteps: 10}, step, 1e-3)
  it('warmup is step / warmup for every warmup_* schedule', () => {
    for (const name of ['warmup_linear', 'warmup_cosine', 'warmup_cosine_with_restarts', 'warmup_polynomial', 'warmup_constant'] as const) {
      expect(f(name, 0)).toBe(0)
      expect(f(name, 1)).toBe(0.5)
      expect(f(name, 2)).toBeCloseTo(1, 12)
    }
  })
  it('after warmup', () => {
    expect(f('warmup_linear', 6)).toBe(0.5)
    expect(f('warmup_linear', 10)).toBe(0)
    expect(f('warmup_cosine', 6)).toBeCloseTo(0.5, 12) // half way: 0.5 (1 + cos(pi/2))
    expect(f('warmup_cosine', 10)).toBeCloseTo(0, 12)
    expect(f('warmup_cosine_with_restarts', 6)).toBeCloseTo(0.5, 12)
    expect(f('warmup_cosine_with_restarts', 10)).toBe(0)
    expect(f('warmup_polynomial', 6)).toBeCloseTo((0.5 * (1e-3 - 1e-7) + 1e-7) / 1e-3, 12)
    expect(f('warmup_constant', 7)).toBe(1)
    expect(f('constant', 0)).toBe(1)
  })
  it('the learning rate is base x factor', () => {
    expect(learningRate({name: 'warmup_linear', warmupSteps: 2, totalSteps: 8}, 1, 1e-3)).toBe(0.0005)
  })
})
