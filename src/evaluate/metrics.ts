/**
 * Classification metrics under the names Azure's evaluation config uses (azureml-metrics, which wraps
 * scikit-learn). Definitions follow scikit-learn; where Azure adds its own (norm_macro_recall, weighted_accuracy)
 * the azureml-metrics formula is used. A metric that is undefined on the data (AUC of a class with no negatives,
 * MCC of a constant prediction) is null, never NaN, so metrics.json stays valid JSON.
 *
 * Which classes count: the classes that occur in the labels or the predictions (scikit-learn's default when
 * `labels` is not given). A model with 1000 labels evaluated on 10 of them is averaged over those 10, not over
 * 990 classes with no support.
 */

/** Probabilities are clipped to [EPS, 1-EPS] before the log, as scikit-learn's log_loss did (eps=1e-15). */
const LOG_LOSS_EPS = 1e-15

export interface ClassMetrics {
  label: string
  precision: number
  recall: number
  f1_score: number
  /** Rows whose true label is this class. */
  support: number
}

/** Azure's confusion_matrix artifact: rows are true classes, columns predicted, in class_labels order. */
export interface ConfusionMatrix {
  schema_type: 'confusion_matrix'
  data: {class_labels: string[]; matrix: number[][]}
}

/** Azure's multilabel confusion artifact: one 2x2 [[TN, FP], [FN, TP]] per label (scikit-learn's layout). */
export interface MultilabelConfusion {
  schema_type: 'multilabel_confusion_matrix'
  data: {class_labels: string[]; matrices: Array<[[number, number], [number, number]]>}
}

/** Azure's accuracy_table artifact, probability thresholds only: per class and threshold [TP, FP, TN, FN]. */
export interface AccuracyTable {
  schema_type: 'accuracy_table'
  data: {class_labels: string[]; probability_thresholds: number[]; probability_tables: number[][][]}
}

export type MetricValue = number | null

/** Precision, recall and F1 under the three averages. */
export interface AveragedScores {
  precision_score_micro: number
  precision_score_macro: number
  precision_score_weighted: number
  recall_score_micro: number
  recall_score_macro: number
  recall_score_weighted: number
  f1_score_micro: number
  f1_score_macro: number
  f1_score_weighted: number
}

/** Ranking metrics from the probabilities (one-vs-rest per class, then averaged). */
export interface RankingScores {
  AUC_macro: MetricValue
  AUC_micro: MetricValue
  AUC_weighted: MetricValue
  average_precision_score_macro: MetricValue
  average_precision_score_micro: MetricValue
  average_precision_score_weighted: MetricValue
}

export interface MulticlassMetrics extends AveragedScores, RankingScores {
  accuracy: number
  log_loss: number
  balanced_accuracy: number
  matthews_correlation: MetricValue
  norm_macro_recall: number
  weighted_accuracy: number
  confusion_matrix: ConfusionMatrix
  accuracy_table: AccuracyTable
  per_class: ClassMetrics[]
}

export interface MultilabelMetrics extends AveragedScores, RankingScores {
  /** Exact-match ratio: every label of the row right (scikit-learn accuracy_score on indicator rows). */
  accuracy: number
  /** Jaccard index averaged over rows; iou_* average it over labels. */
  iou: number
  iou_micro: number
  iou_macro: number
  iou_weighted: number
  /** Mean binary cross-entropy over (row, label). */
  log_loss: number
  hamming_loss: number
  threshold: number
  confusion_matrix: MultilabelConfusion
  per_class: ClassMetrics[]
}

const div = (a: number, b: number): number => (b === 0 ? 0 : a / b)
const f1 = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r))
const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length)

/** Index of the largest value; ties go to the lower index (as argmax / the top-1 of topK). */
export function argmax(xs: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i
  return best
}

