/**
 * `vitrine batch`: scores a folder of images, a CSV with an `image` column of base64 strings (the batch endpoint
 * sample's format) or JSONL ({"image": "<base64>", "id"?: ...} a line), writing one row per input: its id and top-k
 * labels and scores, or the error for that item.
 *
 * Durability: rows go to OUT.partial, appended and fsync'd one mini-batch at a time, so a killed run loses at most
 * the mini-batch in flight; when every input has its row the file is renamed to OUT, so OUT only ever appears
 * complete. `resume` reads OUT.partial (or a finished OUT), drops a torn last row (a CSV scan: a quoted field may hold line breaks), and skips the ids already there.
 */
import {mkdir, open, rename, stat, truncate} from 'node:fs/promises'
import {dirname, extname, relative, sep} from 'node:path'

import {InvalidInputError, UsageError, isVitrineError, previewValue} from '../core/errors.js'
import {checkOutputPath} from '../core/output.js'
import {redactSecrets} from '../core/redact.js'
import {MAX_LIST_FILE_BYTES, readUserTextFile} from '../core/user-file.js'
import {readImageFile} from '../image/index.js'
import {statOrUsage} from '../core/fs.js'
import type {Progress} from '../core/progress.js'
import {completeRecordsLength, csvRow, parseCsv} from './csv.js'
import {listImageFolder} from './inputs.js'
import {decodeBase64} from './request.js'
import {DEFAULT_TOP_K, type Prediction, type ScoreInput, type ScoreOutcome, Scorer, type ScorerOptions} from './scorer.js'

export type BatchInputFormat = 'folder' | 'csv' | 'jsonl'
export type BatchOutputFormat = 'csv' | 'jsonl'

export interface BatchOptions extends ScorerOptions {
  model: string
  input: string
  out: string
  topK?: number
  /** Images per mini-batch (scored together, then appended and flushed). Default 16. */
  batchSize?: number
  resume?: boolean
  /** Replace an existing non-empty --out (without --resume). */
  force?: boolean
  /** Stop at the first bad item (after recording it). */
  failFast?: boolean
}

export interface BatchResult {
  input: string
  inputFormat: BatchInputFormat
  out: string
  outputFormat: BatchOutputFormat
  /** Inputs in the source. */
  total: number
  /** Rows written by this run. */
  scored: number
  /** Of those, rows that record an error. */
  failed: number
  /** Inputs skipped because a previous run already wrote their row (--resume). */
  skipped: number
  /** The whole run, model load included. */
  seconds: number
  /** Images scored per second of scoring (model load excluded). */
  imagesPerSecond: number
  backend: string
  threads: number
  /** The first item errors (at most 10), for the summary. */
  errors: Array<{id: string; error: string}>
}

/** One input item: its id, and how to get its bytes (read lazily, a mini-batch at a time). */
interface BatchItem {
  id: string
  load(): Promise<Uint8Array | string>
}

export const DEFAULT_BATCH_SIZE = 16

export function outputFormatOf(out: string): BatchOutputFormat {
  const ext = extname(out).toLowerCase()
  if (ext === '.csv') return 'csv'
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl'
  throw new UsageError(`${out}: the output format comes from the extension: .csv or .jsonl`, {file: out})
}

/** Lists the items of a folder, CSV or JSONL input (ids checked unique, nothing decoded yet). */
export async function readBatchInput(input: string): Promise<{format: BatchInputFormat; items: BatchItem[]}> {
  const st = await statOrUsage(input)
  if (st.isDirectory()) {
    const files = await listImageFolder(input)
    if (files.length === 0) throw new UsageError(`${input}: no image files in this folder`, {file: input})
    return {
      format: 'folder',
      items: files.map((file) => ({
        id: relative(input, file).split(sep).join('/'),
        load: async () => {
          try {
            return await readImageFile(file)
          } catch (error) {
            if (isVitrineError(error)) return error.message
            throw error
          }
        },
      })),
    }
  }
  const ext = extname(input).toLowerCase()
  const text = await readUserTextFile(input, {maxBytes: MAX_LIST_FILE_BYTES})
  let items: BatchItem[]
  let format: BatchInputFormat
  if (ext === '.csv') {
    format = 'csv'
    items = csvItems(text, input)
  } else if (ext === '.jsonl' || ext === '.ndjson') {
    format = 'jsonl'
    items = jsonlItems(text, input)
  } else {
    throw new UsageError(`${input}: give a folder of images, a .csv with an "image" column of base64, or a .jsonl of {"image": "<base64>"}`, {file: input})
  }
  if (items.length === 0) throw new InvalidInputError(`${input}: no rows`, {file: input})
  return {format, items}
}

