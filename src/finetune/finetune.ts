/**
 * `vitrine finetune`: the Azure ML image-classification finetune job run locally on vitrine's engine, with the
 * Hugging Face Trainer's semantics step for step (src/engine/train/). This module resolves flags against the job,
 * reads and decodes the data, chooses the head, runs the epochs, and writes the component's outputs
 * (pytorch_model_folder/, mlflow_model_folder/) plus metrics.json and steps.jsonl into --out atomically. An
 * interrupted run (Ctrl-C, SIGTERM) leaves only DIR/checkpoint/, from which `--resume` continues to the same result.
 */
import {mkdir, readFile, readdir, rename, rm, stat, writeFile} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'

import {writeDirAtomic} from '../core/atomic.js'
import {InvalidInputError, UsageError, describeFsError} from '../core/errors.js'
import {type Progress, silentProgress} from '../core/progress.js'
import {MAX_JSON_FILE_BYTES, readUserTextFile} from '../core/user-file.js'
import {seededRandom, shuffledIndices, truncatedNormal} from '../core/random.js'
import {FAMILIES, parseModelConfigText} from '../models/registry.js'
import {resolveModelFiles} from '../engine/classifier.js'
import {servingInputSize, servingVersion} from '../models/model-folder.js'
import {checkParameters} from '../engine/read-parameters.js'
import type {TrainKernels} from '../engine/train/kernels.js'
import {bceForwardBackward, crossEntropyForwardBackward} from '../engine/train/loss.js'
import type {OptimizerName} from '../engine/train/optim.js'
import {SCHEDULES, type ScheduleName} from '../engine/train/schedule.js'
import {decayRanges, loadTrainParams, optimizerStep, type TrainHyper, trainMicroBatch} from '../engine/train/trainer.js'
import type {TrainModel} from '../engine/train/model.js'
import {selectTrainKernels, type TrainBackendChoice} from '../engine/wasm/train.js'
import {type BadRow, type EvalTask, readEvalData} from '../evaluate/data.js'
import {parsePreprocessorConfig} from '../image/index.js'
import {packageModel} from '../package/package.js'
import {serializeSafetensorsHeader} from '../weights/safetensors.js'
import {examplePixels, loadExamples, type TrainExample} from './data.js'
import {type FinetuneJob, readFinetuneJob} from './job.js'

/** Hugging Face TrainingArguments' defaults, used where neither a flag nor the job sets a value. */
export const FINETUNE_DEFAULTS = {
  epochs: 3,
  maxSteps: -1,
  batchSize: 8,
  gradientAccumulation: 1,
  learningRate: 5e-5,
  scheduler: 'warmup_linear' as ScheduleName,
  warmupSteps: 0,
  weightDecay: 0,
  maxGradNorm: 1,
  labelSmoothing: 0,
  optimizer: 'adamw' as OptimizerName,
  seed: 42,
} as const

export interface Hyperparameters {
  epochs: number
  maxSteps: number
  batchSize: number
  gradientAccumulation: number
  learningRate: number
  scheduler: ScheduleName
  warmupSteps: number
  weightDecay: number
  maxGradNorm: number
  labelSmoothing: number
  optimizer: OptimizerName
  seed: number
  shuffle: boolean
  augment: boolean
}

export interface FinetuneOptions extends Partial<Hyperparameters> {
  model?: string
  trainData?: string
  validationData?: string
  job?: string
  out: string
  task?: EvalTask
  inputColumn?: string
  labelColumn?: string
  newHead?: boolean
  strict?: boolean
  resume?: boolean
  force?: boolean
  /** Threads of the WebAssembly kernels (default: every core). */
  threads?: number
  /** 'wasm' (default; 'ts' where this runtime has no WebAssembly SIMD) or 'ts'. */
  backend?: TrainBackendChoice
  /** The training kernels, overriding threads/backend (tests); the caller disposes them. */
  kernels?: TrainKernels
  progress?: Progress
  /** Told once when the first step starts (the command says so on stderr; a test waits for it). */
  onStart?: (totalSteps: number) => void
  /** Polled after each optimizer step: true writes a checkpoint and stops (Ctrl-C / SIGTERM). */
  shouldStop?: () => boolean
}

