/**
 * onnxruntime-node, the peer the engine benchmark compares vitrine with: one CPU session of an ONNX ViT with input
 * `pixel_values` [batch, 3, H, W] and output `logits`, on a given number of intra-op threads.
 */
import * as ort from 'onnxruntime-node'

export interface OrtVit {
  /** logits [batch, labels] for pixels [batch, ch, H, W]. */
  run(pixels: Float32Array, batch: number, ch: number, H: number, W: number): Promise<Float32Array>
  release(): Promise<void>
}

export async function createOrtVit(onnxFile: string, threads: number): Promise<OrtVit> {
  const session = await ort.InferenceSession.create(onnxFile, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  })
  const input = session.inputNames[0]
  const output = session.outputNames[0]
  return {
    async run(pixels, batch, ch, H, W) {
      const feeds = {[input]: new ort.Tensor('float32', pixels, [batch, ch, H, W])}
      const result = await session.run(feeds)
      return result[output].data as Float32Array
    },
    release: () => session.release(),
  }
}
