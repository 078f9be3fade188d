/**
 * Metrics against values NOT computed by src/evaluate/metrics.ts: scikit-learn's documented examples (the values
 * printed in its docs), PyTorch's metrics in test/fixtures/digits-eval/expected.json, and naive re-implementations
 * written here from the definitions (pairwise AUC, AP from the precision-recall points, MCC as a Pearson
 * correlation of one-hot matrices).
 */
import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {averagePrecision, multiclassMetrics, multilabelMetrics, rocAuc} from '../../src/evaluate/metrics.js'

interface Expected {
  metrics: {accuracy: number; precision_macro: number; recall_macro: number; f1_score_macro: number; confusion_matrix: number[][]; labels: string[]}
  predictions: Array<{image: string; label: string; predicted: string; probs: number[]}>
}
const expected = JSON.parse(readFileSync(new URL('../fixtures/digits-eval/expected.json', import.meta.url), 'utf8')) as Expected

/** AUC as the probability a random positive outscores a random negative (ties half): O(P*N), straight from the definition. */
function pairwiseAuc(scores: number[], positive: boolean[]): number {
  let wins = 0
  let pairs = 0
  scores.forEach((sp, i) => {
    if (!positive[i]) return
    scores.forEach((sn, j) => {
      if (positive[j]) return
      pairs++
      wins += sp > sn ? 1 : sp === sn ? 0.5 : 0
    })
  })
  return wins / pairs
}

/** AP = sum over each distinct threshold t (high to low) of (recall(t) - recall(previous)) * precision(t). */
function naiveAp(scores: number[], positive: boolean[]): number {
  const thresholds = [...new Set(scores)].sort((a, b) => b - a)
  const P = positive.filter(Boolean).length
  let prev = 0
  let ap = 0
  for (const t of thresholds) {
    const sel = scores.map((s) => s >= t)
    const tp = sel.filter((s, i) => s && positive[i]).length
    const r = tp / P
    ap += (r - prev) * (tp / sel.filter(Boolean).length)
    prev = r
  }
  return ap
}

/** Pearson correlation of the flattened one-hot truth and prediction matrices' column-centred forms (Gorodkin R_K). */
function mccOneHot(truth: number[], pred: number[], K: number): number {
  const n = truth.length
  const X = truth.map((t) => Array.from({length: K}, (_, k) => (t === k ? 1 : 0)))
  const Y = pred.map((p) => Array.from({length: K}, (_, k) => (p === k ? 1 : 0)))
  const colMean = (M: number[][], k: number): number => M.reduce((s, r) => s + r[k], 0) / n
  let cxy = 0
  let cxx = 0
  let cyy = 0
  for (let k = 0; k < K; k++) {
    const mx = colMean(X, k)
    const my = colMean(Y, k)
    for (let i = 0; i < n; i++) {
      cxy += (X[i][k] - mx) * (Y[i][k] - my)
      cxx += (X[i][k] - mx) ** 2
      cyy += (Y[i][k] - my) ** 2
    }
  }
  return cxy / Math.sqrt(cxx * cyy)
}

describe('binary building blocks (scikit-learn documentation examples)', () => {
  it('roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBeCloseTo(0.75, 12)
  })
  it('average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.8333', () => {
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBeCloseTo(0.8333333333, 9)
  })
  it('AUC and AP are null when a class has no positives (or AUC no negatives)', () => {
    expect(rocAuc([0.2, 0.3], [false, false])).toBeNull()
    expect(rocAuc([0.2, 0.3], [true, true])).toBeNull()
    expect(averagePrecision([0.2, 0.3], [false, false])).toBeNull()
  })
  it('ties: AUC counts tied pairs half, AP steps once per distinct score', () => {
    const s = [0.5, 0.5, 0.5, 0.9, 0.1, 0.5]
    const y = [true, false, true, true, false, false]
    expect(rocAuc(s, y)).toBeCloseTo(pairwiseAuc(s, y), 12)
    expect(averagePrecision(s, y)).toBeCloseTo(naiveAp(s, y), 12)
  })
})

