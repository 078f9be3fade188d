/**
 * The managed online endpoint's scoring contract for an MLflow image-classification model (the Hugging Face ViT
 * asset), as azureml-examples sends it and the endpoint answers:
 *
 *   request   {"input_data": ["<base64 image>", "<http(s) URL>", ...]}                       (current samples)
 *             {"input_data": {"columns": ["image"], "index": [0, 1], "data": [...]}}          (pandas split form)
 *   response  [[{"label": "7", "score": 0.98}, {"label": "1", "score": 0.01}, ...], ...]      one list per image
 *
 * In the split form a data row is either the base64 string or the one-column row `["<base64>"]` (pandas writes rows
 * as lists). Every error names the field it is about (`input_data[3]`, `input_data.columns`).
 */
import {InvalidInputError, previewValue} from '../core/errors.js'
import {parseJsonText} from '../core/user-file.js'
import type {Prediction} from './scorer.js'

/** One image of a request: its base64 bytes, or a URL to fetch (only when URLs are allowed). */
export type RequestImage = {index: number; field: string; kind: 'bytes'; bytes: Uint8Array} | {index: number; field: string; kind: 'url'; url: string}

/** The response body: one list of predictions per image, best first. */
export type ScoreResponse = Prediction[][]

export interface ParseRequestOptions {
  /** Where the body came from, for messages (a file name, `request body`). */
  source?: string
  /** Accept http(s) URLs in place of base64 (serve --allow-urls). */
  allowUrls?: boolean
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/
const DATA_URI = /^data:image\/[a-z0-9.+-]+;base64,/i

/** Parses a request body's text (JSON) into its images. */
export function parseScoreRequestText(text: string, options: ParseRequestOptions = {}): RequestImage[] {
  const source = options.source ?? 'request body'
  return parseScoreRequest(parseJsonText(text, source, {file: options.source}), options)
}

/** Reads the images out of a parsed request body, in either form. */
export function parseScoreRequest(body: unknown, options: ParseRequestOptions = {}): RequestImage[] {
  const source = options.source ?? 'request body'
  const fail = (field: string, message: string): never => {
    throw new InvalidInputError(`${source}: ${field}: ${message}`, {file: options.source})
  }
  if (!isObject(body)) fail('(top level)', `expected an object {"input_data": [...]}, got ${describe(body)}`)
  const record = body as Record<string, unknown>
  if (!('input_data' in record)) {
    const keys = Object.keys(record)
    fail('input_data', `missing; the body must be {"input_data": ["<base64 image>", ...]}${keys.length ? ` (found ${keys.map((k) => previewValue(k)).join(', ')})` : ''}`)
  }
  const input = record.input_data
  let values: unknown[]
  let field: (i: number) => string
  if (Array.isArray(input)) {
    values = input
    field = (i) => `input_data[${i}]`
  } else if (isObject(input)) {
    ;({values, field} = splitForm(input as Record<string, unknown>, fail))
  } else {
    return fail('input_data', `expected a list of base64 images or a {"columns", "index", "data"} table, got ${describe(input)}`)
  }
  if (values.length === 0) fail('input_data', 'no images (an empty list)')
  return values.map((value, index) => parseImage(value, index, field(index), options.allowUrls ?? false, fail))
}

function splitForm(input: Record<string, unknown>, fail: (field: string, message: string) => never): {values: unknown[]; field: (i: number) => string} {
  const {columns, index, data} = input
  if (!Array.isArray(columns) || columns.length !== 1 || typeof columns[0] !== 'string') {
    fail('input_data.columns', `expected exactly one column, ["image"], got ${Array.isArray(columns) ? `${columns.length} entries` : describe(columns)}`)
  }
  if (!Array.isArray(data)) return fail('input_data.data', `expected a list of rows, got ${describe(data)}`)
  if (index !== undefined && (!Array.isArray(index) || index.length !== data.length)) {
    fail('input_data.index', `expected a list of ${data.length} entries (one per data row), got ${Array.isArray(index) ? `${index.length}` : describe(index)}`)
  }
  const values = data.map((row, i) => {
    if (!Array.isArray(row)) return row
    if (row.length !== 1) fail(`input_data.data[${i}]`, `a row must hold one value (the image), got ${row.length}`)
    return row[0] as unknown
  })
  return {values, field: (i) => `input_data.data[${i}]`}
}

function parseImage(value: unknown, index: number, field: string, allowUrls: boolean, fail: (field: string, message: string) => never): RequestImage {
  if (typeof value !== 'string') return fail(field, `expected a base64 string, got ${describe(value)}`)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    if (!allowUrls) return fail(field, 'is a URL; URLs are fetched only with --allow-urls (send the image base64-encoded)')
    if (!/^https?:\/\//i.test(value)) return fail(field, `only http(s) URLs are fetched, not ${value.slice(0, value.indexOf(':'))}:`)
    return {index, field, kind: 'url', url: value}
  }
  const bytes = decodeBase64(value)
  if (!bytes) return fail(field, `not valid base64 (${value.length} characters starting ${previewValue(value.slice(0, 16))})`)
  if (bytes.length === 0) return fail(field, 'an empty image')
  return {index, field, kind: 'bytes', bytes}
}

/** Strict base64 (standard or URL-safe alphabet, optional data: URI prefix, whitespace ignored); null if invalid. */
export function decodeBase64(text: string): Uint8Array | null {
  const body = text.replace(DATA_URI, '').replace(/\s+/g, '')
  if (!BASE64.test(body) || body.length % 4 === 1) return null
  return new Uint8Array(Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64'))
}

/** A request body in the current form, for clients and tests. */
export function buildScoreRequest(images: ReadonlyArray<Uint8Array | string>): {input_data: string[]} {
  return {input_data: images.map((x) => (typeof x === 'string' ? x : Buffer.from(x).toString('base64')))}
}

function isObject(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

function describe(x: unknown): string {
  if (x === null) return 'null'
  if (Array.isArray(x)) return 'a list'
  return typeof x === 'object' ? 'an object' : `a ${typeof x}`
}
