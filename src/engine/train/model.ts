/**
 * What a trainable model is to the trainer (src/engine/train/trainer.ts) and to `vitrine finetune`, whatever its
 * family: flat parameters, gradients and AdamW moments of one layout, activations preallocated for `maxBatch` images,
 * and a forward pass that keeps what its backward pass reads. A family makes one with `createTrainModel` (see
 * src/models/family.ts); the ViT-style encoders share theirs (encoder-train.ts).
 */
import type {TrainKernels} from './kernels.js'
import type {ParamLayout} from './params.js'

export interface TrainModel {
  readonly kernels: TrainKernels
  readonly layout: ParamLayout
  /** params, grads and AdamW's two moments: `layout.total` floats each, laid out alike. */
  readonly params: Float32Array
  readonly grads: Float32Array
  readonly m: Float32Array
  readonly v: Float32Array
  readonly maxBatch: number
  /** Floats of the activations kept for the backward pass and its scratch (memory reports). */
  readonly activationFloats: number
  readonly numLabels: number
  /** pixel_values per image: [numChannels, inputHeight, inputWidth]. */
  readonly numChannels: number
  readonly inputHeight: number
  readonly inputWidth: number
  /** The classifier's views into `params` (a new head is initialised there). */
  readonly classifier: {weight: Float32Array; bias: Float32Array}
  /**
   * How transformers initialises this family's Linear weights (a mismatched head): truncated normal (ViT, DINOv2) or
   * plain normal (BEiT), std = initializer_range, zero bias.
   */
  readonly headInit: 'truncated-normal' | 'normal'
  /** (maxBatch, numLabels): d loss / d logits, written by the loss before `backward`. */
  readonly dLogits: Float32Array
  /** logits[B, numLabels] of pixels[B, ch, H, W], keeping every activation `backward` reads. Returns a view. */
  forward(pixels: Float32Array, B: number): Float32Array
  /** Adds d loss / d parameters to `grads`, from `dLogits` and the activations of the last `forward` on B images. */
  backward(B: number): void
}
