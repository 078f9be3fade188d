import {type LazyBytes, ProtoMessage} from './protobuf.js'

/**
 * The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) vitrine writes: ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto. Field numbers are the ones in onnx.proto;
 * repeated scalars are written unpacked (onnx.proto is proto2, where unpacked is the default and readers accept both).
 */

/** TensorProto.DataType values. */
export const OnnxDataType = {FLOAT: 1, INT64: 7} as const
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType]

/** AttributeProto.AttributeType values. */
const AttrType = {FLOAT: 1, INT: 2, STRING: 3, INTS: 7} as const

export type AttributeValue = number | string | number[] | {float: number}

/** A node attribute: integers are INT, `{float}` is FLOAT, strings STRING, integer arrays INTS. */
function attribute(name: string, value: AttributeValue): ProtoMessage {
  const m = new ProtoMessage().string(1, name)
  if (typeof value === 'string') return m.bytes(4, new TextEncoder().encode(value)).varint(20, AttrType.STRING)
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; wrap floats as {float}`)
    return m.varint(3, value).varint(20, AttrType.INT)
  }
  if (Array.isArray(value)) {
    for (const v of value) m.varint(8, v)
    return m.varint(20, AttrType.INTS)
  }
  return m.float(2, value.float).varint(20, AttrType.FLOAT)
}

export interface OnnxNode {
  opType: string
  inputs: string[]
  outputs: string[]
  name: string
  attributes?: Record<string, AttributeValue>
}

export function nodeProto(node: OnnxNode): ProtoMessage {
  const m = new ProtoMessage()
  for (const i of node.inputs) m.string(1, i)
  for (const o of node.outputs) m.string(2, o)
  m.string(3, node.name).string(4, node.opType)
  for (const [k, v] of Object.entries(node.attributes ?? {})) m.message(5, attribute(k, v))
  return m
}

/** A TensorProto whose raw_data (little-endian) is given or produced lazily. */
export function tensorProto(name: string, dataType: OnnxDataType, dims: number[], data: Uint8Array | LazyBytes): ProtoMessage {
  const m = new ProtoMessage()
  for (const d of dims) m.varint(1, d)
  m.varint(2, dataType).string(8, name)
  if (data instanceof Uint8Array) m.bytes(9, data)
  else m.lazyBytes(9, data)
  return m
}

/** A dimension: a fixed size, or a symbolic name (dynamic, e.g. "batch"). */
export type Dim = number | string

export function valueInfoProto(name: string, elemType: OnnxDataType, dims: Dim[]): ProtoMessage {
  const shape = new ProtoMessage()
  for (const d of dims) {
    const dim = new ProtoMessage()
    if (typeof d === 'number') dim.varint(1, d)
    else dim.string(2, d)
    shape.message(1, dim)
  }
  const tensorType = new ProtoMessage().varint(1, elemType).message(2, shape)
  const type = new ProtoMessage().message(1, tensorType)
  return new ProtoMessage().string(1, name).message(2, type)
}

export interface OnnxGraph {
  name: string
  nodes: OnnxNode[]
  initializers: ProtoMessage[]
  inputs: ProtoMessage[]
  outputs: ProtoMessage[]
  docString?: string
}

export interface OnnxModelOptions {
  irVersion: number
  opset: number
  producerName: string
  producerVersion: string
  docString?: string
}

export function modelProto(graph: OnnxGraph, options: OnnxModelOptions): ProtoMessage {
  const g = new ProtoMessage()
  for (const n of graph.nodes) g.message(1, nodeProto(n))
  g.string(2, graph.name)
  for (const t of graph.initializers) g.message(5, t)
  if (graph.docString) g.string(10, graph.docString)
  for (const i of graph.inputs) g.message(11, i)
  for (const o of graph.outputs) g.message(12, o)

  const m = new ProtoMessage()
    .varint(1, options.irVersion)
    .string(2, options.producerName)
    .string(3, options.producerVersion)
  if (options.docString) m.string(6, options.docString)
  m.message(7, g)
  m.message(8, new ProtoMessage().string(1, '').varint(2, options.opset))
  return m
}
