import type {FileHandle} from 'node:fs/promises'
import {join} from 'node:path'

import {writeStreamAtomic} from '../core/atomic.js'
import {InvalidInputError} from '../core/errors.js'
import {openOrUsage} from '../core/fs.js'
import {type Progress, silentProgress} from '../core/progress.js'
import {type VitConfigFacts, compareTensorShapes, readVitConfig} from '../package/vit-config.js'
import {type TensorInfo, readSafetensorsHeader, tensorToFloat32} from '../weights/safetensors.js'
import {type OnnxNode, OnnxDataType, modelProto, tensorProto, valueInfoProto} from './onnx-proto.js'
import type {LazyBytes, ProtoMessage} from './protobuf.js'

/**
 * ViTForImageClassification as an ONNX graph (opset 17), built from a canonical Hugging Face folder
 * (config.json + model.safetensors). The tensors are streamed from the safetensors file into the protobuf as it is
 * written, one at a time, so exporting ViT-B/16 (346 MB) holds roughly one weight matrix in memory, not the model.
 *
 * Graph (N = batch, dynamic; T = tokens; C = hidden):
 *   pixel_values[N,3,H,W] -Conv(stride P)-> [N,C,H/P,W/P] -Reshape[0,C,-1]-> -Transpose-> [N,T-1,C]
 *   Concat(Expand(cls,[N,1,C]), patches) + position_embeddings -> x[N,T,C]
 *   per layer: x += Wo·attn(LN(x)); x += W2·gelu(W1·LN(x))   (attention as MatMul/Softmax, gelu as Erf)
 *   LayerNorm -> Gather(token 0) -> MatMul classifier -> logits[N,labels]
 */

export const ONNX_OPSET = 17
/** IR version 8 is the one onnx 1.12 wrote with opset 17; every runtime that knows opset 17 reads it. */
export const ONNX_IR_VERSION = 8

interface WeightSource {
  file: string
  fh: FileHandle
  dataStart: number
  byName: Map<string, TensorInfo>
}

async function readTensorF32(src: WeightSource, name: string): Promise<Float32Array> {
  const t = src.byName.get(name)
  if (!t) throw new InvalidInputError(`${src.file}: tensor '${name}' is missing`, {file: src.file})
  const bytes = new Uint8Array(t.end - t.begin)
  await src.fh.read(bytes, 0, bytes.length, src.dataStart + t.begin)
  return tensorToFloat32(bytes, t.dtype, name, src.file)
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
}

function int64Bytes(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 8)
  const dv = new DataView(b.buffer)
  values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true))
  return b
}

/** weight[rows, cols] -> weight^T[cols, rows] (a Linear's [out, in] to MatMul's [in, out]). */
function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]
  return out
}

/** Collects nodes and initializers with stable, readable names. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = []
  readonly initializers: ProtoMessage[] = []

  constructor(private readonly src: WeightSource, private readonly progress: Progress) {}

  op(opType: string, inputs: string[], name: string, attributes?: OnnxNode['attributes']): string {
    const out = `${name}_out`
    this.nodes.push({opType, inputs, outputs: [out], name, attributes})
    return out
  }

  constF32(name: string, dims: number[], values: number[]): string {
    this.initializers.push(tensorProto(name, OnnxDataType.FLOAT, dims, f32Bytes(Float32Array.from(values))))
    return name
  }

  constI64(name: string, dims: number[], values: number[]): string {
    this.initializers.push(tensorProto(name, OnnxDataType.INT64, dims, int64Bytes(values)))
    return name
  }

  /** A checkpoint tensor as a float32 initializer, read (and optionally transposed) while the file is written. */
  weight(hfName: string, dims: number[], transposeFrom?: [number, number]): string {
    const elements = dims.reduce((a, b) => a * b, 1)
    const src = this.src
    const progress = this.progress
    const lazy: LazyBytes = {
      length: elements * 4,
      async produce() {
        const w = await readTensorF32(src, hfName)
        progress.advance(1)
        return f32Bytes(transposeFrom ? transpose2d(w, transposeFrom[0], transposeFrom[1]) : w)
      },
    }
    this.initializers.push(tensorProto(hfName, OnnxDataType.FLOAT, dims, lazy))
    return hfName
  }

}

