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

/** One ONNX Gemm node, Y[M, N] = X[M, K] @ W[N, K]^T + b: ORT's matmul, against which a single linear is compared. */
export interface OrtLinear {
  run(x: Float32Array): Promise<Float32Array>
  release(): Promise<void>
}

export async function createOrtLinear(weight: Float32Array, bias: Float32Array, M: number, N: number, K: number, threads: number): Promise<OrtLinear> {
  const {modelProto, tensorProto, valueInfoProto, OnnxDataType} = await import('../../src/onnx/onnx-proto.js')
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
  const model = modelProto(
    {
      name: 'linear',
      nodes: [{opType: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], name: 'gemm', attributes: {transB: 1}}],
      initializers: [tensorProto('w', OnnxDataType.FLOAT, [N, K], bytes(weight)), tensorProto('b', OnnxDataType.FLOAT, [N], bytes(bias))],
      inputs: [valueInfoProto('x', OnnxDataType.FLOAT, [M, K])],
      outputs: [valueInfoProto('y', OnnxDataType.FLOAT, [M, N])],
    },
    {irVersion: 8, opset: 17, producerName: 'vitrine-bench', producerVersion: '0'},
  )
  const session = await ort.InferenceSession.create(await model.toBytes(), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  })
  return {
    async run(x) {
      const result = await session.run({x: new ort.Tensor('float32', x, [M, K])})
      return result.y.data as Float32Array
    },
    release: () => session.release(),
  }
}
