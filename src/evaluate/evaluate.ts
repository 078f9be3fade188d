/**
 * `vitrine evaluate`: the evaluation job's model_prediction + compute_metrics steps, run locally. Reads the test
 * data, scores it on the local engine, computes the metrics the evaluation config asks for and writes
 * metrics.json, predictions.jsonl and report.html.
 */
import {stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {writeFileAtomic} from '../core/atomic.js'
import {checkOutputPath} from '../core/output.js'
import {InvalidInputError, UsageError, previewValue} from '../core/errors.js'
import {type Progress, silentProgress} from '../core/progress.js'
import {topK} from '../engine/classifier.js'
import {type BackendChoice, Scorer} from '../runner/scorer.js'
import {type BadRow, type EvalRow, type EvalTask, readEvalData} from './data.js'
import {type EvaluationJob, readEvaluationJob} from './job.js'
import {
  MULTICLASS_METRIC_NAMES,
  MULTILABEL_METRIC_NAMES,
  argmax,
  multiclassMetrics,
  multilabelMetrics,
} from './metrics.js'
import {renderReport} from './report.js'
import type {EvaluateResult, MetricsFile, PredictionRow} from './result.js'
import {type ScoredRow, scoreRows} from './score-rows.js'

export const DEFAULT_THRESHOLD = 0.5
/** The top labels kept per prediction row and shown under each misclassified thumbnail. */
export const REPORT_TOP_K = 3

export interface EvaluateOptions {
  model?: string
  data?: string
  job?: string
  task?: EvalTask
  inputColumn?: string
  labelColumn?: string
  threshold?: number
  strict?: boolean
  threads?: number
  backend?: BackendChoice
  batchSize?: number
  out?: string
  /** Replace metrics.json, predictions.jsonl and report.html when --out already holds them. */
  force?: boolean
  progress?: Progress
}

interface Resolved {
  model: string
  data: string
  task: EvalTask
  inputColumn?: string
  labelColumn?: string
  metrics?: string[]
  job?: EvaluationJob
}

/** Merges the flags with the job YAML: a flag given wins over the job's value. */
async function resolveInputs(options: EvaluateOptions): Promise<Resolved> {
  const job = options.job === undefined ? undefined : await readEvaluationJob(options.job)
  let model = options.model
  if (model === undefined && job?.model && !job.model.remote) model = job.model.path
  if (model === undefined) {
    const why = job?.model?.remote ? ` (the job's mlflow_model ${job.model.path} is not local)` : ''
    throw new UsageError(`--model is required${why}: a local model folder (Hugging Face, MLflow or vitrine package output)`)
  }
  if (job?.model && options.model !== undefined) job.notes.push(`mlflow_model ${job.model.path}: replaced by --model ${options.model}`)
  else if (job?.model?.remote === false) job.notes.push(`mlflow_model: the local folder ${job.model.path}`)
  let data = options.data
  if (data === undefined && job?.testData) {
    if (job.testData.remote) {
      throw new UsageError(`${job.file}: test_data ${job.testData.path} is not local; pass --data with a local copy (an MLTable folder, a JSONL or a folder per class)`)
    }
    data = job.testData.path
  }
  if (data === undefined) throw new UsageError('--data is required (or --job with a local test_data path)')
  if (job?.testData && options.data !== undefined) job.notes.push(`test_data ${job.testData.path}: replaced by --data ${options.data}`)
  return {
    model,
    data,
    task: options.task ?? job?.task ?? 'image-classification',
    inputColumn: options.inputColumn ?? job?.inputColumn,
    labelColumn: options.labelColumn ?? job?.labelColumn,
    metrics: job?.metrics,
    job,
  }
}

/** Rows whose labels the model does not have become bad rows (Azure would fail the whole job on them). */
function checkLabels(rows: EvalRow[], labelIds: Map<string, number>, bad: BadRow[]): EvalRow[] {
  const known = [...labelIds.keys()]
  const sample = known.slice(0, 5).map((l) => JSON.stringify(l)).join(', ') + (known.length > 5 ? ', ...' : '')
  return rows.filter((row) => {
    const unknown = row.labels.filter((l) => !labelIds.has(l))
    if (unknown.length === 0) return true
    bad.push({
      source: row.source,
      ...(row.line === undefined ? {} : {line: row.line}),
      image: row.image,
      reason: `label ${unknown.map((l) => previewValue(l)).join(', ')} is not one of the model's labels (${sample})`,
    })
    return false
  })
}

function strictError(bad: BadRow[]): InvalidInputError {
  const first = bad[0]
  return new InvalidInputError(`${first.source}: ${first.reason}`, {hint: 'without --strict, bad rows are reported and skipped'})
}

export async function runEvaluate(options: EvaluateOptions): Promise<{result: EvaluateResult; predictions: PredictionRow[]}> {
  const started = performance.now()
  const inputs = await resolveInputs(options)
  const {task} = inputs
  const multilabel = task === 'image-classification-multilabel'
  const threshold = options.threshold ?? DEFAULT_THRESHOLD
  if (!(threshold > 0 && threshold < 1)) throw new UsageError(`--threshold ${threshold}: expected a probability between 0 and 1`)
  if (options.out !== undefined) await checkOutDir(options.out, [inputs.model, inputs.data, ...(inputs.job ? [inputs.job.file] : [])], options.force ?? false)
  const data = await readEvalData(inputs.data, {task, inputColumn: inputs.inputColumn, labelColumn: inputs.labelColumn})
  if (options.strict && data.bad.length > 0) throw strictError(data.bad)

  const scorer = await Scorer.load(inputs.model, {threads: options.threads, backend: options.backend, maxBatch: options.batchSize})
  let scored: ScoredRow[]
  const bad = [...data.bad]
  try {
    const labelIds = new Map(scorer.labels.map((l, i) => [l, i]))
    const rows = checkLabels(data.rows, labelIds, bad)
    if (options.strict && bad.length > 0) throw strictError(bad)
    const out = await scoreRows(scorer, rows, {task, progress: options.progress ?? silentProgress, stopAtFirstBad: options.strict})
    if (options.strict && out.bad.length > 0) throw strictError(out.bad)
    for (const b of out.bad) bad.push(b) // not a spread: one bad row per data row, maybe millions
    scored = out.scored
  } finally {
    scorer.dispose()
  }
  bad.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : (a.line ?? 0) - (b.line ?? 0)))
  if (scored.length === 0) {
    throw new InvalidInputError(`${inputs.data}: no row could be scored (${bad.length} bad row${bad.length === 1 ? '' : 's'}${bad[0] ? `; the first: ${bad[0].source}: ${bad[0].reason}` : ''})`)
  }

  const labels = scorer.labels
  const labelIds = new Map(labels.map((l, i) => [l, i]))
  const probs = scored.map((s) => s.probabilities)
  const computed = multilabel
    ? multilabelMetrics(labels, scored.map((s) => new Set(s.row.labels.map((l) => labelIds.get(l) as number))), probs, threshold)
    : multiclassMetrics(labels, scored.map((s) => labelIds.get(s.row.labels[0]) as number), probs)
  const {per_class: perClass, threshold: _t, ...all} = computed as typeof computed & {threshold?: number}
  const names = multilabel ? MULTILABEL_METRIC_NAMES : MULTICLASS_METRIC_NAMES
  const wanted = inputs.metrics ?? names
  const metrics: Record<string, unknown> = {}
  const notComputed: MetricsFile['not_computed'] = []
  for (const name of wanted) {
    if (name in all) metrics[name] = (all as Record<string, unknown>)[name]
    else notComputed.push({metric: name, reason: notComputedReason(name, task)})
  }
  if (inputs.job) for (const n of notComputed) inputs.job.notes.push(`metric ${n.metric}: not computed (${n.reason})`)
  const metricsFile: MetricsFile = {
    task,
    ...(multilabel ? {threshold} : {}),
    rows_scored: scored.length,
    rows_skipped: bad.length,
    metrics,
    per_class: perClass,
    not_computed: notComputed,
  }

  const predictions = scored.map((s): PredictionRow => {
    const top = topK(Float32Array.from(s.probabilities), REPORT_TOP_K, labels)
    const prediction = multilabel ? labels.filter((_, c) => s.probabilities[c] >= threshold) : labels[argmax(s.probabilities)]
    const label = multilabel ? s.row.labels : s.row.labels[0]
    const correct = multilabel ? sameSet(label as string[], prediction as string[]) : label === prediction
    return {
      image: s.row.image,
      ...(s.row.line === undefined ? {} : {line: s.row.line}),
      source: s.row.source,
      label,
      prediction,
      correct,
      top,
      probabilities: Array.from(s.probabilities, (p) => Math.fround(p)),
    }
  })

  const result: EvaluateResult = {
    ok: true,
    task,
    model: {path: resolve(inputs.model), labels: labels.length, backend: scorer.backendName, threads: scorer.threads},
    data: {path: data.path, format: data.format, rows: data.rows.length + data.bad.length},
    ...(inputs.job ? {job: {file: inputs.job.file, job: inputs.job.jobName, notes: inputs.job.notes}} : {}),
    metrics: metricsFile,
    skipped: bad,
    seconds: 0,
  }
  if (options.out !== undefined) {
    const dir = resolve(options.out)
    const outputs = {dir, metrics: join(dir, 'metrics.json'), predictions: join(dir, 'predictions.jsonl'), report: join(dir, 'report.html')}
    const paths = new Map(scored.map((s) => [s.row.source, s.row.path]))
    const html = await renderReport({result, predictions, labels, imagePath: (p) => paths.get(p.source)})
    await writeFileAtomic(outputs.predictions, predictions.map((p) => JSON.stringify(p)).join('\n') + '\n')
    await writeFileAtomic(outputs.metrics, JSON.stringify(metricsFile, null, 2) + '\n')
    await writeFileAtomic(outputs.report, html)
    result.outputs = outputs
  }
  result.seconds = Math.round(performance.now() - started) / 1000
  return {result, predictions}
}

/**
 * Refuses, before any scoring time is spent, an --out that is a file, that is (or holds) an input, or whose
 * metrics.json / predictions.jsonl / report.html would be replaced without --force.
 */
async function checkOutDir(out: string, inputs: string[], force: boolean): Promise<void> {
  const st = await stat(out).catch(() => undefined)
  if (st && !st.isDirectory()) throw new UsageError(`--out ${out}: is a file, expected a folder (it is created when missing)`, {file: out})
  for (const name of EVALUATE_OUTPUT_FILES) await checkOutputPath(join(out, name), {flag: '--out', kind: 'file', inputs, force})
}

const EVALUATE_OUTPUT_FILES = ['metrics.json', 'predictions.jsonl', 'report.html'] as const

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}

function notComputedReason(name: string, task: EvalTask): string {
  if (/_binary$/.test(name)) return 'binary averages apply to two-class problems only'
  if (/^iou/.test(name) && task === 'image-classification') return 'IoU metrics are for the multilabel task'
  if (name === 'accuracy_table' || name === 'balanced_accuracy' || name === 'matthews_correlation' || name === 'norm_macro_recall' || name === 'weighted_accuracy') {
    return `computed for the multiclass task only`
  }
  return 'not a metric vitrine computes for this task'
}
