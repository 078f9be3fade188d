/**
 * onnxruntime-web's WebAssembly backend (SIMD, multi-threaded), the peer of vitrine's own class the families
 * benchmark compares with: one session of an ONNX model with input `pixel_values` [batch, ch, H, W] and output
 * `logits`, on a given number of threads.
 */
import * as ort from 'onnxruntime-web'

export interface OrtWebModel {
  /** logits [batch, labels] for pixels [batch, ch, H, W]. */
  run(pixels: Float32Array, batch: number, ch: number, H: number, W: number): Promise<Float32Array>
  release(): Promise<void>
}

export async function createOrtWebModel(onnx: Uint8Array | string, threads: number): Promise<OrtWebModel> {
  // The WebAssembly build is SIMD-only since 1.19; threads are worker threads, set before the first session.
  ort.env.wasm.numThreads = threads
  ort.env.logLevel = 'error'
  const session = await ort.InferenceSession.create(onnx as Uint8Array, {executionProviders: ['wasm'], graphOptimizationLevel: 'all'})
  const input = session.inputNames[0]
  const output = session.outputNames[0]
  return {
    async run(pixels, batch, ch, H, W) {
      const result = await session.run({[input]: new ort.Tensor('float32', pixels, [batch, ch, H, W])})
      return result[output].data as Float32Array
    },
    release: () => session.release(),
  }
}
