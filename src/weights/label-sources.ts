import {readFile} from 'node:fs/promises'

import {InvalidInputError} from '../core/errors.js'
import {MAX_JSON_FILE_BYTES, parseJsonText, readUserTextFile} from '../core/user-file.js'
import {assetPath} from '../core/paths.js'
import {id2labelToList} from '../models/labels.js'

/**
 * Class labels for a converted model: from `--labels FILE` (a JSON id2label object, a JSON list, a config.json with
 * `id2label`, or one label a line), the source config, or the bundled ImageNet-1k synsets for 1000-class heads.
 */

let imagenet: string[] | undefined

/**
 * The 1000 ImageNet-1k synset strings in class order, as google/vit-base-patch16-224's config.json has them
 * ("tench, Tinca tinca", ...). Extracted from @tensorflow-models/mobilenet by scripts/extract-imagenet-labels.mjs.
 */
export async function imagenetLabels(): Promise<string[]> {
  if (!imagenet) {
    const labels = JSON.parse(await readFile(assetPath('data', 'imagenet-labels.json'), 'utf8')) as unknown
    if (!Array.isArray(labels) || labels.length !== 1000 || !labels.every((l) => typeof l === 'string')) {
      throw new Error('data/imagenet-labels.json is not a list of 1000 strings: the package is damaged')
    }
    imagenet = labels as string[]
  }
  return imagenet
}

/** Reads `--labels FILE`. */
export async function readLabelsFile(path: string): Promise<string[]> {
  const text = await readUserTextFile(path, {maxBytes: MAX_JSON_FILE_BYTES})
  const trimmed = text.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const json = parseJsonText(trimmed, path, {file: path})
    if (Array.isArray(json)) {
      const bad = json.findIndex((l) => typeof l !== 'string')
      if (bad >= 0) throw new InvalidInputError(`${path}: label ${bad} is not a string`, {file: path})
      return json as string[]
    }
    const obj = json as Record<string, unknown>
    return id2labelToList('id2label' in obj ? obj.id2label : obj, path)
  }
  const lines = text.split(/\r?\n/)
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop()
  const empty = lines.findIndex((l) => l.trim() === '')
  if (empty >= 0) throw new InvalidInputError(`${path}: line ${empty + 1} is empty (one label a line, in class order)`, {file: path})
  return lines.map((l) => l.trim())
}
