/**
 * The fields of a Hugging Face `preprocessor_config.json` (ViTImageProcessor) that vitrine honours, normalised.
 * Parsed by `parsePreprocessorConfig` in ./preprocessor.ts; consumed by the image pipeline and the model loader.
 */
export interface PreprocessorConfig {
  doResize: boolean
  /** Target size when resizing. */
  height: number
  width: number
  /** PIL resample filter id (2 = BILINEAR, the only one ViT uses and vitrine implements). */
  resample: number
  doRescale: boolean
  rescaleFactor: number
  doNormalize: boolean
  imageMean: [number, number, number]
  imageStd: [number, number, number]
}
