/**
 * The tensor views a model's parameters live in. A leaf module: the family seam (family.ts) and the training engine
 * (src/engine/train/) both name these types, and family.ts also names the training model's type, so keeping them
 * here is what keeps src/ free of import cycles.
 */

/** A tensor of a checkpoint (Hugging Face name and shape) and the Float32Array it is read into. */
export interface TensorView {
  name: string
  shape: number[]
  view: Float32Array
}

/** One parameter tensor of a model and the Float32Array it lives in (weights, or gradients in the same layout). */
export interface ParameterTensor extends TensorView {
  /**
   * Whether AdamW's weight decay applies to it: the Hugging Face Trainer exempts every bias and every LayerNorm
   * parameter (get_decay_parameter_names); the family knows which tensors those are.
   */
  decay: boolean
}