describe('multiclass metrics', () => {
  it('log_loss: scikit-learn doc example ["spam","ham","ham","spam"] = 0.21616', () => {
    // labels sorted: ham=0, spam=1
    const m = multiclassMetrics(['ham', 'spam'], [1, 0, 0, 1], [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]])
    expect(m.log_loss).toBeCloseTo(0.21616, 5)
  })
  it('balanced_accuracy_score([0,1,0,0,1,0], [0,1,0,0,0,1]) = 0.625', () => {
    const probsFor = (p: number): number[] => (p === 0 ? [0.9, 0.1] : [0.1, 0.9])
    const m = multiclassMetrics(['0', '1'], [0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1].map(probsFor))
    expect(m.balanced_accuracy).toBeCloseTo(0.625, 12)
  })
  it('matthews_corrcoef([+1,+1,+1,-1], [+1,-1,+1,+1]) = -0.333', () => {
    const probsFor = (p: number): number[] => (p === 0 ? [0.9, 0.1] : [0.1, 0.9])
    const m = multiclassMetrics(['-1', '+1'], [1, 1, 1, 0], [1, 0, 1, 1].map(probsFor))
    expect(m.matthews_correlation).toBeCloseTo(-1 / 3, 12)
  })
  it('scikit-learn doc example: precision/recall/f1 of y_true [0,1,2,0,1,2], y_pred [0,2,1,0,0,1]', () => {
    // precision_score macro 0.22.., micro 0.33.., weighted 0.22..; f1 macro 0.26.., weighted 0.26..
    const pred = [0, 2, 1, 0, 0, 1]
    const probs = pred.map((p) => [0, 1, 2].map((k) => (k === p ? 0.8 : 0.1)))
    const m = multiclassMetrics(['a', 'b', 'c'], [0, 1, 2, 0, 1, 2], probs)
    expect(m.precision_score_macro).toBeCloseTo(0.2222222222, 9)
    expect(m.precision_score_micro).toBeCloseTo(0.3333333333, 9)
    expect(m.precision_score_weighted).toBeCloseTo(0.2222222222, 9)
    expect(m.f1_score_macro).toBeCloseTo(0.2666666666, 9)
    expect(m.f1_score_weighted).toBeCloseTo(0.2666666666, 9)
    expect(m.recall_score_macro).toBeCloseTo(0.3333333333, 9)
    expect(m.per_class.map((c) => c.support)).toEqual([2, 2, 2])
  })

  const labels = expected.metrics.labels
  const truth = expected.predictions.map((p) => labels.indexOf(p.label))
  const probs = expected.predictions.map((p) => p.probs)
  const m = multiclassMetrics(labels, truth, probs)

  it("on PyTorch's 300 digit predictions: the accuracy, macro P/R/F1 and confusion matrix of expected.json", () => {
    expect(m.accuracy).toBeCloseTo(expected.metrics.accuracy, 12)
    expect(m.precision_score_macro).toBeCloseTo(expected.metrics.precision_macro, 12)
    expect(m.recall_score_macro).toBeCloseTo(expected.metrics.recall_macro, 12)
    expect(m.f1_score_macro).toBeCloseTo(expected.metrics.f1_score_macro, 12)
    expect(m.confusion_matrix.data.matrix).toEqual(expected.metrics.confusion_matrix)
    expect(m.confusion_matrix.data.class_labels).toEqual(labels)
  })

  it('on the digits: every other metric equals a naive re-implementation from the definitions', () => {
    const n = truth.length
    const K = labels.length
    const pred = expected.predictions.map((p) => labels.indexOf(p.predicted))
    const cm = expected.metrics.confusion_matrix
    const support = cm.map((r) => r.reduce((a, b) => a + b, 0))
    const predicted = labels.map((_, k) => cm.reduce((a, r) => a + r[k], 0))
    const prec = labels.map((_, k) => cm[k][k] / predicted[k])
    const rec = labels.map((_, k) => cm[k][k] / support[k])
    const f1 = prec.map((p, k) => (2 * p * rec[k]) / (p + rec[k]))
    const w = (xs: number[]): number => xs.reduce((a, x, k) => a + x * support[k], 0) / n
    expect(m.precision_score_weighted).toBeCloseTo(w(prec), 12)
    expect(m.recall_score_weighted).toBeCloseTo(w(rec), 12)
    expect(m.f1_score_weighted).toBeCloseTo(w(f1), 12)
    expect(m.precision_score_micro).toBeCloseTo(expected.metrics.accuracy, 12)
    expect(m.balanced_accuracy).toBeCloseTo(expected.metrics.recall_macro, 12)
    expect(m.matthews_correlation).toBeCloseTo(mccOneHot(truth, pred, K), 10)
    const logLoss = -truth.reduce((a, t, i) => a + Math.log(Math.max(1e-15, probs[i][t])), 0) / n
    expect(m.log_loss).toBeCloseTo(logLoss, 10)
    const aucs = labels.map((_, k) => pairwiseAuc(probs.map((p) => p[k]), truth.map((t) => t === k)))
    const aps = labels.map((_, k) => naiveAp(probs.map((p) => p[k]), truth.map((t) => t === k)))
    expect(m.AUC_macro).toBeCloseTo(aucs.reduce((a, b) => a + b) / K, 10)
    expect(m.AUC_weighted).toBeCloseTo(w(aucs), 10)
    expect(m.average_precision_score_macro).toBeCloseTo(aps.reduce((a, b) => a + b) / K, 10)
    expect(m.average_precision_score_weighted).toBeCloseTo(w(aps), 10)
    const flatS = probs.flatMap((p) => p)
    const flatY = truth.flatMap((t) => labels.map((_, k) => t === k))
    expect(m.AUC_micro).toBeCloseTo(pairwiseAuc(flatS, flatY), 10)
    expect(m.average_precision_score_micro).toBeCloseTo(naiveAp(flatS, flatY), 10)
    // azureml-metrics: weighted_accuracy weights each row by its class's share; norm_macro_recall rescales chance to 0.
    const rowW = truth.map((t) => support[t] / n)
    expect(m.weighted_accuracy).toBeCloseTo(rowW.reduce((a, x, i) => a + (pred[i] === truth[i] ? x : 0), 0) / rowW.reduce((a, b) => a + b), 12)
    expect(m.norm_macro_recall).toBeCloseTo((expected.metrics.recall_macro - 1 / K) / (1 - 1 / K), 12)
    // accuracy_table: for every threshold t = i/100 and two classes, [TP, FP, TN, FN] one-vs-rest, counted here
    for (const k of [5, 9]) {
      m.accuracy_table.data.probability_tables[k].forEach((row, i) => {
        const sel = probs.map((p) => p[k] >= i / 100)
        const tp = sel.filter((s, j) => s && truth[j] === k).length
        const fp = sel.filter((s, j) => s && truth[j] !== k).length
        expect(row).toEqual([tp, fp, n - support[k] - fp, support[k] - tp])
      })
    }
  })

  it('averages over the classes that occur, not every label of the model', () => {
    // 5 model labels, only 'a' and 'b' occur: macro recall is the mean of 2 recalls.
    const p = (k: number): number[] => [0, 1, 2, 3, 4].map((c) => (c === k ? 0.6 : 0.1))
    const r = multiclassMetrics(['a', 'b', 'c', 'd', 'e'], [0, 0, 1, 1], [p(0), p(1), p(1), p(1)])
    expect(r.confusion_matrix.data.class_labels).toEqual(['a', 'b'])
    expect(r.recall_score_macro).toBeCloseTo((0.5 + 1) / 2, 12)
    expect(r.per_class.map((c) => c.label)).toEqual(['a', 'b'])
  })
})

