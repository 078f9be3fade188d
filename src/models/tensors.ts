/**
 * The tensors a family's forward pass needs, named as Hugging Face names them, each landing in a view allocated
 * through the backend (so a WebAssembly backend holds the model in its own memory) and read from model.safetensors
 * in one pass (src/engine/weights.ts `readTensors`: shapes and dtypes checked, missing tensors named).
 */
import type {Backend} from '../engine/backend.js'
import {type WantedTensor, readTensors} from '../engine/weights.js'

export class TensorPlan {
  private readonly wanted: WantedTensor[] = []

  constructor(private readonly backend: Backend) {}

  /** Reserves `name` of `shape`; returns the view it will be read into (a new one, or `dest`). */
  want(name: string, shape: number[], dest?: Float32Array): Float32Array {
    const view = dest ?? this.backend.alloc(shape.reduce((a, b) => a * b, 1))
    this.wanted.push({name, shape, dest: view})
    return view
  }

  /** Reads every reserved tensor from `file`. */
  async read(file: string): Promise<void> {
    await readTensors(file, this.wanted)
  }

  /** Floats reserved so far. */
  get numParameters(): number {
    return this.wanted.reduce((a, t) => a + t.dest.length, 0)
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
