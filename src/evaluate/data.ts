/**
 * Test data as Azure's evaluation job takes it, read into labelled rows: an MLTable folder (its JSON lines files),
 * a JSONL file of {"image_url": ..., "label": ...} (column names configurable, as the job's input_column_names and
 * label_column_name), or a folder per class (DIR/<label>/<image>). Image paths are relative to the JSONL's folder.
 *
 * A row that cannot be used is not dropped silently: it becomes a BadRow naming its file and line, and the caller
 * reports it (or fails with --strict). Only a data source that cannot be read at all throws.
 */
import {readdir, stat} from 'node:fs/promises'
import {basename, dirname, isAbsolute, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {parse as parseYaml} from 'yaml'

import {InvalidInputError, UsageError, describeFsError, isVitrineError} from '../core/errors.js'
import {redactSecrets} from '../core/redact.js'
import {MAX_JSON_FILE_BYTES, MAX_LIST_FILE_BYTES, readUserTextFile} from '../core/user-file.js'

export type EvalTask = 'image-classification' | 'image-classification-multilabel'
export const EVAL_TASKS: readonly EvalTask[] = ['image-classification', 'image-classification-multilabel']

export type DataFormat = 'mltable' | 'jsonl' | 'class-folders'

export interface EvalRow {
  /** Where the row came from: `annotations.jsonl:12`, or the image path for a class folder. */
  source: string
  /** 1-based line in its JSONL file (undefined for a class folder). */
  line?: number
  /** The image as the data names it (image_url, or the path under the class folder). */
  image: string
  /** The file to read. */
  path: string
  /** One label (multiclass) or the row's labels (multilabel), as written in the data. */
  labels: string[]
}

export interface BadRow {
  source: string
  line?: number
  image?: string
  reason: string
}

export interface EvalData {
  format: DataFormat
  /** The path given, resolved. */
  path: string
  /** The JSON lines files read (MLTable / JSONL). */
  files: string[]
  rows: EvalRow[]
  bad: BadRow[]
}

export interface ReadDataOptions {
  task: EvalTask
  /** The image column (default image_url). */
  inputColumn?: string
  /** The label column (default label). */
  labelColumn?: string
}

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff'])

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot < 0 ? '' : name.slice(dot).toLowerCase()
}

/** Reads DATA, whichever of the three forms it is. */
export async function readEvalData(dataPath: string, options: ReadDataOptions): Promise<EvalData> {
  const abs = resolve(dataPath)
  const st = await stat(abs).catch((error: unknown) => {
    throw describeFsError(error, dataPath) ?? error
  })
  if (st.isFile()) {
    if (basename(abs) === 'MLTable') return readMltable(dirname(abs), dataPath, options)
    if (/\.jsonl$/i.test(abs)) return {format: 'jsonl', path: abs, files: [abs], ...(await readJsonl(abs, displayName(abs), options))}
    throw new UsageError(`${dataPath}: expected an MLTable folder, a .jsonl file or a folder per class`, {file: dataPath})
  }
  if (!st.isDirectory()) throw new InvalidInputError(`${dataPath}: not a regular file or a folder (a device, FIFO or socket); refusing to read it`, {file: dataPath})
  const hasMltable = await stat(join(abs, 'MLTable')).then((s) => s.isFile(), () => false)
  if (hasMltable) return readMltable(abs, dataPath, options)
  if (options.task === 'image-classification-multilabel') {
    throw new UsageError(`${dataPath}: a folder per class has one label per image; multilabel data must be JSONL or MLTable with a list of labels per row`, {file: dataPath})
  }
  return readClassFolders(abs, dataPath)
}

function displayName(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel
}

interface MltablePathEntry {
  file?: unknown
  folder?: unknown
  pattern?: unknown
}

/** An MLTable folder: its `paths` must be local JSON lines files read by read_json_lines. */
async function readMltable(dir: string, given: string, options: ReadDataOptions): Promise<EvalData> {
  const file = join(dir, 'MLTable')
  let doc: unknown
  try {
    doc = parseYaml(await readUserTextFile(file, {maxBytes: MAX_JSON_FILE_BYTES}))
  } catch (error) {
    if (isVitrineError(error)) throw error
    const fsError = describeFsError(error, file)
    if (fsError) throw fsError
    throw new InvalidInputError(`${displayName(file)}: not valid YAML: ${(error as Error).message}`, {file})
  }
  if (doc === null || typeof doc !== 'object') throw new InvalidInputError(`${displayName(file)}: expected a mapping with paths and transformations`, {file})
  const {paths, transformations} = doc as {paths?: unknown; transformations?: unknown}
  if (!Array.isArray(paths) || paths.length === 0) throw new InvalidInputError(`${displayName(file)}: paths: expected a list of {file: ...}`, {file})
  const steps = Array.isArray(transformations) ? transformations : []
  const reads = steps.flatMap((s) => (s && typeof s === 'object' ? Object.keys(s) : typeof s === 'string' ? [s] : []))
  const reader = reads.find((k) => k.startsWith('read_'))
  if (reader !== undefined && reader !== 'read_json_lines') {
    throw new InvalidInputError(`${displayName(file)}: transformations: ${reader} is not supported locally; vitrine evaluate reads read_json_lines tables`, {file})
  }
  const files: string[] = []
  const rows: EvalRow[] = []
  const bad: BadRow[] = []
  for (const [i, entry] of paths.entries()) {
    const e = (entry ?? {}) as MltablePathEntry
    if (typeof e.file !== 'string') {
      const kind = e.folder !== undefined ? 'folder' : e.pattern !== undefined ? 'pattern' : 'entry'
      throw new InvalidInputError(`${displayName(file)}: paths[${i}]: a ${kind} is not supported locally; list each JSON lines file as {file: ./name.jsonl}`, {file})
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(e.file) && !e.file.startsWith('file://')) {
      throw new UsageError(`${displayName(file)}: paths[${i}]: ${e.file} is not a local file; vitrine evaluate reads local data only (download it, or point the MLTable at a local copy)`, {file})
    }
    const jsonl = resolve(dir, e.file.startsWith('file://') ? fileURLToPath(e.file) : e.file)
    files.push(jsonl)
    const part = await readJsonl(jsonl, displayName(jsonl), options)
    // Item by item: a spread of a million rows overflows the call stack (arguments live on it).
    for (const r of part.rows) rows.push(r)
    for (const b of part.bad) bad.push(b)
  }
  return {format: 'mltable', path: resolve(given), files, rows, bad}
}