describe('multilabel metrics', () => {
  // 4 rows, labels x y z; threshold 0.5
  const labels = ['x', 'y', 'z']
  const truth = [new Set([0, 1]), new Set([1]), new Set([2]), new Set([0, 2])]
  const scores = [
    [0.9, 0.6, 0.2], // {x,y}  exact
    [0.7, 0.8, 0.1], // {x,y}  vs {y}
    [0.1, 0.2, 0.4], // {}     vs {z}
    [0.6, 0.1, 0.9], // {x,z}  exact
  ]
  const m = multilabelMetrics(labels, truth, scores, 0.5)
  it('subset accuracy, sample IoU, hamming loss (hand-counted)', () => {
    expect(m.accuracy).toBeCloseTo(2 / 4, 12)
    // row IoU: 1, 1/2, 0, 1
    expect(m.iou).toBeCloseTo(2.5 / 4, 12)
    // wrong cells: row 2 x, row 3 z => 2 of 12
    expect(m.hamming_loss).toBeCloseTo(2 / 12, 12)
  })
  it('per-label and averaged precision/recall/f1/IoU (hand-counted)', () => {
    // x: tp 2 fp 1 fn 0; y: tp 2 fp 0 fn 0; z: tp 1 fp 0 fn 1
    expect(m.per_class).toEqual([
      {label: 'x', precision: 2 / 3, recall: 1, f1_score: 0.8, support: 2},
      {label: 'y', precision: 1, recall: 1, f1_score: 1, support: 2},
      {label: 'z', precision: 1, recall: 0.5, f1_score: 2 / 3, support: 2},
    ])
    expect(m.precision_score_micro).toBeCloseTo(5 / 6, 12)
    expect(m.recall_score_micro).toBeCloseTo(5 / 6, 12)
    expect(m.f1_score_macro).toBeCloseTo((0.8 + 1 + 2 / 3) / 3, 12)
    expect(m.iou_micro).toBeCloseTo(5 / 7, 12)
    expect(m.iou_macro).toBeCloseTo((2 / 3 + 1 + 1 / 2) / 3, 12)
    expect(m.confusion_matrix.data.matrices[0]).toEqual([[1, 1], [0, 2]])
  })
  it('AUC per label from pairs, log_loss as mean binary cross-entropy', () => {
    const aucs = labels.map((_, k) => pairwiseAuc(scores.map((s) => s[k]), truth.map((t) => t.has(k))))
    expect(m.AUC_macro).toBeCloseTo(aucs.reduce((a, b) => a + b) / 3, 12)
    let bce = 0
    scores.forEach((s, i) => s.forEach((p, k) => (bce -= truth[i].has(k) ? Math.log(p) : Math.log(1 - p))))
    expect(m.log_loss).toBeCloseTo(bce / 12, 12)
  })
})
