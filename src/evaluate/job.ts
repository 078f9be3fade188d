/**
 * Reads an evaluation pipeline job YAML (as `vitrine generate evaluation` writes it, or Azure's CLI sample) into
 * what a local run needs: task, test data, columns, the metrics of the evaluation config. Everything the job asks
 * for that cannot happen here (the compute, the GPU, a registry model, datastore data) is listed in `notes`, so the
 * user sees exactly what the dry run does not cover.
 */
import {resolve} from 'node:path'


import {InvalidInputError, describeFsError} from '../core/errors.js'
import {REMOTE_PATH, isDict, readPipelineJob} from '../core/pipeline-job.js'
import {MAX_JSON_FILE_BYTES, readUserTextFile} from '../core/user-file.js'
import {EVAL_TASKS, type EvalTask} from './data.js'

export interface EvaluationJob {
  file: string
  /** The job's name under `jobs:`. */
  jobName: string
  task?: EvalTask
  /** test_data resolved against the YAML's folder when local; `remote` names a datastore/URL path. */
  testData?: {path: string; type: string; remote: boolean}
  inputColumn?: string
  labelColumn?: string
  /** The evaluation config's metrics (evaluation_config_params, or a local evaluation_config file). */
  metrics?: string[]
  /** The mlflow_model input: a local folder, or remote (a registry/workspace model). */
  model?: {path: string; remote: boolean}
  /** What the local run does differently from the job, one sentence each. */
  notes: string[]
}

export async function readEvaluationJob(file: string): Promise<EvaluationJob> {
  const {doc, jobName, input, at, base} = await readPipelineJob(
    file,
    (component) => component.includes('model_evaluation'),
    (inputs) => inputs.task !== undefined,
    'model evaluation job (a component model_evaluation_pipeline, or inputs with a task)',
  )
  const out: EvaluationJob = {file, jobName, notes: []}

  const task = input('task')
  if (task !== undefined) {
    if (!EVAL_TASKS.includes(task as EvalTask)) {
      throw new InvalidInputError(`${at('task')}: '${String(task)}' cannot run locally; vitrine evaluate runs ${EVAL_TASKS.join(' and ')}`, {file})
    }
    out.task = task as EvalTask
  }

  const pathOf = (v: unknown): {path: string; type: string} | undefined => {
    if (typeof v === 'string') return {path: v, type: 'uri_folder'}
    if (isDict(v) && typeof v.path === 'string') return {path: v.path, type: typeof v.type === 'string' ? v.type : 'uri_folder'}
    return undefined
  }
  const data = pathOf(input('test_data'))
  if (data) {
    const remote = REMOTE_PATH.test(data.path)
    out.testData = {path: remote ? data.path : resolve(base, data.path.replace(/^file:(\/\/)?/, '')), type: data.type, remote}
    if (!remote) {
      out.notes.push(`test_data ${data.path} (${data.type}): read from this machine; on Azure a local path is uploaded as it is, so the images its rows name must be uploaded too (or be azureml:// paths)`)
    }
  }
  const model = pathOf(input('mlflow_model'))
  if (model) {
    const remote = REMOTE_PATH.test(model.path)
    out.model = {path: remote ? model.path : resolve(base, model.path.replace(/^file:(\/\/)?/, '')), remote}
  }
  const str = (name: string): string | undefined => {
    const v = input(name)
    return typeof v === 'string' && v !== '' ? v : undefined
  }
  out.inputColumn = str('input_column_names')
  out.labelColumn = str('label_column_name')
  if (out.inputColumn?.includes(',')) throw new InvalidInputError(`${at('input_column_names')}: an image model takes one input column, got '${out.inputColumn}'`, {file})

  out.metrics = await metricsOf(input('evaluation_config_params'), input('evaluation_config'), at, base, out.notes)

  const compute = str('compute_name') ?? (typeof doc.compute === 'string' ? doc.compute : undefined)
  if (compute) out.notes.push(`compute ${compute}: not used; the model runs here on the CPU (vitrine's engine, not the job's PyTorch container)`)
  const instance = str('instance_type')
  if (instance) out.notes.push(`instance_type ${instance}: not used`)
  const device = str('device')
  if (device && device !== 'cpu') out.notes.push(`device ${device}: the local run is CPU only`)
  if (input('batch_size') !== undefined) out.notes.push('batch_size: the local engine batches on its own (--batch-size)')
  if (input('openai_config_params') !== undefined) out.notes.push('openai_config_params: not used by image tasks')
  out.notes.push('outputs.evaluation_result: written to --out (metrics.json, predictions.jsonl, report.html) instead of a job output')
  return out
}

async function metricsOf(params: unknown, configInput: unknown, at: (name: string) => string, base: string, notes: string[]): Promise<string[] | undefined> {
  const fromConfig = (value: unknown, where: string): string[] => {
    if (!isDict(value) || !Array.isArray(value.metrics) || !value.metrics.every((m) => typeof m === 'string')) {
      throw new InvalidInputError(`${where}: expected {"metrics": ["accuracy", ...]}`)
    }
    return value.metrics as string[]
  }
  if (params !== undefined) {
    let value = params
    if (typeof params === 'string') {
      try {
        value = JSON.parse(params)
      } catch (error) {
        throw new InvalidInputError(`${at('evaluation_config_params')}: not valid JSON: ${(error as Error).message}`)
      }
    }
    return fromConfig(value, at('evaluation_config_params'))
  }
  const path = isDict(configInput) ? configInput.path : configInput
  if (typeof path !== 'string') return undefined
  if (REMOTE_PATH.test(path)) {
    notes.push(`evaluation_config ${path}: not a local file; every metric is computed`)
    return undefined
  }
  const abs = resolve(base, path)
  let text: string
  try {
    text = await readUserTextFile(abs, {maxBytes: MAX_JSON_FILE_BYTES})
  } catch (error) {
    throw describeFsError(error, abs) ?? error
  }
  try {
    return fromConfig(JSON.parse(text), abs)
  } catch (error) {
    if (error instanceof InvalidInputError) throw error
    throw new InvalidInputError(`${abs}: not valid JSON: ${(error as Error).message}`, {file: abs})
  }
}