export interface StepRecord {
  step: number
  epoch: number
  lr: number
  loss: number
  grad_norm: number
}

export interface EpochMetrics {
  epoch: number
  train_loss: number
  validation_loss?: number
  validation_accuracy?: number
}

export interface FinetuneResult {
  status: 'completed' | 'interrupted'
  model: string
  out: string
  task: EvalTask
  backend: string
  threads: number
  labels: string[]
  newHead: boolean
  trainData: {path: string; rows: number}
  validationData?: {path: string; rows: number}
  skipped: BadRow[]
  hyperparameters: Hyperparameters
  stepsPerEpoch: number
  totalSteps: number
  resumedAtStep?: number
  steps: StepRecord[]
  metrics: EpochMetrics[]
  notes: string[]
  seconds: number
}

/** Interrupted runs: DIR/checkpoint/ holds the state; `--resume` continues from it. */
export const CHECKPOINT_DIR = 'checkpoint'

interface CheckpointState {
  fingerprint: string
  stepsDone: number
  steps: StepRecord[]
  metrics: EpochMetrics[]
  total: number
}

type Sources = Record<string, 'flag' | 'job' | 'default'>

function resolveHyperparameters(o: FinetuneOptions, job: FinetuneJob | undefined, notes: string[]): Hyperparameters {
  const jh = job?.hyperparameters ?? {}
  const sources: Sources = {}
  const pick = <T>(name: string, flag: T | undefined, fromJob: T | undefined, fallback: T, jobName: string): T => {
    if (flag !== undefined) {
      if (fromJob !== undefined && fromJob !== flag) notes.push(`${jobName} ${String(fromJob)} (job): replaced by --${name} ${String(flag)}`)
      sources[name] = 'flag'
      return flag
    }
    if (fromJob !== undefined) {
      sources[name] = 'job'
      return fromJob
    }
    sources[name] = 'default'
    return fallback
  }
  const jobOptimizer = jh.optimizer === undefined ? undefined : jobOptimizerName(jh.optimizer, notes, job?.file ?? '')
  const jobScheduler = jh.learning_rate_scheduler
  if (jobScheduler !== undefined && !SCHEDULES.includes(jobScheduler as ScheduleName)) {
    throw new InvalidInputError(`${job?.file}: learning_rate_scheduler '${jobScheduler}' is not one of ${SCHEDULES.join(', ')}`, {file: job?.file})
  }
  const d = FINETUNE_DEFAULTS
  const h: Hyperparameters = {
    epochs: pick('epochs', o.epochs, jh.number_of_epochs, d.epochs, 'number_of_epochs'),
    maxSteps: pick('max-steps', o.maxSteps, jh.max_steps, d.maxSteps, 'max_steps'),
    batchSize: pick('batch-size', o.batchSize, jh.training_batch_size, d.batchSize, 'training_batch_size'),
    gradientAccumulation: pick('gradient-accumulation', o.gradientAccumulation, jh.gradient_accumulation_step, d.gradientAccumulation, 'gradient_accumulation_step'),
    learningRate: pick('learning-rate', o.learningRate, jh.learning_rate, d.learningRate, 'learning_rate'),
    scheduler: pick('scheduler', o.scheduler, jobScheduler as ScheduleName | undefined, d.scheduler, 'learning_rate_scheduler'),
    warmupSteps: pick('warmup-steps', o.warmupSteps, jh.warmup_steps, d.warmupSteps, 'warmup_steps'),
    weightDecay: pick('weight-decay', o.weightDecay, jh.weight_decay, d.weightDecay, 'weight_decay'),
    maxGradNorm: pick('max-grad-norm', o.maxGradNorm, jh.max_grad_norm, d.maxGradNorm, 'max_grad_norm'),
    labelSmoothing: pick('label-smoothing', o.labelSmoothing, jh.label_smoothing_factor, d.labelSmoothing, 'label_smoothing_factor'),
    optimizer: pick('optimizer', o.optimizer, jobOptimizer, d.optimizer, 'optimizer'),
    seed: pick('seed', o.seed, jh.random_seed, d.seed, 'random_seed'),
    shuffle: o.shuffle ?? true,
    augment: pick('augment', o.augment, jh.apply_augmentations, true, 'apply_augmentations'),
  }
  const positiveInt = (v: number, flag: string): void => {
    if (!Number.isSafeInteger(v) || v < 1) throw new UsageError(`--${flag} ${v}: expected a positive integer`)
  }
  positiveInt(h.epochs, 'epochs')
  positiveInt(h.batchSize, 'batch-size')
  positiveInt(h.gradientAccumulation, 'gradient-accumulation')
  if (!Number.isSafeInteger(h.maxSteps) || (h.maxSteps < 1 && h.maxSteps !== -1)) throw new UsageError(`--max-steps ${h.maxSteps}: expected a positive integer (or -1: use --epochs)`)
  if (!Number.isSafeInteger(h.warmupSteps) || h.warmupSteps < 0) throw new UsageError(`--warmup-steps ${h.warmupSteps}: expected an integer >= 0`)
  if (!(h.learningRate >= 0) || !Number.isFinite(h.learningRate)) throw new UsageError(`--learning-rate ${h.learningRate}: expected a number >= 0`)
  if (!(h.weightDecay >= 0) || !Number.isFinite(h.weightDecay)) throw new UsageError(`--weight-decay ${h.weightDecay}: expected a number >= 0`)
  if (!Number.isFinite(h.maxGradNorm)) throw new UsageError(`--max-grad-norm ${h.maxGradNorm}: expected a number (0 or less turns clipping off)`)
  if (!(h.labelSmoothing >= 0 && h.labelSmoothing < 1)) throw new UsageError(`--label-smoothing ${h.labelSmoothing}: expected a number in [0, 1)`)
  if (!Number.isSafeInteger(h.seed)) throw new UsageError(`--seed ${h.seed}: expected an integer`)
  return h
}