/** out[N,T,outDim] = x[N,T,inDim] @ W^T + b, with W stored [outDim, inDim] in the checkpoint. */
function linear(g: GraphBuilder, x: string, prefix: string, inDim: number, outDim: number, hasBias = true): string {
  const w = g.weight(`${prefix}.weight`, [inDim, outDim], [outDim, inDim])
  const y = g.op('MatMul', [x, w], `${prefix}/MatMul`)
  if (!hasBias) return y
  return g.op('Add', [y, g.weight(`${prefix}.bias`, [outDim])], `${prefix}/Add`)
}

function layerNorm(g: GraphBuilder, x: string, prefix: string, C: number, eps: number): string {
  return g.op('LayerNormalization', [x, g.weight(`${prefix}.weight`, [C]), g.weight(`${prefix}.bias`, [C])], `${prefix}/LayerNormalization`, {
    axis: -1,
    epsilon: {float: eps},
  })
}

function buildVitGraph(g: GraphBuilder, c: VitConfigFacts): void {
  const C = c.hiddenSize
  const H = c.numHeads
  const D = C / H
  const P = c.patchSize
  const T = c.numTokens

  // Patch embedding: a stride-P convolution, flattened to tokens.
  const conv = g.op(
    'Conv',
    ['pixel_values', g.weight('vit.embeddings.patch_embeddings.projection.weight', [C, c.numChannels, P, P]), g.weight('vit.embeddings.patch_embeddings.projection.bias', [C])],
    'embeddings/patch/Conv',
    {kernel_shape: [P, P], strides: [P, P]},
  )
  const flat = g.op('Reshape', [conv, g.constI64('shape_0_C_m1', [3], [0, C, -1])], 'embeddings/patch/Reshape')
  const patches = g.op('Transpose', [flat], 'embeddings/patch/Transpose', {perm: [0, 2, 1]})

  // CLS token broadcast to the batch: Expand(cls[1,1,C], [N,1,C]).
  const batch = g.op('Shape', ['pixel_values'], 'embeddings/cls/Shape', {start: 0, end: 1})
  const clsShape = g.op('Concat', [batch, g.constI64('shape_1_C', [2], [1, C])], 'embeddings/cls/Concat', {axis: 0})
  const cls = g.op('Expand', [g.weight('vit.embeddings.cls_token', [1, 1, C]), clsShape], 'embeddings/cls/Expand')
  const tokens = g.op('Concat', [cls, patches], 'embeddings/Concat', {axis: 1})
  let x = g.op('Add', [tokens, g.weight('vit.embeddings.position_embeddings', [1, T, C])], 'embeddings/Add')

  const headsShape = g.constI64('shape_0_0_H_D', [4], [0, 0, H, D])
  const mergeShape = g.constI64('shape_0_0_C', [3], [0, 0, C])
  const scale = g.constF32('attention_scale', [], [1 / Math.sqrt(D)])
  const sqrt2 = g.constF32('sqrt2', [], [Math.SQRT2])
  const one = g.constF32('one', [], [1])
  const half = g.constF32('half', [], [0.5])

  for (let l = 0; l < c.numLayers; l++) {
    const p = `vit.encoder.layer.${l}`
    const ln1 = layerNorm(g, x, `${p}.layernorm_before`, C, c.layerNormEps)
    const heads = (n: string, perm: number[]): string => {
      const proj = linear(g, ln1, `${p}.attention.attention.${n}`, C, C, c.qkvBias)
      const split = g.op('Reshape', [proj, headsShape], `${p}.attention.${n}/Reshape`)
      return g.op('Transpose', [split], `${p}.attention.${n}/Transpose`, {perm})
    }
    const q = heads('query', [0, 2, 1, 3]) // [N,H,T,D]
    const k = heads('key', [0, 2, 3, 1]) // [N,H,D,T]
    const v = heads('value', [0, 2, 1, 3]) // [N,H,T,D]
    const scores = g.op('Mul', [g.op('MatMul', [q, k], `${p}.attention/scores/MatMul`), scale], `${p}.attention/scores/Mul`) // [N,H,T,T]
    const probs = g.op('Softmax', [scores], `${p}.attention/Softmax`, {axis: -1})
    const ctx = g.op('MatMul', [probs, v], `${p}.attention/context/MatMul`) // [N,H,T,D]
    const merged = g.op('Reshape', [g.op('Transpose', [ctx], `${p}.attention/context/Transpose`, {perm: [0, 2, 1, 3]}), mergeShape], `${p}.attention/context/Reshape`)
    const attnOut = linear(g, merged, `${p}.attention.output.dense`, C, C)
    x = g.op('Add', [x, attnOut], `${p}/residual_attention/Add`)

    const ln2 = layerNorm(g, x, `${p}.layernorm_after`, C, c.layerNormEps)
    const h = linear(g, ln2, `${p}.intermediate.dense`, C, c.intermediateSize)
    // gelu(h) = 0.5 * h * (1 + erf(h / sqrt 2)), the pattern onnxruntime fuses into one Gelu kernel.
    const erf = g.op('Erf', [g.op('Div', [h, sqrt2], `${p}.gelu/Div`)], `${p}.gelu/Erf`)
    const gelu = g.op('Mul', [g.op('Mul', [h, g.op('Add', [erf, one], `${p}.gelu/Add`)], `${p}.gelu/Mul`), half], `${p}.gelu/Mul_half`)
    const mlpOut = linear(g, gelu, `${p}.output.dense`, c.intermediateSize, C)
    x = g.op('Add', [x, mlpOut], `${p}/residual_mlp/Add`)
  }

  const final = layerNorm(g, x, 'vit.layernorm', C, c.layerNormEps)
  const clsOut = g.op('Gather', [final, g.constI64('token_0', [], [0])], 'pooler/Gather', {axis: 1}) // [N,C]
  const logits = linear(g, clsOut, 'classifier', C, c.labels.length)
  g.nodes.push({opType: 'Identity', inputs: [logits], outputs: ['logits'], name: 'logits/Identity'})
}

