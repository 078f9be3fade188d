/**
 * Bounds on a model's geometry, checked against config.json (or the tensor shapes) before anything is allocated: a
 * hostile config's `num_hidden_layers: 1000000` or `num_labels: 1e9` is a clear error, not a 4 GB heap abort or a
 * WebAssembly out-of-memory. Generous for real models: ViT-22B has hidden 6144, 48 layers, intermediate 24576;
 * ImageNet-21k has 21,843 classes; EVA and SigLIP run at 448-518 px.
 */
import {InvalidInputError} from '../core/errors.js'

export const GEOMETRY_LIMITS = {
  hidden_size: 16_384,
  num_hidden_layers: 256,
  num_attention_heads: 256,
  intermediate_size: 131_072,
  num_channels: 16,
  image_size: 8192,
  /** Patches per image (the attention is quadratic in them). */
  num_patches: 16_384,
  num_labels: 100_000,
} as const

export type GeometryField = keyof typeof GEOMETRY_LIMITS

/** `value`, or an InvalidInputError naming `where` and the field when it is over its limit. */
export function checkGeometry(field: GeometryField, value: number, where: string, file?: string): number {
  const limit = GEOMETRY_LIMITS[field]
  if (value > limit) {
    throw new InvalidInputError(`${where}: ${field} ${value} is over vitrine's limit of ${limit}; refusing before allocating anything`, {file})
  }
  return value
}
