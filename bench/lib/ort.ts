/**
 * The peers the engine benchmark compares vitrine with, each running vitrine's own ONNX export (input `pixel_values`
 * [batch, ch, H, W], output `logits`): onnxruntime-node (native, CPU execution provider) and onnxruntime-web's
 * WebAssembly backend (SIMD, multi-threaded: the same class of engine as vitrine's), on a given number of threads.
 */
import * as ort from 'onnxruntime-node'
import * as ortWeb from 'onnxruntime-web'

export interface OrtModel {
  /** logits [batch, labels] for pixels [batch, ch, H, W]. */
  run(pixels: Float32Array, batch: number, ch: number, H: number, W: number): Promise<Float32Array>
  release(): Promise<void>
}

/** onnxruntime-node's CPU session on `threads` intra-op threads. */
export async function createOrtNodeModel(onnxFile: string, threads: number): Promise<OrtModel> {
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

let webThreads: number | undefined

/**
 * onnxruntime-web's WebAssembly backend (ort-wasm-simd-threaded: SIMD128 always, the only build 1.30 ships) on
 * `threads` threads. In Node its threads are Emscripten pthreads on worker_threads (SharedArrayBuffer needs no
 * cross-origin isolation there). The thread count is global and fixed when the first session initialises the
 * WebAssembly module, so one process runs every onnxruntime-web session on the same count.
 */
export async function createOrtWebModel(onnxFile: string, threads: number): Promise<OrtModel> {
  if (webThreads === undefined) {
    webThreads = threads
    ortWeb.env.wasm.numThreads = threads
    ortWeb.env.wasm.simd = true
  } else if (webThreads !== threads) {
    throw new Error(`onnxruntime-web runs on ${webThreads} threads in this process: its thread count is fixed at its first session (${threads} asked)`)
  }
  const session = await ortWeb.InferenceSession.create(onnxFile, {executionProviders: ['wasm'], graphOptimizationLevel: 'all'})
  const input = session.inputNames[0]
  const output = session.outputNames[0]
  return {
    async run(pixels, batch, ch, H, W) {
      const result = await session.run({[input]: new ortWeb.Tensor('float32', pixels, [batch, ch, H, W])})
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
