/**
 * The ViT's image processor: ViTImageProcessor with the defaults transformers gives it (src/image/preprocessor.ts
 * holds those values, as the parser applies them), written as the preprocessor_config.json of a converted model
 * whose source had none.
 */
import {VIT_DEFAULTS} from '../../image/preprocessor.js'
import type {VitConfig} from './config.js'

export function vitPreprocessorDefaults(config: VitConfig): Record<string, unknown> {
  return {
    do_normalize: VIT_DEFAULTS.doNormalize,
    do_rescale: VIT_DEFAULTS.doRescale,
    do_resize: VIT_DEFAULTS.doResize,
    image_mean: VIT_DEFAULTS.imageMean,
    image_processor_type: 'ViTImageProcessor',
    image_std: VIT_DEFAULTS.imageStd,
    resample: VIT_DEFAULTS.resample,
    rescale_factor: VIT_DEFAULTS.rescaleFactor,
    size: {height: config.imageHeight, width: config.imageWidth},
  }
}
