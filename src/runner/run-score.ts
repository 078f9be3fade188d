/**
 * `vitrine score`: the endpoint's answer for images on disk or a request file, computed locally. Like the endpoint,
 * the answer is all or nothing: one undecodable image fails the call, naming every bad image (use `vitrine batch` to
 * record per-image errors and go on).
 */
import {InvalidInputError, RemoteError, UsageError} from '../core/errors.js'
import type {UrlLimits} from './fetch-url.js'
import {expandImagePaths, readImageFiles, readRequestText, resolveRequestImages} from './inputs.js'
import {type ScoreResponse, parseScoreRequestText} from './request.js'
import {type ScoreInput, type ScoreOutcome, Scorer, type ScorerOptions} from './scorer.js'

export interface ScoreRunOptions extends ScorerOptions {
  model: string
  /** Image files and folders. */
  paths: readonly string[]
  /** A request body file in the endpoint's format, or `-` for stdin. */
  request?: string
  topK?: number
  allowUrls?: boolean
  urlLimits?: UrlLimits
}

export interface ScoreRun {
  /** What the endpoint would answer. */
  response: ScoreResponse
  /** Each image's name (a path, or the request field), in response order. */
  ids: string[]
  backend: string
  threads: number
}

export async function runScore(options: ScoreRunOptions): Promise<ScoreRun> {
  if (options.request !== undefined && options.paths.length > 0) {
    throw new UsageError('give image files/folders or --request, not both')
  }
  if (options.request === undefined && options.paths.length === 0) {
    throw new UsageError('nothing to score: give image files or folders, or --request FILE (- for stdin)')
  }
  // Read and check the inputs before loading the model: a typo should not cost a model load.
  let inputs: ScoreInput[]
  if (options.request !== undefined) {
    const source = options.request === '-' ? 'stdin' : options.request
    const images = parseScoreRequestText(await readRequestText(options.request), {source, allowUrls: options.allowUrls})
    const {inputs: resolved, failures} = await resolveRequestImages(images, options.urlLimits)
    if (failures.length > 0) {
      const message = failures.map((f) => `${source}: ${f.error}`).join('\n')
      throw failures.every((f) => f.remote) ? new RemoteError(message, {file: source}) : new InvalidInputError(message, {file: source})
    }
    inputs = resolved as ScoreInput[]
  } else {
    inputs = await readImageFiles(await expandImagePaths(options.paths))
  }

  const scorer = await Scorer.load(options.model, options)
  try {
    const outcomes = await scorer.score(inputs, {topK: options.topK})
    return {response: responseOf(inputs, outcomes), ids: inputs.map((i) => i.id), backend: scorer.backendName, threads: scorer.threads}
  } finally {
    scorer.dispose()
  }
}

/** The response body for outcomes that all succeeded; otherwise an InvalidInputError naming every failed image. */
export function responseOf(inputs: readonly ScoreInput[], outcomes: readonly ScoreOutcome[]): ScoreResponse {
  const failed = outcomes.flatMap((o, i) => (o.ok ? [] : [{i, error: o.error}]))
  if (failed.length > 0) {
    const lines = failed.map((f) => (f.error.startsWith(inputs[f.i].id) ? f.error : `${inputs[f.i].id}: ${f.error}`))
    throw new InvalidInputError(`${failed.length} of ${inputs.length} images could not be scored:\n${lines.join('\n')}`, {
      file: inputs[failed[0].i].id,
      hint: 'vitrine batch records an error per bad image and scores the others',
    })
  }
  return outcomes.map((o) => (o.ok ? o.predictions : []))
}