/**
 * Area under the ROC curve of one binary problem, as the Mann-Whitney statistic with tied scores counted half
 * (equal to scikit-learn's trapezoidal roc_auc_score). Null when there are no positives or no negatives.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): MetricValue {
  const n = scores.length
  const order = Array.from({length: n}, (_, i) => i).sort((a, b) => scores[a] - scores[b])
  let pos = 0
  let rankSumPos = 0
  for (let i = 0; i < n; ) {
    let j = i
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++
    const avgRank = (i + j) / 2 + 1
    for (let t = i; t <= j; t++) {
      if (positive[order[t]]) {
        pos++
        rankSumPos += avgRank
      }
    }
    i = j + 1
  }
  const neg = n - pos
  if (pos === 0 || neg === 0) return null
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg)
}

/**
 * Average precision of one binary problem, scikit-learn's step form: sum over distinct score thresholds (high to
 * low) of (R_k - R_{k-1}) * P_k. Null when there are no positives.
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean>): MetricValue {
  const n = scores.length
  const order = Array.from({length: n}, (_, i) => i).sort((a, b) => scores[b] - scores[a])
  let totalPos = 0
  for (let i = 0; i < n; i++) if (positive[i]) totalPos++
  if (totalPos === 0) return null
  let tp = 0
  let seen = 0
  let prevRecall = 0
  let ap = 0
  for (let i = 0; i < n; ) {
    let j = i
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++
    for (let t = i; t <= j; t++) if (positive[order[t]]) tp++
    seen += j - i + 1
    const recall = tp / totalPos
    ap += (recall - prevRecall) * (tp / seen)
    prevRecall = recall
    i = j + 1
  }
  return ap
}

/** Mean of the non-null values, optionally weighted; null when none is defined. */
function averageDefined(values: MetricValue[], weights?: number[]): MetricValue {
  let sum = 0
  let wsum = 0
  values.forEach((v, i) => {
    if (v === null) return
    const w = weights ? weights[i] : 1
    sum += v * w
    wsum += w
  })
  return wsum === 0 ? null : sum / wsum
}

const PROBABILITY_THRESHOLDS = Array.from({length: 101}, (_, i) => i / 100)

/**
 * One-vs-rest counts [TP, FP, TN, FN] per class at each probability threshold (score >= threshold is positive).
 * Each class's scores are sorted once and the thresholds walked upwards, so 1000 classes stay O(K n log n).
 */
function accuracyTable(labels: string[], columns: number[][], positives: boolean[][]): AccuracyTable {
  const tables = columns.map((scores, c) => {
    const order = Array.from({length: scores.length}, (_, i) => i).sort((a, b) => scores[a] - scores[b])
    const totalPos = positives[c].filter(Boolean).length
    const totalNeg = scores.length - totalPos
    let below = 0
    let posBelow = 0
    return PROBABILITY_THRESHOLDS.map((t) => {
      while (below < order.length && scores[order[below]] < t) {
        if (positives[c][order[below]]) posBelow++
        below++
      }
      const tp = totalPos - posBelow
      const fn = posBelow
      const tn = below - posBelow
      return [tp, totalNeg - tn, tn, fn]
    })
  })
  return {schema_type: 'accuracy_table', data: {class_labels: labels, probability_thresholds: PROBABILITY_THRESHOLDS, probability_tables: tables}}
}

/**
 * Multiclass metrics. `truth[i]` is row i's class id (an index into `labels`), `probs[i]` its probabilities over
 * every label (class-id order). The prediction is the argmax.
 */
