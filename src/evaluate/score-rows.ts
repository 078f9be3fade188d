/**
 * Scores evaluation rows in batches through the runner's Scorer, the way the evaluation job's model_prediction step
 * does: multiclass rows get the softmax of the logits, multilabel rows the sigmoid (Azure's multilabel image models
 * threshold per-label sigmoids). A row whose file is missing or does not decode becomes a BadRow with its line; the
 * rest of its batch still runs.
 */

import {isVitrineError} from '../core/errors.js'
import {sigmoid} from '../engine/kernels/reference.js'
import {readImageFile} from '../image/index.js'
import type {Progress} from '../core/progress.js'
import type {ScoreInput, Scorer} from '../runner/scorer.js'
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


function badRow(row: EvalRow, reason: string): BadRow {
  return {source: row.source, ...(row.line === undefined ? {} : {line: row.line}), image: row.image, reason}
}

/** A row's image bytes, or why the file cannot be read. */
async function bytesOf(row: EvalRow): Promise<Uint8Array | string> {
  try {
    return await readImageFile(row.path)
  } catch (error) {
    if (isVitrineError(error)) return error.message
    throw error
  }
}

export async function scoreRows(scorer: Scorer, rows: readonly EvalRow[], options: ScoreRowsOptions): Promise<{scored: ScoredRow[]; bad: BadRow[]}> {
  const multilabel = options.task === 'image-classification-multilabel'
  const scored: ScoredRow[] = []
  const bad: BadRow[] = []
  options.progress.start('Scoring', rows.length, 'images')
  try {
    for (let start = 0; start < rows.length; start += scorer.maxBatch) {
      const chunk = rows.slice(start, start + scorer.maxBatch)
      const read = await Promise.all(chunk.map((row) => bytesOf(row)))
      const inputs: ScoreInput[] = []
      const readable: EvalRow[] = []
      for (const [i, bytes] of read.entries()) {
        if (typeof bytes === 'string') bad.push(badRow(chunk[i], bytes))
        else {
          inputs.push({id: chunk[i].image, bytes})
          readable.push(chunk[i])
        }
      }
      if (options.stopAtFirstBad && bad.length > 0) return {scored, bad: bad.slice(0, 1)}
      const outcomes = await scorer.score(inputs, {topK: 1, probabilities: !multilabel, logits: multilabel})
      const chunkScored: ScoredRow[] = []
      for (const [i, outcome] of outcomes.entries()) {
        if (!outcome.ok) {
          bad.push(badRow(readable[i], outcome.error))
          continue
        }
        const source = multilabel ? (outcome.logits as Float32Array) : (outcome.probabilities as Float32Array)
        chunkScored.push({row: readable[i], probabilities: Float64Array.from(source, (x) => (multilabel ? sigmoid(x) : x))})
      }
      // --strict: a chunk with a bad image counts none of its rows, as when the check ran before scoring.
      if (options.stopAtFirstBad && bad.length > 0) return {scored, bad: bad.slice(0, 1)}
      scored.push(...chunkScored)
      options.progress.advance(chunk.length)
    }
  } finally {
    options.progress.stop(`${scored.length} scored, ${bad.length} skipped`)
  }
  return {scored, bad}
}
