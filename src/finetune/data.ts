/**
 * The training and validation images, read as `evaluate` reads data (src/evaluate/data.ts) and decoded once: a row
 * whose image cannot be read or whose label the run does not know becomes a BadRow with its line; the rest are held
 * decoded (the augmentation crops each epoch anew) or, without augmentation, as pixel values ready for the model.
 */

import type {BadRow, EvalRow} from '../evaluate/data.js'
import {augmentImage} from '../image/augment.js'
import {type PreprocessorConfig, type RgbImage, asTransformersSees, decodeImage, readImageFile, resizeAndCrop, toPixelValues} from '../image/index.js'
import {previewValue} from '../core/errors.js'

export interface TrainExample {
  row: EvalRow
  /** Class ids (one for single-label). */
  targets: number[]
  /** The decoded image as transformers sees it (kept for augmentation), or null once `pixels` is computed. */
  image: RgbImage | null
  /** pixel_values [ch, H, W] without augmentation (null when augmenting). */
  pixels: Float32Array | null
}

export interface LoadExamplesOptions {
  labelIds: ReadonlyMap<string, number>
  pre: PreprocessorConfig
  /** Keep decoded images for augmentation (else only the preprocessed pixels). */
  keepImages: boolean
  /** Stop at the first bad row (the caller turns it into the error). */
  stopAtFirstBad: boolean
}

/** Decodes every row; rows that fail join `bad`. */
export async function loadExamples(rows: readonly EvalRow[], options: LoadExamplesOptions, bad: BadRow[]): Promise<TrainExample[]> {
  const out: TrainExample[] = []
  const known = [...options.labelIds.keys()]
  const sample = known.slice(0, 5).map((l) => JSON.stringify(l)).join(', ') + (known.length > 5 ? ', ...' : '')
  for (const row of rows) {
    const where = {source: row.source, ...(row.line === undefined ? {} : {line: row.line}), image: row.image}
    const unknown = row.labels.filter((l) => !options.labelIds.has(l))
    if (unknown.length > 0) {
      bad.push({...where, reason: `label ${unknown.map((l) => previewValue(l)).join(', ')} is not one of the run's labels (${sample})`})
      if (options.stopAtFirstBad) return out
      continue
    }
    let image: RgbImage
    try {
      // The one image reader: a regular, size-capped file (an image linked to /dev/zero is refused, not read forever).
      const bytes = await readImageFile(row.path)
      image = asTransformersSees(await decodeImage(bytes, row.path), row.path, () => undefined)
    } catch (error) {
      bad.push({...where, reason: (error as Error).message})
      if (options.stopAtFirstBad) return out
      continue
    }
    const targets = row.labels.map((l) => options.labelIds.get(l) as number)
    out.push(
      options.keepImages
        ? {row, targets, image, pixels: null}
        : {row, targets, image: null, pixels: toPixelValues(resizeAndCrop(image, options.pre), options.pre)},
    )
  }
  return out
}

// out[ch*H*W] at `offset` = the model's pixel values of `ex`, augmented from `rand` when it holds an image
export function examplePixels(out: Float32Array, offset: number, ex: TrainExample, pre: PreprocessorConfig, rand: () => number): void {
  if (ex.pixels) {
    out.set(ex.pixels, offset)
    return
  }
  if (!ex.image) throw new Error('internal: a training example holds neither pixels nor an image')
  toPixelValues(resizeAndCrop(augmentImage(ex.image, rand), pre), pre, out, offset)
}