export function multiclassMetrics(labels: string[], truth: number[], probs: ArrayLike<number>[]): MulticlassMetrics {
  const n = truth.length
  if (n === 0) throw new RangeError('multiclassMetrics: no rows')
  if (probs.length !== n) throw new RangeError(`multiclassMetrics: ${probs.length} probability rows for ${n} labels`)
  const pred = probs.map((p) => argmax(p))
  const used = [...new Set([...truth, ...pred])].sort((a, b) => a - b)
  const pos = new Map(used.map((c, i) => [c, i]))
  const K = used.length
  const matrix = Array.from({length: K}, () => Array.from({length: K}, () => 0))
  for (let i = 0; i < n; i++) matrix[pos.get(truth[i]) as number][pos.get(pred[i]) as number]++

  const tp = used.map((_, k) => matrix[k][k])
  const support = matrix.map((row) => row.reduce((s, x) => s + x, 0))
  const predicted = used.map((_, k) => matrix.reduce((s, row) => s + row[k], 0))
  const precision = tp.map((t, k) => div(t, predicted[k]))
  const recall = tp.map((t, k) => div(t, support[k]))
  const f1s = precision.map((p, k) => f1(p, recall[k]))
  const weighted = (xs: number[]): number => div(xs.reduce((s, x, k) => s + x * support[k], 0), n)
  const correct = tp.reduce((s, x) => s + x, 0)
  const accuracy = correct / n

  // Columns of the used classes: one-vs-rest scores and truths.
  const columns = used.map((c) => probs.map((p) => p[c]))
  const positives = used.map((c) => truth.map((t) => t === c))
  const aucs = columns.map((col, k) => rocAuc(col, positives[k]))
  const aps = columns.map((col, k) => averagePrecision(col, positives[k]))

  let logLoss = 0
  for (let i = 0; i < n; i++) logLoss -= Math.log(Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, probs[i][truth[i]])))

  // balanced_accuracy: mean recall over the classes that occur in the labels (scikit-learn).
  const presentRecalls = recall.filter((_, k) => support[k] > 0)
  const balanced = mean(presentRecalls)
  const recallMacro = mean(recall)
  // norm_macro_recall (azureml-metrics): macro recall rescaled so chance (1/K) is 0 and perfect is 1, floored at 0.
  const chance = 1 / Math.max(K, 2)
  const normMacroRecall = Math.max(0, (recallMacro - chance) / (1 - chance))
  // weighted_accuracy (azureml-metrics): each row weighted by its class's share of the rows.
  const sq = support.reduce((s, x) => s + x * x, 0)
  const weightedAccuracy = div(tp.reduce((s, t, k) => s + t * support[k], 0), sq)

  // Multiclass Matthews correlation (Gorodkin's R_K), as scikit-learn.
  const cov = correct * n - predicted.reduce((s, p, k) => s + p * support[k], 0)
  const varPred = n * n - predicted.reduce((s, p) => s + p * p, 0)
  const varTrue = n * n - sq
  const mcc = varPred === 0 || varTrue === 0 ? null : cov / Math.sqrt(varPred * varTrue)

  const flatScores = columns.flat()
  const flatPositive = positives.flat()
  const usedLabels = used.map((c) => labels[c])
  return {
    accuracy,
    precision_score_micro: accuracy,
    precision_score_macro: mean(precision),
    precision_score_weighted: weighted(precision),
    recall_score_micro: accuracy,
    recall_score_macro: recallMacro,
    recall_score_weighted: weighted(recall),
    f1_score_micro: accuracy,
    f1_score_macro: mean(f1s),
    f1_score_weighted: weighted(f1s),
    log_loss: logLoss / n,
    AUC_macro: averageDefined(aucs),
    AUC_micro: rocAuc(flatScores, flatPositive),
    AUC_weighted: averageDefined(aucs, support),
    average_precision_score_macro: averageDefined(aps),
    average_precision_score_micro: averagePrecision(flatScores, flatPositive),
    average_precision_score_weighted: averageDefined(aps, support),
    balanced_accuracy: balanced,
    matthews_correlation: mcc,
    norm_macro_recall: normMacroRecall,
    weighted_accuracy: weightedAccuracy,
    confusion_matrix: {schema_type: 'confusion_matrix', data: {class_labels: usedLabels, matrix}},
    accuracy_table: accuracyTable(usedLabels, columns, positives),
    per_class: usedLabels.map((label, k) => ({label, precision: precision[k], recall: recall[k], f1_score: f1s[k], support: support[k]})),
  }
}

/**
 * Multilabel metrics. `truth[i]` is row i's set of class ids, `scores[i]` its per-label probabilities (sigmoid of
 * the logits); a label is predicted when its score >= threshold.
 */
