/**
 * The tensors a family's forward pass needs, named as Hugging Face names them, each landing in a view from the
 * plan's allocator: `backend.alloc` for a model (so a WebAssembly backend holds it in its own memory), or `LIST_ONLY`
 * to list the names and shapes without allocating (the tensor table).
 */

/** One named tensor of the model and the view (or part of a view) it is read into. */
export interface PlannedTensor {
  name: string
  shape: number[]
  view: Float32Array
  /** AdamW weight decay applies (the Hugging Face Trainer exempts biases and LayerNorm parameters). */
  decay: boolean
}

/**
 * No weight decay, as the Trainer's get_decay_parameter_names decides it: a name that contains "bias" anywhere (a bias,
 * and also BEiT's relative_position_bias_table), or a LayerNorm's weight (layernorm*, norm, norm1, norm2, ... in
 * Hugging Face names).
 */
function exemptFromDecay(name: string): boolean {
  return name.includes('bias') || /(^|\.)(layernorm\w*|norm\d*)\.weight$/.test(name)
}

/** An allocator that allocates nothing: views are empty, for listing the tensors only. */
export const LIST_ONLY = (): Float32Array => new Float32Array(0)

export class TensorPlan {
  readonly tensors: PlannedTensor[] = []

  constructor(readonly alloc: (n: number) => Float32Array) {}

  /** Reserves `name` of `shape`; returns the view it will be read into (a new one, or `dest`). */
  want(name: string, shape: number[], dest?: Float32Array): Float32Array {
    const view = dest ?? this.alloc(shape.reduce((a, b) => a * b, 1))
    this.tensors.push({name, shape, view, decay: !exemptFromDecay(name)})
    return view
  }

  /**
   * The tensor read into `view` (the very object `want` returned): how code that works by role, such as a family's
   * ONNX graph, names a tensor without spelling its name.
   */
  tensorOf(view: Float32Array): PlannedTensor {
    const t = this.tensors.find((x) => x.view === view)
    if (!t) throw new Error('internal: no tensor of the plan is read into this view')
    return t
  }

  /** Floats reserved. */
  get numParameters(): number {
    return this.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0)
  }
}

/**
 * Tensor names by role, for a family's ONNX graph: the tensor read into a view, a layer's weight and bias, and a
 * linear's parts (its bias absent when the layer has none).
 */
export function namesByRole(plan: TensorPlan): {
  name(view: Float32Array): string
  pair(weight: Float32Array, bias: Float32Array): {weight: string; bias: string}
  linear(parts: {weight: Float32Array; bias?: Float32Array}): {weight: string; bias?: string}
} {
  const name = (view: Float32Array): string => plan.tensorOf(view).name
  return {
    name,
    pair: (weight, bias) => ({weight: name(weight), bias: name(bias)}),
    linear: (parts) => ({weight: name(parts.weight), bias: parts.bias && name(parts.bias)}),
  }
}

/**
 * Folds a layer scale into the linear before it: lambda * (W x + b) = (lambda W) x + lambda b, row n of W [N, K] and
 * b [N] times lambda[n] (done once at load; the product differs from PyTorch's order by float32 rounding only).
 */
export function foldRowScale(weight: Float32Array, bias: Float32Array | null, lambda: Float32Array, N: number, K: number): void {
  for (let n = 0; n < N; n++) {
    const l = lambda[n]
    for (let k = 0; k < K; k++) weight[n * K + k] *= l
    if (bias) bias[n] *= l
  }
}
