/**
 * Learning-rate schedules of the Azure ML finetune component (its `lr_scheduler_type` values), as transformers'
 * get_scheduler builds them: a LambdaLR multiplier of the base learning rate, a function of the number of optimizer
 * steps taken so far. The Trainer steps the scheduler after each optimizer step, so step 1 runs at lr x schedule(0).
 * The arithmetic follows transformers/optimization.py expression by expression, so the rates equal PyTorch's exactly.
 */
export const SCHEDULES = ['warmup_linear', 'warmup_cosine', 'warmup_cosine_with_restarts', 'warmup_polynomial', 'constant', 'warmup_constant'] as const
export type ScheduleName = (typeof SCHEDULES)[number]

export interface ScheduleOptions {
  name: ScheduleName
  warmupSteps: number
  totalSteps: number
}

/** Cosine: half a cycle (transformers' num_cycles default 0.5); with restarts: one hard restart (num_cycles 1). */
const COSINE_CYCLES = 0.5
const RESTART_CYCLES = 1
/** warmup_polynomial: transformers' defaults lr_end 1e-7, power 1.0. */
const POLY_LR_END = 1e-7
const POLY_POWER = 1

/** The multiplier of the base learning rate after `step` optimizer steps. */
export function scheduleFactor(o: ScheduleOptions, step: number, baseLr: number): number {
  const {warmupSteps: warmup, totalSteps: total} = o
  const warm = (): number => step / Math.max(1, warmup)
  switch (o.name) {
    case 'constant':
      return 1
    case 'warmup_constant':
      return step < warmup ? step / Math.max(1, warmup) : 1
    case 'warmup_linear':
      if (step < warmup) return warm()
      return Math.max(0, (total - step) / Math.max(1, total - warmup))
    case 'warmup_cosine': {
      if (step < warmup) return warm()
      const progress = (step - warmup) / Math.max(1, total - warmup)
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * COSINE_CYCLES * 2 * progress)))
    }
    case 'warmup_cosine_with_restarts': {
      if (step < warmup) return warm()
      const progress = (step - warmup) / Math.max(1, total - warmup)
      if (progress >= 1) return 0
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * ((RESTART_CYCLES * progress) % 1))))
    }
    case 'warmup_polynomial': {
      if (step < warmup) return step / Math.max(1, warmup)
      if (step > total) return POLY_LR_END / baseLr
      const lrRange = baseLr - POLY_LR_END
      const decaySteps = total - warmup
      const pctRemaining = 1 - (step - warmup) / decaySteps
      const decay = lrRange * pctRemaining ** POLY_POWER + POLY_LR_END
      return decay / baseLr
    }
  }
}

/** The learning rate optimizer step `step + 1` runs at: base x factor(step), as LambdaLR computes it. */
export function learningRate(o: ScheduleOptions, step: number, baseLr: number): number {
  return baseLr * scheduleFactor(o, step, baseLr)
}