/** A JSON lines file of rows; every row that cannot be used becomes a BadRow with its line. */
export async function readJsonl(file: string, name: string, options: ReadDataOptions): Promise<{rows: EvalRow[]; bad: BadRow[]}> {
  const inputColumn = options.inputColumn ?? 'image_url'
  const labelColumn = options.labelColumn ?? 'label'
  const multilabel = options.task === 'image-classification-multilabel'
  let text: string
  try {
    text = await readUserTextFile(file, {maxBytes: MAX_LIST_FILE_BYTES})
  } catch (error) {
    throw describeFsError(error, name) ?? error
  }
  const base = dirname(file)
  const rows: EvalRow[] = []
  const bad: BadRow[] = []
  // A byte-order mark (Windows editors) is not part of the first row.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  for (const [i, raw] of lines.entries()) {
    const line = i + 1
    const source = `${name}:${line}`
    if (raw.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch (error) {
      bad.push({source, line, reason: `not valid JSON: ${(error as Error).message}`})
      continue
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      bad.push({source, line, reason: 'expected a JSON object'})
      continue
    }
    const record = value as Record<string, unknown>
    const image = record[inputColumn]
    if (typeof image !== 'string' || image === '') {
      const keys = Object.keys(record).join(', ')
      bad.push({source, line, reason: `no "${inputColumn}" string (the row has: ${keys || 'no fields'}); set --input-column-names`})
      continue
    }
    const labels = parseLabels(record[labelColumn], multilabel)
    if (typeof labels === 'string') {
      bad.push({source, line, image, reason: labels.replace('COLUMN', labelColumn)})
      continue
    }
    const path = localImagePath(image, base)
    if (typeof path !== 'string') {
      // An image_url that is not local is often a blob URL with its SAS: shown (text, --json, report) without it.
      bad.push({source, line, image: redactSecrets(image), reason: redactSecrets(path.reason)})
      continue
    }
    rows.push({source, line, image, path, labels})
  }
  return {rows, bad}
}

/** The labels of a row, or why they cannot be used (COLUMN stands for the label column's name). */
function parseLabels(value: unknown, multilabel: boolean): string[] | string {
  const scalar = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined)
  if (value === undefined) return 'no "COLUMN" field; set --label-column-name'
  if (multilabel) {
    // Azure's multilabel JSONL writes a list; a single string is one label.
    const list = Array.isArray(value) ? value : [value]
    const out = list.map(scalar)
    if (out.some((v) => v === undefined)) return '"COLUMN" must be a list of label strings'
    return [...new Set(out as string[])]
  }
  if (Array.isArray(value)) return '"COLUMN" is a list; for several labels per image use --task image-classification-multilabel'
  const label = scalar(value)
  return label === undefined ? '"COLUMN" must be a label string or number' : [label]
}

/** A local file for an image_url, or why it cannot be read here. */
function localImagePath(image: string, base: string): string | {reason: string} {
  if (image.startsWith('file://')) {
    try {
      return fileURLToPath(image)
    } catch {
      return {reason: `${image}: not a local file URL`}
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) {
    return {reason: `${image} is not a local path (vitrine evaluate has no network or datastore access); point image_url at a local copy`}
  }
  return resolve(base, image)
}

/** DIR/<label>/<image>: every image file under a class folder is one row. */
async function readClassFolders(dir: string, given: string): Promise<EvalData> {
  const entries = await readdir(dir, {withFileTypes: true})
  const classes = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort()
  if (classes.length === 0) {
    throw new UsageError(`${given}: not an MLTable folder (no MLTable file) and has no class folders (DIR/<label>/<image>)`, {file: given})
  }
  const rows: EvalRow[] = []
  const bad: BadRow[] = []
  for (const label of classes) {
    const inner = await readdir(join(dir, label), {withFileTypes: true})
    for (const e of inner.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue
      const image = `${label}/${e.name}`
      if (!e.isFile() || !IMAGE_EXTENSIONS.has(extensionOf(e.name))) {
        bad.push({source: join(given, image), image, reason: e.isFile() ? 'not an image file (by its extension)' : 'not a file'})
        continue
      }
      rows.push({source: join(given, image), image, path: join(dir, label, e.name), labels: [label]})
    }
  }
  // A data set folder as Azure's samples ship it (annotations.jsonl beside images/) without an MLTable file reads as a
  // folder per class with no images; the JSON lines file is what the user meant to pass.
  const jsonl = entries.filter((e) => e.isFile() && e.name.endsWith('.jsonl')).map((e) => join(given, e.name))
  if (rows.length === 0 && jsonl.length > 0) {
    throw new UsageError(
      `${given}: no images in class folders (DIR/<label>/<image>), and no MLTable file; it holds JSON lines data: pass ${jsonl.length === 1 ? 'the file' : 'one of the files'} (${jsonl.slice(0, 3).join(', ')})`,
      {file: given},
    )
  }
  return {format: 'class-folders', path: dir, files: [], rows, bad}
}
