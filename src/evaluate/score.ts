/**
 * Scores evaluation rows in batches, the way the evaluation job's model_prediction step does: multiclass rows get
 * the softmax of the logits, multilabel rows the sigmoid (Azure's multilabel image models threshold per-label
 * sigmoids). A row whose file is missing or does not decode becomes a BadRow with its line; the rest of its batch
 * still runs.
 *
 * The model is loaded through the runner's Scorer (backend, threads, batch size, disposal). Scoring calls
 * `classify` on `scorer.model` itself because Scorer.score returns softmax probabilities only, and the multilabel
 * task needs the logits; when Scorer can return logits this loop can become `scorer.score`.
 */
import {readFile} from 'node:fs/promises'

import {describeFsError, isVitrineError} from '../core/errors.js'
import type {Progress} from '../core/progress.js'
import {classify} from '../engine/model.js'
import {preprocessImage} from '../image/index.js'
import type {Scorer} from '../runner/scorer.js'
import type {BadRow, EvalRow, EvalTask} from './data.js'

export interface ScoredRow {
  row: EvalRow
  /** Per-label probability in class-id order (softmax, or sigmoid for multilabel). */
  probabilities: Float64Array
}

export interface ScoreRowsOptions {
  task: EvalTask
  progress: Progress
  /** Stop at the first bad row (--strict): it is returned as the only bad row and nothing more is scored. */
  stopAtFirstBad?: boolean
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}

function badRow(row: EvalRow, reason: string): BadRow {
  return {source: row.source, ...(row.line === undefined ? {} : {line: row.line}), image: row.image, reason}
}

/** Reads and preprocesses one row's image: its pixel values, or why it cannot be used. */
async function pixelsOf(scorer: Scorer, row: EvalRow): Promise<Float32Array | string> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(row.path)
  } catch (error) {
    const e = describeFsError(error, row.path)
    if (!e) throw error
    return e.message
  }
  try {
    return await preprocessImage(bytes, scorer.model.preprocessor, row.image)
  } catch (error) {
    if (!isVitrineError(error)) throw error
    return error.message
  }
}

export async function scoreRows(scorer: Scorer, rows: readonly EvalRow[], options: ScoreRowsOptions): Promise<{scored: ScoredRow[]; bad: BadRow[]}> {
  const {numChannels, imageHeight, imageWidth, numLabels} = scorer.model.config
  const size = numChannels * imageHeight * imageWidth
  const batch = new Float32Array(scorer.maxBatch * size)
  const scored: ScoredRow[] = []
  const bad: BadRow[] = []
  options.progress.start('Scoring', rows.length, 'images')
  try {
    for (let start = 0; start < rows.length; start += scorer.maxBatch) {
      const chunk = rows.slice(start, start + scorer.maxBatch)
      const pixels = await Promise.all(chunk.map((row) => pixelsOf(scorer, row)))
      const good: EvalRow[] = []
      for (const [i, p] of pixels.entries()) {
        if (typeof p === 'string') bad.push(badRow(chunk[i], p))
        else if (p.length !== size) bad.push(badRow(chunk[i], `the image is not ${imageWidth}x${imageHeight}, and the processor does not resize (do_resize is false)`))
        else {
          batch.set(p, good.length * size)
          good.push(chunk[i])
        }
      }
      if (options.stopAtFirstBad && bad.length > 0) return {scored, bad: bad.slice(0, 1)}
      if (good.length > 0) {
        const results = classify(scorer.model, batch.subarray(0, good.length * size), good.length, 1)
        for (const [b, r] of results.entries()) {
          const probabilities = new Float64Array(numLabels)
          for (let c = 0; c < numLabels; c++) probabilities[c] = options.task === 'image-classification-multilabel' ? sigmoid(r.logits[c]) : r.probs[c]
          scored.push({row: good[b], probabilities})
        }
      }
      options.progress.advance(chunk.length)
    }
  } finally {
    options.progress.stop(`${scored.length} scored, ${bad.length} skipped`)
  }
  return {scored, bad}
}
