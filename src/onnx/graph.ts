import type {FileHandle} from 'node:fs/promises'

import {InvalidInputError} from '../core/errors.js'
import type {Progress} from '../core/progress.js'
import {type TensorInfo, tensorToFloat32} from '../weights/safetensors.js'
import {type OnnxNode, OnnxDataType, tensorProto} from './onnx-proto.js'
import type {LazyBytes, ProtoMessage} from './protobuf.js'

/**
 * The builder a model family's ONNX graph is written with (src/models/<family>/onnx-graph.ts): nodes with stable,
 * readable names, constants, and the checkpoint's tensors as float32 initializers that are read from the safetensors
 * file only while the protobuf is written, one at a time, so exporting ViT-B/16 (346 MB) holds roughly one weight
 * matrix in memory, not the model. Weight names are the family's (from its tensor table); this file knows none.
 */

/** The open model.safetensors the initializers are read from. */
export interface WeightSource {
  file: string
  fh: FileHandle
  dataStart: number
  byName: Map<string, TensorInfo>
}

/** A layer's weight and bias tensor names (e.g. a linear's or a LayerNorm's). */
export interface WeightBias {
  weight: string
  bias: string
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

/** The node-name prefix of a layer: its weight's name without `.weight` (`vit.layernorm.weight` -> `vit.layernorm`). */
function layerName(names: WeightBias): string {
  return names.weight.replace(/\.weight$/, '')
}

/** Collects nodes and initializers with stable, readable names. */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = []
  readonly initializers: ProtoMessage[] = []

  constructor(private readonly src: WeightSource, private readonly progress: Progress) {}

  op(opType: string, inputs: string[], name: string, attributes?: OnnxNode['attributes']): string {
    const out = `${name}_out`
    this.nodes.push({opType, inputs, outputs: [out], name, attributes})
    return out
  }

  /** The graph's output `name` = `value` (an Identity node). */
  output(value: string, name: string): void {
    this.nodes.push({opType: 'Identity', inputs: [value], outputs: [name], name: `${name}/Identity`})
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
  weight(name: string, dims: number[], transposeFrom?: [number, number]): string {
    const elements = dims.reduce((a, b) => a * b, 1)
    const src = this.src
    const progress = this.progress
    const lazy: LazyBytes = {
      length: elements * 4,
      async produce() {
        const w = await readTensorF32(src, name)
        progress.advance(1)
        return f32Bytes(transposeFrom ? transpose2d(w, transposeFrom[0], transposeFrom[1]) : w)
      },
    }
    this.initializers.push(tensorProto(name, OnnxDataType.FLOAT, dims, lazy))
    return name
  }

  /** out[N,T,outDim] = x[N,T,inDim] @ W^T + b, with W stored [outDim, inDim] in the checkpoint. */
  linear(x: string, names: WeightBias, inDim: number, outDim: number, hasBias = true): string {
    const prefix = layerName(names)
    const w = this.weight(names.weight, [inDim, outDim], [outDim, inDim])
    const y = this.op('MatMul', [x, w], `${prefix}/MatMul`)
    if (!hasBias) return y
    return this.op('Add', [y, this.weight(names.bias, [outDim])], `${prefix}/Add`)
  }

  layerNorm(x: string, names: WeightBias, C: number, eps: number): string {
    const prefix = layerName(names)
    return this.op('LayerNormalization', [x, this.weight(names.weight, [C]), this.weight(names.bias, [C])], `${prefix}/LayerNormalization`, {
      axis: -1,
      epsilon: {float: eps},
    })
  }
}