/** The component's optimizer names (transformers' OptimizerNames) that run here. */
function jobOptimizerName(name: string, notes: string[], file: string): OptimizerName {
  if (name === 'adamw_torch' || name === 'adamw_torch_fused') return 'adamw'
  if (name === 'adamw_hf') {
    notes.push('optimizer adamw_hf (job): run as torch.optim.AdamW (adamw_torch), the Trainer\'s default since transformers 4.x; the two differ only in where eps enters')
    return 'adamw'
  }
  if (name === 'sgd') return 'sgd'
  throw new InvalidInputError(`${file}: optimizer '${name}' does not run locally; vitrine runs adamw_torch (adamw), adamw_hf and sgd`, {file})
}

async function isNonEmptyDir(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length > 0
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return true
    throw describeFsError(error, path) ?? error
  }
}

async function readJsonFile(file: string): Promise<unknown> {
  const text = await readUserTextFile(file, {maxBytes: MAX_JSON_FILE_BYTES})
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new InvalidInputError(`${file}: not valid JSON (${(error as Error).message})`, {file})
  }
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** A 32-bit seed for (seed, epoch, item): each epoch's shuffle and each image's augmentation draw from their own. */
function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0
  }
  return h
}

export async function runFinetune(options: FinetuneOptions): Promise<FinetuneResult> {
  const started = performance.now()
  const notes: string[] = []
  const job = options.job === undefined ? undefined : await readFinetuneJob(options.job)
  if (job) notes.push(...job.notes)
  const hyper = resolveHyperparameters(options, job, notes)
  const progress = options.progress ?? silentProgress

  // model and data: flags first, then the job's local paths
  const fromJob = (flag: string | undefined, jobPath: {path: string; remote: boolean} | undefined, what: string, flagName: string): string | undefined => {
    if (flag !== undefined) {
      if (jobPath) notes.push(`${what} ${jobPath.path} (job): replaced by --${flagName} ${flag}`)
      return flag
    }
    if (jobPath?.remote) throw new UsageError(`${job?.file}: ${what} ${jobPath.path} is not local; pass --${flagName} with a local copy`)
    return jobPath?.path
  }
  const modelDir = fromJob(options.model, job?.model, 'mlflow_model', 'model')
  if (modelDir === undefined) throw new UsageError('--model is required (a Hugging Face, MLflow or vitrine package model folder)')
  const trainPath = fromJob(options.trainData, job?.trainingData, 'training_data', 'train-data')
  if (trainPath === undefined) throw new UsageError('--train-data is required (or --job with a local training_data path)')
  const validationPath = fromJob(options.validationData, job?.validationData, 'validation_data', 'validation-data')
  const task: EvalTask = options.task ?? job?.task ?? 'image-classification'
  const multilabel = task === 'image-classification-multilabel'
  if (multilabel && hyper.labelSmoothing > 0) throw new UsageError('--label-smoothing applies to image-classification (cross-entropy); multilabel training uses binary cross-entropy without it')
  const inputColumn = options.inputColumn ?? job?.inputColumn
  const labelColumn = options.labelColumn ?? job?.labelColumn

  // --out: never replace a folder silently; --resume needs the checkpoint an interrupted run left
  const out = resolve(options.out)
  const checkpointDir = join(out, CHECKPOINT_DIR)
  const hasCheckpoint = await stat(join(checkpointDir, 'state.json')).then((s) => s.isFile(), () => false)
  if (options.resume && !hasCheckpoint) throw new UsageError(`--resume: ${options.out} holds no ${CHECKPOINT_DIR}/state.json from an interrupted run`)
  if (!options.resume && !options.force && (await isNonEmptyDir(out))) {
    throw new UsageError(
      `--out ${options.out} exists and is not empty${hasCheckpoint ? ' (it holds an interrupted run: add --resume to continue it)' : ''}; pass --force to replace it`,
      {file: options.out},
    )
  }
  const modelAbs = resolve(modelDir)
  if (modelAbs === out || modelAbs.startsWith(out + '/')) throw new UsageError(`--out ${options.out} would replace the model ${modelDir}: choose another output folder`)

  // the model's files
  const files = await resolveModelFiles(modelDir)
  const configText = await readUserTextFile(files.config, {maxBytes: MAX_JSON_FILE_BYTES})
  const parsed = parseModelConfigText(configText, files.config)
  const configJson = JSON.parse(configText) as Record<string, unknown>
  const {family} = parsed
  const createTrainModel = family.createTrainModel
  if (!createTrainModel) {
    const trainable = FAMILIES.filter((f) => f.createTrainModel).map((f) => `${f.modelType} (${f.architectures.join(', ')})`)
    throw new InvalidInputError(`${files.config}: vitrine finetune does not train ${family.modelType} (${family.architectures.join(', ')}) yet; it trains ${trainable.join(', ')}`, {file: files.config})
  }
  // dropout and stochastic depth are random per step: the local run is deterministic and leaves them out
  const stochastic = ['hidden_dropout_prob', 'attention_probs_dropout_prob', 'drop_path_rate'].filter((k) => typeof configJson[k] === 'number' && (configJson[k] as number) > 0)
  if (stochastic.length > 0) {
    notes.push(`${stochastic.map((k) => `${k} ${String(configJson[k])}`).join(', ')} (config.json): trained without dropout or drop path here (deterministic steps); the Azure ML job applies them`)
  }
  const pre = parsePreprocessorConfig(await readJsonFile(files.preprocessor), files.preprocessor, family.processorKind ?? 'vit')
  const serving = {
    ...servingInputSize(family, parsed.config, pre, files),
    transformersVersion: await servingVersion(files.dir, configText),
    weightsFile: files.weights,
  }

  // data and labels
  const readOpts = {task, inputColumn, labelColumn}
  const train = await readEvalData(trainPath, readOpts)
  const validation = validationPath === undefined ? undefined : await readEvalData(validationPath, readOpts)
  const bad: BadRow[] = [...train.bad, ...(validation?.bad ?? [])]
  const strictFail = (): never => {
    const first = bad[0]
    throw new InvalidInputError(`${first.source}: ${first.reason}`, {hint: 'without --strict, bad rows are listed and skipped'})
  }
  if (options.strict && bad.length > 0) strictFail()
  const dataLabels = sortedUnique(train.rows.flatMap((r) => r.labels))
  const modelLabels = new Set(parsed.labels)
  const newHead = Boolean(options.newHead) || dataLabels.some((l) => !modelLabels.has(l))
  const labels = newHead ? dataLabels : parsed.labels
  if (labels.length === 0) throw new InvalidInputError(`${trainPath}: no labelled rows to train on`)
  const labelIds = new Map(labels.map((l, i) => [l, i]))
  const decode = {labelIds, pre, keepImages: hyper.augment, stopAtFirstBad: Boolean(options.strict)}
  const examples = await loadExamples(train.rows, decode, bad)
  if (options.strict && bad.length > 0) strictFail()
  const valExamples = validation ? await loadExamples(validation.rows, {...decode, keepImages: false}, bad) : []
  if (options.strict && bad.length > 0) strictFail()
  const N = examples.length
  if (N === 0) throw new InvalidInputError(`${trainPath}: no usable training rows (${bad.length} bad${bad[0] ? `; the first: ${bad[0].source}: ${bad[0].reason}` : ''})`)
  if (hyper.batchSize > N) throw new UsageError(`--batch-size ${hyper.batchSize} is larger than the ${N} usable training images: use a batch of at most ${N}`)
  if (validation && valExamples.length === 0) throw new InvalidInputError(`${validationPath}: no usable validation rows`)

  // steps: a micro-batch per batch (the last one may be short), an optimizer step per `accum` of them
  const microPerEpoch = Math.ceil(N / hyper.batchSize)
  const stepsPerEpoch = Math.ceil(microPerEpoch / hyper.gradientAccumulation)
  const totalSteps = hyper.maxSteps > 0 ? hyper.maxSteps : hyper.epochs * stepsPerEpoch

  // the model: a training state for the batch, the weights, a new head when the labels changed
  const config = {...parsed.config, numLabels: labels.length}
  // The weights' tensor table against config.json before the training state is sized from it: a config claiming a
  // far larger model than model.safetensors holds is a clear error here, not the allocator's (issue 13, finding 5).
  await checkParameters(files.weights, family.tensorTable(parsed.config).filter((t) => !newHead || !t.name.startsWith('classifier.')))
  const kernels = options.kernels ?? (await selectTrainKernels({threads: options.threads, prefer: options.backend}))
  let model: TrainModel
  try {
    model = createTrainModel(config, kernels, hyper.batchSize, serving)
  } catch (error) {
    if (!options.kernels) kernels.dispose()
    // WebAssembly memory is 32-bit: parameters, gradients, both moments and the batch's activations share 4 GiB
    if (error instanceof RangeError && /out of memory/.test(error.message)) {
      throw new UsageError(`the training state of this model (parameters, gradients, AdamW's two moments and the activations of --batch-size ${hyper.batchSize}) does not fit the WebAssembly kernels' 4 GiB of memory: a smaller --batch-size (with --gradient-accumulation for the same effective batch) may fit; --backend ts has no such limit`)
    }
    throw error
  }
  const fingerprint = JSON.stringify({model: files.weights, train: train.path, validation: validation?.path, task, labels, newHead, hyper, N, totalSteps})
  const state: CheckpointState = {fingerprint, stepsDone: 0, steps: [], metrics: [], total: model.layout.total}
  try {
    if (options.resume) {
      await readCheckpoint(checkpointDir, model, state)
    } else {
      await loadTrainParams(model, files.weights, newHead ? new Set(['classifier.weight', 'classifier.bias']) : new Set())
      if (newHead) {
        const std = typeof configJson.initializer_range === 'number' ? configJson.initializer_range : 0.02
        // trunc_normal_(std) as ViT and DINOv2 initialise a Linear (bounds -2, 2 absolute), or normal_(std) as BEiT does
        const bound = model.headInit === 'normal' ? Infinity : 2
        truncatedNormal(model.classifier.weight, std, -bound, bound, seededRandom(mixSeed(hyper.seed, 0x6865)))
        model.classifier.bias.fill(0)
      }
    }
    const resumedAtStep = options.resume ? state.stepsDone : undefined

    const trainHyper: TrainHyper = {
      task,
      optimizer: hyper.optimizer,
      learningRate: hyper.learningRate,
      weightDecay: hyper.weightDecay,
      maxGradNorm: hyper.maxGradNorm,
      labelSmoothing: hyper.labelSmoothing,
      gradientAccumulation: hyper.gradientAccumulation,
      schedule: {name: hyper.scheduler, warmupSteps: hyper.warmupSteps, totalSteps},
    }
    const ranges = decayRanges(model)
    const K = labels.length
    const imageFloats = model.numChannels * model.inputHeight * model.inputWidth
    const pixels = model.kernels.alloc(hyper.batchSize * imageFloats)
    const targets = new Float32Array(hyper.batchSize * K)
    const ids: number[] = []
    let order: number[] = []
    let orderEpoch = -1
    let epochLoss = 0
    let epochSteps = 0

    options.onStart?.(totalSteps)
    progress.start('Fine-tuning', totalSteps, 'steps')
    progress.advance(state.stepsDone)
    let interrupted = false
    for (let s = state.stepsDone; s < totalSteps; s++) {
      const epoch = Math.floor(s / stepsPerEpoch)
      if (epoch !== orderEpoch) {
        order = hyper.shuffle ? shuffledIndices(N, seededRandom(mixSeed(hyper.seed, epoch))) : Array.from({length: N}, (_, i) => i)
        orderEpoch = epoch
        epochLoss = 0
        epochSteps = 0
        // a resumed run re-adds the losses of this epoch's steps already taken
        for (const r of state.steps) if (r.epoch === epoch + 1) {
          epochLoss += r.loss
          epochSteps++
        }
      }
      const j = s % stepsPerEpoch
      let loss = 0
      for (let micro = j * hyper.gradientAccumulation; micro < Math.min((j + 1) * hyper.gradientAccumulation, microPerEpoch); micro++) {
        const first = micro * hyper.batchSize
        const B = Math.min(hyper.batchSize, N - first)
        ids.length = 0
        targets.fill(0)
        for (let b = 0; b < B; b++) {
          const i = order[first + b]
          const ex = examples[i]
          examplePixels(pixels, b * imageFloats, ex, pre, seededRandom(mixSeed(hyper.seed, epoch, i, 1)))
          if (multilabel) for (const t of ex.targets) targets[b * K + t] = 1
          else ids.push(ex.targets[0])
        }
        loss += trainMicroBatch(model, pixels, B, multilabel ? targets : ids, trainHyper)
      }
      if (!Number.isFinite(loss)) {
        throw new InvalidInputError(`the loss is ${loss} at step ${s + 1} (epoch ${epoch + 1}): training diverged; lower --learning-rate (now ${hyper.learningRate}) or keep --max-grad-norm clipping on`)
      }
      const {lr, gradNorm} = optimizerStep(model, trainHyper, ranges, s)
      const record: StepRecord = {step: s + 1, epoch: epoch + 1, lr, loss, grad_norm: gradNorm}
      state.steps.push(record)
      state.stepsDone = s + 1
      epochLoss += loss
      epochSteps++
      progress.advance(1)
      progress.status?.(`loss ${loss.toFixed(4)}`)
      if (j === stepsPerEpoch - 1 || s === totalSteps - 1) {
        const m: EpochMetrics = {epoch: epoch + 1, train_loss: epochLoss / epochSteps}
        if (valExamples.length) Object.assign(m, evaluateValidation(model, valExamples, trainHyper, pixels, imageFloats))
        state.metrics.push(m)
      }
      // let signals in between steps (the loop is otherwise synchronous)
      await new Promise((r) => setImmediate(r))
      if (options.shouldStop?.() && s + 1 < totalSteps) {
        interrupted = true
        break
      }
    }
    progress.stop(interrupted ? `interrupted after step ${state.stepsDone}` : `${totalSteps} steps`)

    const result: FinetuneResult = {
      status: interrupted ? 'interrupted' : 'completed',
      model: files.dir,
      out,
      task,
      backend: kernels.name,
      threads: kernels.threads,
      labels,
      newHead,
      trainData: {path: train.path, rows: N},
      ...(validation ? {validationData: {path: validation.path, rows: valExamples.length}} : {}),
      skipped: bad,
      hyperparameters: hyper,
      stepsPerEpoch,
      totalSteps,
      ...(resumedAtStep === undefined ? {} : {resumedAtStep}),
      steps: state.steps,
      metrics: state.metrics,
      notes,
      seconds: 0,
    }
    if (interrupted) {
      await writeDirAtomic(out, async (tmp) => writeCheckpoint(join(tmp, CHECKPOINT_DIR), model, state))
    } else {
      await writeDirAtomic(out, async (tmp) => {
        await writeOutputs(tmp, model, {configJson, preprocessorFile: files.preprocessor, labels, multilabel, modelName: basename(files.dir)}, progress)
        await writeFile(join(tmp, 'metrics.json'), `${JSON.stringify({task, labels, epochs: state.metrics}, null, 2)}\n`)
        await writeFile(join(tmp, 'steps.jsonl'), state.steps.map((r) => JSON.stringify(r)).join('\n') + '\n')
      })
    }
    result.seconds = (performance.now() - started) / 1000
    return result
  } finally {
    if (!options.kernels) kernels.dispose()
  }
}