/**
 * Writes `outFile` (atomically): the ViT in `modelDir` (config.json + model.safetensors, F32/F16/BF16 weights,
 * computed in float32) as an ONNX model with input `pixel_values` [batch, channels, H, W] and output
 * `logits` [batch, labels].
 */
export async function exportOnnx(modelDir: string, outFile: string, progress: Progress = silentProgress): Promise<void> {
  const config = await readVitConfig(join(modelDir, 'config.json'))
  const weightsFile = join(modelDir, 'model.safetensors')
  const header = await readSafetensorsHeader(weightsFile)
  const problems = compareTensorShapes(config, header.tensors)
  if (problems.length) throw new InvalidInputError(`${weightsFile}: ${problems.join('; ')}`, {file: weightsFile})

  const fh = await openOrUsage(weightsFile)
  try {
    const src: WeightSource = {file: weightsFile, fh, dataStart: header.dataStart, byName: new Map(header.tensors.map((t) => [t.name, t]))}
    const g = new GraphBuilder(src, progress)
    buildVitGraph(g, config)
    const model = modelProto(
      {
        name: 'vit_image_classification',
        nodes: g.nodes,
        initializers: g.initializers,
        inputs: [valueInfoProto('pixel_values', OnnxDataType.FLOAT, ['batch', config.numChannels, config.imageSize, config.imageSize])],
        outputs: [valueInfoProto('logits', OnnxDataType.FLOAT, ['batch', config.labels.length])],
      },
      {irVersion: ONNX_IR_VERSION, opset: ONNX_OPSET, producerName: 'vitrine', producerVersion: '1'},
    )
    progress.start('Exporting ONNX', header.tensors.length, 'tensors')
    await writeStreamAtomic(outFile, (write) => model.writeTo(write))
    progress.stop()
  } finally {
    await fh.close()
  }
}
