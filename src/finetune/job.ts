/**
 * Reads the finetune pipeline job `vitrine generate finetune` writes (Azure's transformers_image_classification_pipeline
 * component, as in the fridgeObjects sample) into what a local run takes: model, data, task, columns and every
 * hyperparameter the component has. What cannot happen here (clusters, DeepSpeed, ORT, several processes, a registry
 * model) is listed in `notes`, one sentence each.
 */
import {resolve} from 'node:path'

import {InvalidInputError, previewValue} from '../core/errors.js'
import {REMOTE_PATH, isDict, readPipelineJob} from '../core/pipeline-job.js'
import {EVAL_TASKS, type EvalTask} from '../evaluate/data.js'

/** Hyperparameters as the component names them, when the job sets them. */
export interface JobHyperparameters {
  number_of_epochs?: number
  max_steps?: number
  training_batch_size?: number
  validation_batch_size?: number
  learning_rate?: number
  learning_rate_scheduler?: string
  warmup_steps?: number
  optimizer?: string
  weight_decay?: number
  gradient_accumulation_step?: number
  label_smoothing_factor?: number
  max_grad_norm?: number
  random_seed?: number
  apply_augmentations?: boolean
}

const NUMERIC: ReadonlyArray<keyof JobHyperparameters> = [
  'number_of_epochs',
  'max_steps',
  'training_batch_size',
  'validation_batch_size',
  'learning_rate',
  'warmup_steps',
  'weight_decay',
  'gradient_accumulation_step',
  'label_smoothing_factor',
  'max_grad_norm',
  'random_seed',
]

export interface FinetuneJob {
  file: string
  jobName: string
  task?: EvalTask
  model?: {path: string; remote: boolean}
  trainingData?: {path: string; remote: boolean}
  validationData?: {path: string; remote: boolean}
  inputColumn?: string
  labelColumn?: string
  hyperparameters: JobHyperparameters
  notes: string[]
}

export async function readFinetuneJob(file: string): Promise<FinetuneJob> {
  const {jobName, input, at, base} = await readPipelineJob(
    file,
    (component) => component.includes('image_classification_pipeline'),
    (inputs) => inputs.training_data !== undefined,
    'finetune job (a component transformers_image_classification_pipeline, or inputs with training_data)',
  )
  const out: FinetuneJob = {file, jobName, hyperparameters: {}, notes: []}

  const task = input('task_name')
  if (task !== undefined) {
    if (!EVAL_TASKS.includes(task as EvalTask)) throw new InvalidInputError(`${at('task_name')}: '${String(task)}' cannot run locally; vitrine finetune runs ${EVAL_TASKS.join(' and ')}`, {file})
    out.task = task as EvalTask
  }
  const located = (name: string): {path: string; remote: boolean} | undefined => {
    const v = input(name)
    const path = typeof v === 'string' ? v : isDict(v) && typeof v.path === 'string' ? v.path : undefined
    if (path === undefined) return undefined
    const remote = REMOTE_PATH.test(path)
    return {path: remote ? path : resolve(base, path.replace(/^file:(\/\/)?/, '')), remote}
  }
  out.model = located('mlflow_model')
  out.trainingData = located('training_data')
  out.validationData = located('validation_data')
  const str = (name: string): string | undefined => {
    const v = input(name)
    return typeof v === 'string' && v !== '' ? v : undefined
  }
  out.inputColumn = str('input_column_names')
  out.labelColumn = str('label_column_name')

  const h = out.hyperparameters
  for (const name of NUMERIC) {
    const v = input(name)
    if (v === undefined) continue
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new InvalidInputError(`${at(name)}: expected a number, got ${previewValue(v)}`, {file})
    ;(h as Record<string, number>)[name] = n
  }
  const scheduler = str('learning_rate_scheduler')
  if (scheduler) h.learning_rate_scheduler = scheduler
  const optimizer = str('optimizer')
  if (optimizer) h.optimizer = optimizer
  const augment = input('apply_augmentations')
  if (augment !== undefined) {
    if (typeof augment !== 'boolean') throw new InvalidInputError(`${at('apply_augmentations')}: expected true or false, got ${previewValue(augment)}`, {file})
    h.apply_augmentations = augment
  }

  const notes = out.notes
  if (input('test_data') !== undefined) notes.push('test_data: the component evaluates the trained model on it in a later step; run `vitrine evaluate` on the output for that')
  for (const name of ['compute_model_import', 'compute_finetune', 'compute_model_evaluation']) {
    const v = str(name)
    if (v) notes.push(`${name} ${v}: not used; training runs here on the CPU (vitrine's engine)`)
  }
  const processes = input('process_count_per_instance')
  if (typeof processes === 'number' && processes > 1) notes.push(`process_count_per_instance ${processes}: one process here (the same optimizer steps as ${processes} GPUs only when the global batch is the same)`)
  for (const name of ['apply_deepspeed', 'apply_ort']) if (input(name) === true) notes.push(`${name}: not used (the local engine runs float32 on the CPU)`)
  const precision = input('precision')
  if (precision !== undefined && Number(precision) !== 32) notes.push(`precision ${String(precision)}: the local run is float32`)
  for (const name of ['image_width', 'image_height']) {
    const v = input(name)
    if (typeof v === 'number' && v > 0) notes.push(`${name} ${v}: the model's own preprocessor size is used`)
  }
  if (input('early_stopping') === true) notes.push('early_stopping: not implemented locally; every epoch runs')
  return out
}
