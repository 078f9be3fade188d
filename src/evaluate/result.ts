/**
 * What `vitrine evaluate` produces: the command's `--json` result (schemas/evaluate-result.schema.json), the rows of
 * predictions.jsonl and metrics.json. Its own module so that the run (./evaluate.ts) and the HTML report
 * (./report.ts) share the shapes without importing each other.
 */
import type {Prediction} from '../engine/classifier.js'
import type {BadRow, DataFormat, EvalTask} from './data.js'
import type {ClassMetrics} from './metrics.js'

export interface PredictionRow {
  image: string
  line?: number
  source: string
  /** The true label (multiclass) or labels (multilabel). */
  label: string | string[]
  prediction: string | string[]
  correct: boolean
  top: Prediction[]
  /** Every label's probability, in class_labels (model class-id) order. */
  probabilities: number[]
}

export interface MetricsFile {
  task: EvalTask
  /** Multilabel: a label is predicted when its probability >= threshold. */
  threshold?: number
  rows_scored: number
  rows_skipped: number
  /** The metrics by Azure's names (scalars, and the confusion_matrix / accuracy_table artifacts). */
  metrics: Record<string, unknown>
  per_class: ClassMetrics[]
  /** Metrics the evaluation config asked for that are not computed here, with why. */
  not_computed: Array<{metric: string; reason: string}>
}

export interface EvaluateResult {
  ok: boolean
  task: EvalTask
  model: {path: string; labels: number; backend: string; threads: number}
  data: {path: string; format: DataFormat; rows: number}
  job?: {file: string; job: string; notes: string[]}
  metrics: MetricsFile
  skipped: BadRow[]
  outputs?: {dir: string; metrics: string; predictions: string; report: string}
  seconds: number
}
