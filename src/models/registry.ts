/**
 * The model families vitrine knows, and the one place that picks a family for a model: from config.json's
 * `model_type`, else its `architectures`, else (a config with neither, as hand-written or very old ViT configs are)
 * ViT. An unknown family is refused with the list of supported ones.
 *
 * A new family registers by adding its `ModelFamily` object to FAMILIES below; nothing else changes for convert,
 * package, verify, the ONNX export or the engine.
 */
import {InvalidInputError, previewValue} from '../core/errors.js'
import {parseJsonText} from '../core/user-file.js'
import type {ModelConfig, ModelFamily, ParseConfigOptions, ParsedConfig} from './family.js'
import {beitFamily} from './beit/family.js'
import {dinov2Family} from './dinov2/family.js'
import {swinv2Family} from './swinv2/family.js'
import {vitFamily} from './vit/family.js'

export const FAMILIES: readonly ModelFamily[] = [vitFamily, beitFamily, swinv2Family, dinov2Family]

/** "vit (ViTForImageClassification), ..." for messages. */
export function supportedFamiliesText(): string {
  return FAMILIES.map((f) => `${f.modelType} (${f.architectures.join(', ')})`).join(', ')
}

/** The family `json` (a parsed config.json) describes; `file` is named in the error for an unsupported one. */
export function familyOfConfig(json: unknown, file: string): ModelFamily {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidInputError(`${file}: (top level) must be a JSON object`, {file})
  }
  const cfg = json as Record<string, unknown>
  if (cfg.model_type !== undefined) {
    const family = FAMILIES.find((f) => f.modelType === cfg.model_type)
    if (family) return family
    throw new InvalidInputError(`${file}: model_type is ${previewValue(cfg.model_type)}; vitrine supports ${supportedFamiliesText()}`, {file})
  }
  if (cfg.architectures !== undefined) {
    const archs = Array.isArray(cfg.architectures) ? cfg.architectures : []
    const family = FAMILIES.find((f) => archs.some((a) => f.architectures.includes(a as string)))
    if (family) return family
    throw new InvalidInputError(`${file}: architectures is ${previewValue(cfg.architectures)}; vitrine supports ${supportedFamiliesText()}`, {file})
  }
  return FAMILIES[0]
}

/** A model config read whole: its family, the family's parsed config and the labels. */
export interface ModelOfConfig<C extends ModelConfig = ModelConfig> extends ParsedConfig<C> {
  family: ModelFamily<C>
}

/** Picks the family of a parsed config.json and parses it with that family's rules. */
export function parseModelConfig(json: unknown, file: string, options?: ParseConfigOptions): ModelOfConfig {
  const family = familyOfConfig(json, file)
  return {family, ...family.parseConfig(json, file, options)}
}

/** Parses config.json's text (see parseModelConfig). */
export function parseModelConfigText(text: string, file: string, options?: ParseConfigOptions): ModelOfConfig {
  return parseModelConfig(parseJsonText(text, file, {file}), file, options)
}

/** The family whose tensor names these are (in any scheme it reads), for a checkpoint without a config.json. */
export function familyOfTensorNames(names: readonly string[]): ModelFamily | undefined {
  let best: ModelFamily | undefined
  for (const f of FAMILIES) if (!best && f.detectScheme(names)) best = f
  return best
}

/**
 * True when a config.json is a transformers model config (rather than, say, a timm pretrained_cfg that may sit
 * beside a timm checkpoint): it names a model_type or architectures, or has the transformer's size fields.
 */
export function isTransformersConfig(raw: Record<string, unknown>): boolean {
  return raw.model_type !== undefined || raw.architectures !== undefined || ('hidden_size' in raw && 'num_hidden_layers' in raw)
}