/** Mean loss (with the training loss's smoothing, as the Trainer's evaluation computes it) and accuracy. */
function evaluateValidation(model: TrainModel, examples: TrainExample[], h: TrainHyper, pixels: Float32Array, imageFloats: number): {validation_loss: number; validation_accuracy: number} {
  const K = model.numLabels
  const maxB = model.maxBatch
  const scratch = new Float32Array(maxB * K)
  const targets = new Float32Array(maxB * K)
  let lossSum = 0
  let correct = 0
  for (let first = 0; first < examples.length; first += maxB) {
    const B = Math.min(maxB, examples.length - first)
    const ids: number[] = []
    targets.fill(0)
    for (let b = 0; b < B; b++) {
      const ex = examples[first + b]
      pixels.set(ex.pixels as Float32Array, b * imageFloats)
      if (h.task === 'image-classification') ids.push(ex.targets[0])
      else for (const t of ex.targets) targets[b * K + t] = 1
    }
    const logits = model.forward(pixels, B)
    if (h.task === 'image-classification') {
      lossSum += crossEntropyForwardBackward(scratch, logits, ids, h.labelSmoothing, 1, B, K) * B
      for (let b = 0; b < B; b++) {
        let best = 0
        for (let k = 1; k < K; k++) if (logits[b * K + k] > logits[b * K + best]) best = k
        if (best === ids[b]) correct++
      }
    } else {
      lossSum += bceForwardBackward(scratch, logits, targets, 1, B, K) * B
      // subset accuracy: every label's sigmoid on the right side of 0.5
      for (let b = 0; b < B; b++) {
        let all = true
        for (let k = 0; k < K; k++) if (logits[b * K + k] > 0 !== (targets[b * K + k] === 1)) all = false
        if (all) correct++
      }
    }
  }
  return {validation_loss: lossSum / examples.length, validation_accuracy: correct / examples.length}
}