export function multilabelMetrics(labels: string[], truth: Array<ReadonlySet<number>>, scores: ArrayLike<number>[], threshold: number): MultilabelMetrics {
  const n = truth.length
  if (n === 0) throw new RangeError('multilabelMetrics: no rows')
  if (scores.length !== n) throw new RangeError(`multilabelMetrics: ${scores.length} score rows for ${n} label sets`)
  const pred = scores.map((s) => {
    const set = new Set<number>()
    for (let c = 0; c < s.length; c++) if (s[c] >= threshold) set.add(c)
    return set
  })
  const usedSet = new Set<number>()
  for (let i = 0; i < n; i++) for (const c of [...truth[i], ...pred[i]]) usedSet.add(c)
  const used = [...usedSet].sort((a, b) => a - b)

  const tp = used.map(() => 0)
  const fp = used.map(() => 0)
  const fn = used.map(() => 0)
  used.forEach((c, k) => {
    for (let i = 0; i < n; i++) {
      const t = truth[i].has(c)
      const p = pred[i].has(c)
      if (t && p) tp[k]++
      else if (p) fp[k]++
      else if (t) fn[k]++
    }
  })
  const support = used.map((_, k) => tp[k] + fn[k])
  const totalSupport = support.reduce((s, x) => s + x, 0)
  const precision = used.map((_, k) => div(tp[k], tp[k] + fp[k]))
  const recall = used.map((_, k) => div(tp[k], support[k]))
  const f1s = precision.map((p, k) => f1(p, recall[k]))
  const jaccard = used.map((_, k) => div(tp[k], tp[k] + fp[k] + fn[k]))
  const weighted = (xs: number[]): number => div(xs.reduce((s, x, k) => s + x * support[k], 0), totalSupport)
  const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0)
  const microP = div(sum(tp), sum(tp) + sum(fp))
  const microR = div(sum(tp), sum(tp) + sum(fn))

  let exact = 0
  let rowIou = 0
  let wrongCells = 0
  let bce = 0
  for (let i = 0; i < n; i++) {
    let inter = 0
    let union = 0
    for (const c of used) {
      const t = truth[i].has(c)
      const p = pred[i].has(c)
      if (t && p) inter++
      if (t || p) union++
      if (t !== p) wrongCells++
      const s = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, scores[i][c]))
      bce -= t ? Math.log(s) : Math.log(1 - s)
    }
    if (inter === union) exact++
    // A row with no true and no predicted label is a perfect match (scikit-learn's zero_division=1 for jaccard samples).
    rowIou += union === 0 ? 1 : inter / union
  }
  const cells = n * Math.max(used.length, 1)

  const columns = used.map((c) => scores.map((s) => s[c]))
  const positives = used.map((c) => truth.map((t) => t.has(c)))
  const aucs = columns.map((col, k) => rocAuc(col, positives[k]))
  const aps = columns.map((col, k) => averagePrecision(col, positives[k]))
  const usedLabels = used.map((c) => labels[c])
  return {
    accuracy: exact / n,
    iou: rowIou / n,
    iou_micro: div(sum(tp), sum(tp) + sum(fp) + sum(fn)),
    iou_macro: mean(jaccard),
    iou_weighted: weighted(jaccard),
    precision_score_micro: microP,
    precision_score_macro: mean(precision),
    precision_score_weighted: weighted(precision),
    recall_score_micro: microR,
    recall_score_macro: mean(recall),
    recall_score_weighted: weighted(recall),
    f1_score_micro: f1(microP, microR),
    f1_score_macro: mean(f1s),
    f1_score_weighted: weighted(f1s),
    log_loss: bce / cells,
    hamming_loss: wrongCells / cells,
    AUC_macro: averageDefined(aucs),
    AUC_micro: rocAuc(columns.flat(), positives.flat()),
    AUC_weighted: averageDefined(aucs, support),
    average_precision_score_macro: averageDefined(aps),
    average_precision_score_micro: averagePrecision(columns.flat(), positives.flat()),
    average_precision_score_weighted: averageDefined(aps, support),
    threshold,
    confusion_matrix: {
      schema_type: 'multilabel_confusion_matrix',
      data: {
        class_labels: usedLabels,
        matrices: used.map((_, k) => [
          [n - tp[k] - fp[k] - fn[k], fp[k]],
          [fn[k], tp[k]],
        ]),
      },
    },
    per_class: usedLabels.map((label, k) => ({label, precision: precision[k], recall: recall[k], f1_score: f1s[k], support: support[k]})),
  }
}

/** The metric names each task computes (what an evaluation config may ask for). */
export const MULTICLASS_METRIC_NAMES: readonly string[] = [
  'accuracy', 'precision_score_micro', 'precision_score_macro', 'precision_score_weighted', 'recall_score_micro',
  'recall_score_macro', 'recall_score_weighted', 'f1_score_micro', 'f1_score_macro', 'f1_score_weighted', 'log_loss',
  'AUC_macro', 'AUC_micro', 'AUC_weighted', 'average_precision_score_macro', 'average_precision_score_micro',
  'average_precision_score_weighted', 'balanced_accuracy', 'matthews_correlation', 'norm_macro_recall',
  'weighted_accuracy', 'confusion_matrix', 'accuracy_table',
]

export const MULTILABEL_METRIC_NAMES: readonly string[] = [
  'accuracy', 'iou', 'iou_micro', 'iou_macro', 'iou_weighted', 'precision_score_micro', 'precision_score_macro',
  'precision_score_weighted', 'recall_score_micro', 'recall_score_macro', 'recall_score_weighted', 'f1_score_micro',
  'f1_score_macro', 'f1_score_weighted', 'log_loss', 'hamming_loss', 'AUC_macro', 'AUC_micro', 'AUC_weighted',
  'average_precision_score_macro', 'average_precision_score_micro', 'average_precision_score_weighted', 'confusion_matrix',
]
