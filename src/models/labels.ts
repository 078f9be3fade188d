/**
 * Class labels as every Hugging Face config.json spells them (`id2label`, `num_labels`), whatever the family: the
 * one parser of id2label, used by the family config parsers and by `convert --labels` for an id2label file.
 */
import {InvalidInputError, previewValue} from '../core/errors.js'
import {checkGeometry} from './geometry-limits.js'

/**
 * The class names in id order. id2label's keys must be exactly "0".."n-1"; without id2label, transformers names the
 * `num_labels` classes LABEL_0.. (2 when num_labels is absent too, as transformers assumes; `convert` passes the
 * checkpoint's classifier size instead).
 */
export function parseLabels(cfg: Record<string, unknown>, bad: (field: string, message: string) => never, numLabelsFallback = 2): string[] {
  const id2label = cfg.id2label
  const numLabels = cfg.num_labels
  if (numLabels !== undefined && (!Number.isSafeInteger(numLabels) || (numLabels as number) <= 0)) {
    bad('num_labels', `must be a positive integer, got ${previewValue(numLabels)}`)
  }
  if (numLabels !== undefined) checkGeometry('num_labels', numLabels as number, 'config.json', undefined)
  if (id2label === undefined) {
    checkGeometry('num_labels', numLabelsFallback, 'config.json', undefined)
    return Array.from({length: (numLabels as number | undefined) ?? numLabelsFallback}, (_, i) => `LABEL_${i}`)
  }
  if (typeof id2label !== 'object' || id2label === null || Array.isArray(id2label)) bad('id2label', 'must be an object mapping class ids to labels')
  const entries = Object.entries(id2label as Record<string, unknown>)
  if (entries.length === 0) bad('id2label', 'is empty: the model must have at least one class')
  const labels: string[] = new Array(entries.length)
  for (const [key, label] of entries) {
    const id = Number(key)
    if (!/^(0|[1-9][0-9]*)$/.test(key) || id >= entries.length) {
      bad(`id2label["${key}"]`, `is not a class id in 0..${entries.length - 1}`)
    }
    if (typeof label !== 'string') bad(`id2label["${key}"]`, `must be a string, got ${previewValue(label)}`)
    labels[id] = label as string
  }
  if (numLabels !== undefined && numLabels !== labels.length) {
    bad('num_labels', `(${numLabels}) disagrees with id2label, which has ${labels.length} classes`)
  }
  return labels
}

/** `{"0": "cat", ...}` (an id2label object) as a list in id order, by the same rules; `where` is named in errors. */
export function id2labelToList(id2label: unknown, where: string): string[] {
  const bad = (field: string, message: string): never => {
    throw new InvalidInputError(`${where}: ${field} ${message}`, {file: where})
  }
  return parseLabels({id2label}, bad)
}
