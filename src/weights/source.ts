/**
 * The one shape every checkpoint reader produces: named tensors whose bytes are read on demand, one at a time, from
 * the open file. Converting never holds more than the tensor at hand (plus the fused qkv it may be sliced from).
 */

/** The container a weights file is in, as detected from its first bytes. */
export type Container = 'safetensors' | 'torch-zip' | 'npz'

export interface SourceTensor {
  /** The name in the file (without `.npy` for npz entries). */
  name: string
  /** safetensors dtype name: F32, F16, BF16, F64, I64, ... */
  dtype: string
  shape: number[]
  /** Where the data lies, for error messages (e.g. "zip entry 'archive/data/3'", "byte offset 1024"). */
  location: string
  /** The elements, row-major, little-endian. */
  read(): Promise<Uint8Array>
}

export interface Checkpoint {
  container: Container
  file: string
  /** In the file's order. */
  tensors: Map<string, SourceTensor>
  close(): Promise<void>
}