interface OutputInfo {
  configJson: Record<string, unknown>
  preprocessorFile: string
  labels: string[]
  multilabel: boolean
  modelName: string
}

/** pytorch_model_folder/ (Hugging Face) and mlflow_model_folder/ (as `vitrine package` lays it out) under `dir`. */
async function writeOutputs(dir: string, model: TrainModel, info: OutputInfo, progress: Progress): Promise<void> {
  const hf = join(dir, 'pytorch_model_folder')
  await mkdir(hf, {recursive: true})
  const config: Record<string, unknown> = {
    ...info.configJson,
    id2label: Object.fromEntries(info.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(info.labels.map((l, i) => [l, i])),
  }
  delete config.num_labels
  if (info.multilabel) config.problem_type = 'multi_label_classification'
  else if (config.problem_type === 'multi_label_classification') delete config.problem_type
  await writeFile(join(hf, 'config.json'), `${JSON.stringify(config, null, 2)}\n`)
  await writeFile(join(hf, 'preprocessor_config.json'), await readFile(info.preprocessorFile))
  await writeFile(join(hf, 'model.safetensors'), safetensorsOf(model))

  // The MLflow folder exactly as `vitrine package` writes it; the asset and manifest package adds are not outputs here.
  const pkg = join(dir, '.package')
  const name = `${info.modelName.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z]+/, '') || 'model'}-finetuned`
  await packageModel(hf, pkg, {name, version: '1', task: info.multilabel ? 'image-classification-multilabel' : 'image-classification'}, progress)
  await rename(join(pkg, 'mlflow_model_folder'), join(dir, 'mlflow_model_folder'))
  await rm(pkg, {recursive: true, force: true})
}

/** The parameters as model.safetensors: Hugging Face names, F32, sorted by name (as `vitrine convert` writes). */
function safetensorsOf(model: TrainModel): Uint8Array {
  const entries = [...model.layout.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const {head} = serializeSafetensorsHeader(
    entries.map((e) => ({name: e.name, dtype: 'F32', shape: e.shape})),
    {format: 'pt'},
  )
  const body = new Uint8Array(head.length + entries.reduce((a, e) => a + e.size * 4, 0))
  body.set(head, 0)
  let at = head.length
  for (const e of entries) {
    const src = model.params.subarray(e.offset, e.offset + e.size)
    body.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), at)
    at += e.size * 4
  }
  return body
}

