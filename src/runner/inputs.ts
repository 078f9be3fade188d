/**
 * Where the images to score come from: files and folders on disk, or a request body in the endpoint's format whose
 * entries are base64 images or (when allowed) URLs.
 */
import {readdir} from 'node:fs/promises'
import {extname, join} from 'node:path'

import {InvalidInputError, RemoteError, UsageError, describeFsError, isVitrineError} from '../core/errors.js'
import {MAX_LIST_FILE_BYTES, readUserTextFile} from '../core/user-file.js'
import {readImageFile} from '../image/index.js'
import {statOrUsage} from '../core/fs.js'
import {type UrlLimits, fetchImageUrl} from './fetch-url.js'
import type {RequestImage} from './request.js'
import type {ScoreInput} from './scorer.js'

/** File extensions taken from a folder (the formats the image decoder reads). */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff'])

/**
 * Every image file under `dir` (recursively, so ImageFolder class sub-folders work), sorted by path; dot-files and
 * dot-folders are skipped. Paths are `dir` joined with the relative path.
 */
export async function listImageFolder(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (folder: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(folder, {withFileTypes: true})
    } catch (error) {
      throw describeFsError(error, folder) ?? error
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
      if (e.name.startsWith('.')) continue
      const path = join(folder, e.name)
      if (e.isDirectory()) await walk(path)
      else if (e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(path)
    }
  }
  await walk(dir)
  return out
}

/** Expands files and folders into the image files to score, in order; a folder without images is a usage error. */
export async function expandImagePaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = []
  for (const p of paths) {
    const st = await statOrUsage(p)
    if (st.isDirectory()) {
      const found = await listImageFolder(p)
      if (found.length === 0) throw new UsageError(`${p}: no image files in this folder (looked for ${[...IMAGE_EXTENSIONS].join(' ')})`, {file: p})
      for (const f of found) files.push(f) // not a spread: a folder may hold hundreds of thousands of files
    } else {
      files.push(p)
    }
  }
  return files
}

/** Reads image files into scorer inputs, each named by its path. */
export async function readImageFiles(files: readonly string[]): Promise<ScoreInput[]> {
  return Promise.all(
    files.map(async (file) => {
      return {id: file, bytes: await readImageFile(file)}
    }),
  )
}

/** A request image whose URL could not be fetched: the error is the image's, not the request's. */
export interface FetchFailure {
  index: number
  field: string
  error: string
  /** The server failed or did not answer (exit 3), rather than the URL or its image being wrong (exit 1). */
  remote: boolean
}

/**
 * Turns request images into scorer inputs named by their field (`input_data[2]`), fetching URLs concurrently within
 * the limits. Fetch failures are returned per image rather than thrown.
 */
export async function resolveRequestImages(
  images: readonly RequestImage[],
  limits: UrlLimits = {},
): Promise<{inputs: Array<ScoreInput | undefined>; failures: FetchFailure[]}> {
  const failures: FetchFailure[] = []
  const inputs = await Promise.all(
    images.map(async (img): Promise<ScoreInput | undefined> => {
      if (img.kind === 'bytes') return {id: img.field, bytes: img.bytes}
      try {
        return {id: img.field, bytes: await fetchImageUrl(img.url, img.field, limits)}
      } catch (error) {
        if (!isVitrineError(error)) throw error
        failures.push({index: img.index, field: img.field, error: error.message, remote: error instanceof RemoteError})
        return undefined
      }
    }),
  )
  failures.sort((a, b) => a.index - b.index)
  return {inputs, failures}
}

/** Reads a request body from a file, or from stdin for `-`. */
export async function readRequestText(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (file !== '-') {
    return readUserTextFile(file, {maxBytes: MAX_LIST_FILE_BYTES})
  }
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') throw new InvalidInputError('stdin: empty request (expected {"input_data": [...]})')
  return text
}
