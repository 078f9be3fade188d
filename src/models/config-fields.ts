/**
 * Reading a Hugging Face config.json field by field, as the families' parsers do: a missing field takes the config
 * class's default (so a folder loads here exactly when it loads in transformers), a field of the wrong type is an
 * InvalidInputError naming the file and the field.
 */
import {InvalidInputError, previewValue} from '../core/errors.js'
import {parseLabels} from './labels.js'

export interface ConfigFields {
  /** The parsed object. */
  cfg: Record<string, unknown>
  bad(field: string, message: string): never
  positiveInt(field: string, fallback: number): number
  /** A non-negative finite number. */
  number(field: string, fallback: number): number
  bool(field: string, fallback: boolean): boolean
  /** An int, or [height, width] (image_size, patch_size). */
  pair(field: string, fallback: number): [number, number]
  /** A list of positive ints (SwinV2's depths and heads). */
  intList(field: string, fallback: number[]): number[]
  /** The class names in id order (id2label / num_labels). */
  labels(numLabelsFallback?: number): string[]
}

/** Checks that `json` is an object naming `modelType` / `architecture` (when it names any) and returns its readers. */
export function configFields(json: unknown, file: string, modelType: string, architecture: string): ConfigFields {
  const bad = (field: string, message: string): never => {
    throw new InvalidInputError(`${file}: ${field} ${message}`, {file})
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('(top level)', 'must be a JSON object')
  const cfg = json as Record<string, unknown>
  if (cfg.model_type !== undefined && cfg.model_type !== modelType) bad('model_type', `is ${previewValue(cfg.model_type)}, expected "${modelType}"`)
  if (cfg.architectures !== undefined && (!Array.isArray(cfg.architectures) || !cfg.architectures.includes(architecture))) {
    bad('architectures', `is ${previewValue(cfg.architectures)}; this parser reads ["${architecture}"]`)
  }
  const isPositiveInt = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) > 0
  return {
    cfg,
    bad,
    positiveInt(field, fallback) {
      const v = cfg[field] ?? fallback
      if (!isPositiveInt(v)) bad(field, `must be a positive integer, got ${previewValue(v)}`)
      return v as number
    },
    number(field, fallback) {
      const v = cfg[field] ?? fallback
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(field, `must be a non-negative number, got ${previewValue(v)}`)
      return v as number
    },
    bool(field, fallback) {
      const v = cfg[field] ?? fallback
      if (typeof v !== 'boolean') bad(field, `must be true or false, got ${previewValue(v)}`)
      return v as boolean
    },
    pair(field, fallback) {
      const v = cfg[field] ?? fallback
      if (isPositiveInt(v)) return [v as number, v as number]
      if (Array.isArray(v) && v.length === 2 && v.every(isPositiveInt)) return [v[0] as number, v[1] as number]
      return bad(field, `must be a positive integer or [height, width], got ${previewValue(v)}`)
    },
    intList(field, fallback) {
      const v = cfg[field] ?? fallback
      if (!Array.isArray(v) || v.length === 0 || !v.every(isPositiveInt)) bad(field, `must be a non-empty list of positive integers, got ${previewValue(v)}`)
      return v as number[]
    },
    labels: (numLabelsFallback) => parseLabels(cfg, bad, numLabelsFallback),
  }
}

/** The only hidden_act the engine implements: GELU in its exact erf form. */
export function checkGelu(f: ConfigFields): void {
  const act = f.cfg.hidden_act ?? 'gelu'
  if (act !== 'gelu') f.bad('hidden_act', `is ${previewValue(act)}; vitrine implements only "gelu" (the exact erf form)`)
}