async function writeCheckpoint(dir: string, model: TrainModel, state: CheckpointState): Promise<void> {
  await mkdir(dir, {recursive: true})
  const bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
  await writeFile(join(dir, 'params.f32'), bytes(model.params))
  await writeFile(join(dir, 'exp_avg.f32'), bytes(model.m))
  await writeFile(join(dir, 'exp_avg_sq.f32'), bytes(model.v))
  await writeFile(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`)
}

async function readCheckpoint(dir: string, model: TrainModel, state: CheckpointState): Promise<void> {
  const saved = (await readJsonFile(join(dir, 'state.json'))) as CheckpointState
  if (saved.fingerprint !== state.fingerprint || saved.total !== model.layout.total) {
    throw new UsageError(`--resume: ${dir} was written by a run with other model, data or hyperparameters; run with the same flags as the interrupted run (or without --resume and with --force to start over)`)
  }
  for (const [file, into] of [
    ['params.f32', model.params],
    ['exp_avg.f32', model.m],
    ['exp_avg_sq.f32', model.v],
  ] as const) {
    const path = join(dir, file)
    let buf: Buffer
    try {
      buf = await readFile(path)
    } catch (error) {
      throw describeFsError(error, path) ?? error
    }
    if (buf.length !== into.length * 4) throw new InvalidInputError(`${path}: ${buf.length} bytes, expected ${into.length * 4}`, {file: path})
    new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(buf)
  }
  Object.assign(state, {stepsDone: saved.stepsDone, steps: saved.steps, metrics: saved.metrics})
}
