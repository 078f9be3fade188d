/**
 * The fields of a Hugging Face `preprocessor_config.json` (ViTImageProcessor, BeitImageProcessor, BitImageProcessor
 * and their feature-extractor ancestors) that vitrine honours, normalised. Parsed by `parsePreprocessorConfig` in
 * ./preprocessor.ts; consumed by the image pipeline and the model loader.
 */

/** Which transformers image processor's steps and defaults apply. */
export type ProcessorKind = 'vit' | 'beit' | 'bit'

/** How `resize` sizes the image: to a fixed size, or its shortest edge to `shortestEdge` keeping the aspect ratio. */
export type ResizeTarget = {height: number; width: number} | {shortestEdge: number}

export interface PreprocessorConfig {
  /** The processor whose steps run (ViT: resize; BEiT and BiT: resize then center crop). */
  kind: ProcessorKind
  doResize: boolean
  resize: ResizeTarget
  /** PIL resample filter id (2 = BILINEAR, 3 = BICUBIC: the two vitrine implements). */
  resample: number
  doCenterCrop: boolean
  cropHeight: number
  cropWidth: number
  /**
   * The size of the pixel_values this processor outputs: the crop when cropping, else the fixed resize size (with
   * do_resize false and no crop, each image keeps its own size and these are unused).
   */
  height: number
  width: number
  doRescale: boolean
  rescaleFactor: number
  doNormalize: boolean
  imageMean: [number, number, number]
  imageStd: [number, number, number]
}