function base64Item(id: string, value: string, where: string): BatchItem {
  return {
    id,
    load: async () => decodeBase64(value) ?? `${where}: not valid base64 (${value.length} characters starting ${JSON.stringify(value.slice(0, 16))})`,
  }
}

function csvItems(text: string, source: string): BatchItem[] {
  const [header, ...rows] = parseCsv(text, source)
  if (!header) return []
  const col = header.fields.indexOf('image')
  if (col < 0) throw new InvalidInputError(`${source}: line 1: no "image" column (columns: ${header.fields.join(', ')})`, {file: source})
  const idCol = header.fields.indexOf('id')
  const ids = new Map<string, number>()
  return rows.map((row, i) => {
    const id = idCol >= 0 ? (row.fields[idCol] ?? '') : String(i + 1)
    checkId(id, row.line, ids, source)
    const value = row.fields[col]
    if (value === undefined) return {id, load: async () => `${source}: line ${row.line}: no value in the "image" column`}
    return base64Item(id, value, `${source}: line ${row.line}`)
  })
}

function jsonlItems(text: string, source: string): BatchItem[] {
  const ids = new Map<string, number>()
  const items: BatchItem[] = []
  const lines = text.split('\n')
  for (const [i, raw] of lines.entries()) {
    const line = i + 1
    if (raw.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch (error) {
      throw new InvalidInputError(`${source}: line ${line}: not valid JSON (${(error as Error).message})`, {file: source})
    }
    const obj = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
    const image = obj?.image
    const rawId = obj?.id
    if (rawId !== undefined && typeof rawId !== 'string' && typeof rawId !== 'number') {
      throw new InvalidInputError(`${source}: line ${line}: "id" must be a string or a number`, {file: source})
    }
    const id = rawId === undefined ? String(line) : String(rawId)
    checkId(id, line, ids, source)
    if (typeof image !== 'string') {
      items.push({id, load: async () => `${source}: line ${line}: expected {"image": "<base64>"}`})
      continue
    }
    items.push(base64Item(id, image, `${source}: line ${line}`))
  }
  return items
}

function checkId(id: string, line: number, seen: Map<string, number>, source: string): void {
  const first = seen.get(id)
  if (first !== undefined) {
    throw new InvalidInputError(`${source}: line ${line}: id ${previewValue(id)} was already used on line ${first}; ids must be unique for --resume`, {file: source})
  }
  seen.set(id, line)
}

/** The header and rows of the output, in its format. */
function csvHeader(topK: number): string {
  const cols = ['id']
  for (let k = 1; k <= topK; k++) cols.push(`label_${k}`, `score_${k}`)
  cols.push('error')
  return csvRow(cols)
}

function formatRow(format: BatchOutputFormat, id: string, outcome: ScoreOutcome, topK: number): string {
  if (format === 'jsonl') {
    return `${JSON.stringify(outcome.ok ? {id, predictions: outcome.predictions} : {id, error: redactSecrets(outcome.error)})}\n`
  }
  const values = [id]
  const preds: Prediction[] = outcome.ok ? outcome.predictions : []
  for (let k = 0; k < topK; k++) values.push(preds[k]?.label ?? '', preds[k] === undefined ? '' : String(preds[k].score))
  // One line per row, whatever the message holds: a torn last line is then all a crash can leave.
  values.push(outcome.ok ? '' : redactSecrets(outcome.error).replace(/\s*\n\s*/g, ' '))
  return csvRow(values)
}

/**
 * The ids already written to a partial (or finished) output, after cutting a torn last row off the file. A header
 * that does not match this run's columns is a usage error (the run would mix two layouts).
 */
async function doneIds(file: string, format: BatchOutputFormat, topK: number): Promise<Set<string>> {
  // Read whole, so capped like the input: a --resume target of 600 MB (or a link to /dev/zero) is refused by its size.
  const text = await readUserTextFile(file, {maxBytes: MAX_LIST_FILE_BYTES})
  // A torn last row: JSON Lines rows hold no raw line break; a CSV row's quoted id or label may, so CSV is scanned.
  const end = format === 'jsonl' ? text.lastIndexOf('\n') + 1 : completeRecordsLength(text)
  if (end < text.length) await truncate(file, Buffer.byteLength(text.slice(0, end)))
  const complete = text.slice(0, end)
  const ids = new Set<string>()
  if (format === 'jsonl') {
    for (const line of complete.split('\n')) {
      if (line === '') continue
      try {
        const row = JSON.parse(line) as {id?: unknown}
        if (typeof row.id === 'string') ids.add(row.id)
      } catch {
        throw new InvalidInputError(`${file}: a line is not JSON; not an output of vitrine batch?`, {file})
      }
    }
    return ids
  }
  const records = parseCsv(complete, file)
  if (records.length === 0) return ids
  const header = csvRow(records[0].fields)
  if (header !== csvHeader(topK)) {
    throw new UsageError(`${file}: its columns (${records[0].fields.join(',')}) are not this run's; resume with the same --top-k, or start over without --resume`, {file})
  }
  for (const r of records.slice(1)) ids.add(r.fields[0])
  return ids
}

export async function runBatch(options: BatchOptions, progress: Progress): Promise<BatchResult> {
  const started = Date.now()
  const topK = options.topK ?? DEFAULT_TOP_K
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  const outputFormat = outputFormatOf(options.out)
  const partial = `${options.out}.partial`
  // The output (and its .partial, which --resume appends to and renames) is never an input, and never replaces a
  // finished file without --force; with --resume an existing output is continued, not replaced.
  const inputs = [options.input, options.model]
  await checkOutputPath(options.out, {kind: 'file', inputs, force: options.force ?? false, allowExisting: options.resume})
  await checkOutputPath(partial, {kind: 'file', inputs, force: true})
  const {format: inputFormat, items} = await readBatchInput(options.input)

  let done = new Set<string>()
  if (options.resume) {
    if (await exists(partial)) done = await doneIds(partial, outputFormat, topK)
    else if (await exists(options.out)) {
      // A finished output: continue it in place of a partial (it is renamed back when complete).
      await rename(options.out, partial)
      done = await doneIds(partial, outputFormat, topK)
    }
  }
  const known = new Set(items.map((i) => i.id))
  const stray = [...done].find((id) => !known.has(id))
  if (stray !== undefined) {
    throw new UsageError(`${partial}: has a row for ${previewValue(stray)}, which is not in ${options.input}; was it written for another input?`, {file: partial})
  }
  const todo = items.filter((i) => !done.has(i.id))

  const scorer = await Scorer.load(options.model, {...options, maxBatch: Math.min(batchSize, options.maxBatch ?? batchSize)})
  await mkdir(dirname(partial), {recursive: true})
  const fh = await open(partial, options.resume ? 'a' : 'w')
  const scoringStarted = Date.now()
  let scored = 0
  let failed = 0
  const errors: BatchResult['errors'] = []
  try {
    if (outputFormat === 'csv' && done.size === 0 && (await fh.stat()).size === 0) await fh.write(csvHeader(topK))
    progress.start('scoring', todo.length, 'images')
    for (let b = 0; b < todo.length; b += batchSize) {
      const chunk = todo.slice(b, b + batchSize)
      const loaded = await Promise.all(chunk.map((item) => item.load()))
      const inputs: ScoreInput[] = []
      const at: number[] = []
      loaded.forEach((bytes, i) => {
        if (typeof bytes !== 'string') {
          inputs.push({id: chunk[i].id, bytes})
          at.push(i)
        }
      })
      const scoredOutcomes = await scorer.score(inputs, {topK})
      const outcomes: ScoreOutcome[] = loaded.map((bytes) => (typeof bytes === 'string' ? {ok: false, error: bytes, kind: 'InvalidInputError'} : {ok: false, error: '', kind: ''}))
      at.forEach((i, j) => {
        outcomes[i] = scoredOutcomes[j]
      })
      let text = ''
      let firstError: {id: string; error: string} | undefined
      for (const [i, outcome] of outcomes.entries()) {
        text += formatRow(outputFormat, chunk[i].id, outcome, topK)
        scored++
        if (!outcome.ok) {
          failed++
          firstError ??= {id: chunk[i].id, error: outcome.error}
          if (errors.length < 10) errors.push({id: redactSecrets(chunk[i].id), error: redactSecrets(outcome.error)})
          if (options.failFast) break
        }
      }
      await fh.write(text)
      await fh.datasync()
      progress.advance(chunk.length)
      if (options.failFast && firstError) {
        throw new InvalidInputError(`${firstError.error}\n(--fail-fast: stopped; the rows so far are in ${partial}, --resume continues)`, {file: options.input})
      }
    }
    progress.stop(`${scored} images, ${failed} errors`)
  } finally {
    await fh.close()
    scorer.dispose()
  }
  await rename(partial, options.out)
  const seconds = (Date.now() - started) / 1000
  const scoringSeconds = (Date.now() - scoringStarted) / 1000
  return {
    input: options.input,
    inputFormat,
    out: options.out,
    outputFormat,
    total: items.length,
    scored,
    failed,
    skipped: items.length - todo.length,
    seconds,
    imagesPerSecond: scoringSeconds > 0 ? scored / scoringSeconds : 0,
    backend: scorer.backendName,
    threads: scorer.threads,
    errors,
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
