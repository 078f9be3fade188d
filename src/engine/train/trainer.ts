/**
 * One training step as the Hugging Face Trainer takes it (what the Azure ML finetune component runs): for each
 * micro-batch, forward, loss / accumulation steps, backward with gradients summed; then the global gradient norm
 * (reported before clipping), clipping to max_grad_norm, the optimizer step at the scheduled learning rate, and zeroed
 * gradients. The loop over data, epochs and checkpoints is the caller's (src/finetune/).
 */
import type {ParameterTensor} from '../../models/parameter-tensor.js'
import {readParameters} from '../read-parameters.js'
import {bceForwardBackward, crossEntropyForwardBackward} from './loss.js'
import {clipCoefficient, type DecayRange, type OptimizerName} from './optim.js'
import type {TrainModel} from './model.js'
import {trainedRanges, untrainedRanges} from './params.js'
import {learningRate, type ScheduleOptions} from './schedule.js'

export type TrainTask = 'image-classification' | 'image-classification-multilabel'

export interface TrainHyper {
  task: TrainTask
  optimizer: OptimizerName
  learningRate: number
  weightDecay: number
  /** <= 0 turns clipping off (the Trainer clips only when max_grad_norm > 0). */
  maxGradNorm: number
  labelSmoothing: number
  gradientAccumulation: number
  schedule: ScheduleOptions
}

/**
 * Forward and backward of one micro-batch: pixels[B, ch, H, W] and its targets (class ids [B], or 0/1 [B, numLabels]
 * for multilabel). Adds the gradients of loss / gradientAccumulation to `model.grads`; returns that scaled loss.
 */
export function trainMicroBatch(model: TrainModel, pixels: Float32Array, B: number, targets: ArrayLike<number>, hyper: TrainHyper): number {
  const logits = model.forward(pixels, B)
  const K = model.numLabels
  const scale = 1 / hyper.gradientAccumulation
  const dLogits = model.dLogits
  const loss =
    hyper.task === 'image-classification'
      ? crossEntropyForwardBackward(dLogits, logits, targets, hyper.labelSmoothing, scale, B, K)
      : bceForwardBackward(dLogits, logits, targets, scale, B, K)
  model.backward(B)
  return loss
}

/** The trained parameters' ranges and whether each decays, from the layout (adjacent ranges alike are merged). */
export function decayRanges(model: TrainModel): DecayRange[] {
  return trainedRanges(model.layout)
}

export interface StepResult {
  /** The learning rate this step ran at. */
  lr: number
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number
}

/**
 * The optimizer step after `stepsDone` earlier steps: clip, update at lr x schedule(stepsDone), zero the gradients.
 */
export function optimizerStep(model: TrainModel, hyper: TrainHyper, ranges: readonly DecayRange[], stepsDone: number): StepResult {
  const n = model.layout.total
  // floats that are no trained parameter (a tensor the forward never reads, a reserved zero) have no gradient
  for (const r of untrainedRanges(model.layout)) model.grads.fill(0, r.offset, r.offset + r.size)
  const norm = model.kernels.gradNorm(model.grads, n)
  const gradScale = hyper.maxGradNorm > 0 ? clipCoefficient(norm, hyper.maxGradNorm) : 1
  const lr = learningRate(hyper.schedule, stepsDone, hyper.learningRate)
  const update = {optimizer: hyper.optimizer, lr, weightDecay: hyper.weightDecay, step: stepsDone + 1, gradScale}
  model.kernels.optimizerUpdate(model.params, model.grads, model.m, model.v, ranges, update, n)
  return {lr, gradNorm: norm}
}

/**
 * Fills the parameters from a model.safetensors with Hugging Face names. `skip` names tensors not to read (a new
 * classifier head, initialised by the caller). Errors name the file and tensor, as loading for inference does.
 */
export async function loadTrainParams(model: TrainModel, file: string, skip: ReadonlySet<string> = new Set()): Promise<void> {
  const wanted: ParameterTensor[] = model.layout.entries
    .filter((e) => !skip.has(e.name))
    .map((e) => ({name: e.name, shape: e.shape, view: model.params.subarray(e.offset, e.offset + e.size), decay: e.decay}))
  await readParameters(file, wanted)
}
