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

/** A linear layer's tensor names: [out, in] weight, and its bias unless the layer has none (BEiT's key). */
export interface LinearNames {
  weight: string
  bias?: string
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
function layerName(weight: string): string {
  return weight.replace(/\.weight$/, '')
}

/** Collects nodes and initializers with stable, readable names. */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = []
  readonly initializers: ProtoMessage[] = []
  /** Initializer names already added, so that a constant or weight used twice is stored once. */
  private readonly named = new Map<string, string>()

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

  /**
   * Adds an initializer unless one of that name exists: constants and weights are shared by name (e.g. `sqrt2`), and
   * `key` (what the initializer holds) must then be the same, so one name never stands for two values.
   */
  private initializer(name: string, key: string, make: () => ProtoMessage): string {
    const before = this.named.get(name)
    if (before === undefined) {
      this.named.set(name, key)
      this.initializers.push(make())
    } else if (before !== key) {
      throw new Error(`internal: ONNX initializer ${name} defined twice, as ${before} and as ${key}`)
    }
    return name
  }

  constF32(name: string, dims: number[], values: ArrayLike<number>): string {
    const data = Float32Array.from(values)
    return this.initializer(name, `f32 [${dims.join(',')}] ${data.join(',')}`, () => tensorProto(name, OnnxDataType.FLOAT, dims, f32Bytes(data)))
  }

  constI64(name: string, dims: number[], values: ArrayLike<number>): string {
    const data = Array.from(values)
    return this.initializer(name, `i64 [${dims.join(',')}] ${data.join(',')}`, () => tensorProto(name, OnnxDataType.INT64, dims, int64Bytes(data)))
  }

  /**
   * A checkpoint tensor as a float32 initializer (named as in the checkpoint), read (and optionally transposed) while
   * the file is written.
   */
  weight(name: string, dims: number[], transposeFrom?: [number, number]): string {
    return this.derived(name, dims, [name], ([w]) => (transposeFrom ? transpose2d(w, transposeFrom[0], transposeFrom[1]) : w), transposeFrom ? 'transposed' : 'as is')
  }

  /**
   * A float32 initializer computed from checkpoint tensors while the file is written (e.g. a bias table that depends
   * on the weights only, or position embeddings resampled to the exported image size): `compute` gets the tensors of
   * `sources` in order and returns `dims`' elements. `how` tells two computations from the same sources apart.
   */
  derived(name: string, dims: number[], sources: string[], compute: (tensors: Float32Array[]) => Float32Array, how = 'computed'): string {
    const elements = dims.reduce((a, b) => a * b, 1)
    const src = this.src
    const progress = this.progress
    const lazy: LazyBytes = {
      length: elements * 4,
      async produce() {
        const tensors: Float32Array[] = []
        for (const s of sources) tensors.push(await readTensorF32(src, s))
        const out = compute(tensors)
        if (out.length !== elements) throw new Error(`internal: initializer ${name} has ${out.length} elements, expected ${elements}`)
        progress.advance(sources.length)
        return f32Bytes(out)
      },
    }
    return this.initializer(name, `${how} from [${sources.join(',')}] [${dims.join(',')}]`, () => tensorProto(name, OnnxDataType.FLOAT, dims, lazy))
  }

  /** out[..., outDim] = x[..., inDim] @ W^T (+ b), with W stored [outDim, inDim] in the checkpoint. */
  linear(x: string, names: LinearNames, inDim: number, outDim: number, hasBias = names.bias !== undefined): string {
    const prefix = layerName(names.weight)
    const w = this.weight(names.weight, [inDim, outDim], [outDim, inDim])
    const y = this.op('MatMul', [x, w], `${prefix}/MatMul`)
    if (!hasBias || names.bias === undefined) return y
    return this.op('Add', [y, this.weight(names.bias, [outDim])], `${prefix}/Add`)
  }

  layerNorm(x: string, names: WeightBias, C: number, eps: number): string {
    const prefix = layerName(names.weight)
    return this.op('LayerNormalization', [x, this.weight(names.weight, [C]), this.weight(names.bias, [C])], `${prefix}/LayerNormalization`, {
      axis: -1,
      epsilon: {float: eps},
    })
  }

  /** The constants of `gelu` (declared where they are first needed, or earlier to fix their place in the file). */
  geluConstants(): {sqrt2: string; one: string; half: string} {
    return {sqrt2: this.constF32('sqrt2', [], [Math.SQRT2]), one: this.constF32('one', [], [1]), half: this.constF32('half', [], [0.5])}
  }

  /** gelu(x) = 0.5 * x * (1 + erf(x / sqrt 2)), the exact GELU, in the pattern onnxruntime fuses into one Gelu kernel. */
  gelu(x: string, prefix: string): string {
    const {sqrt2, one, half} = this.geluConstants()
    const erf = this.op('Erf', [this.op('Div', [x, sqrt2], `${prefix}/Div`)], `${prefix}/Erf`)
    const inner = this.op('Mul', [x, this.op('Add', [erf, one], `${prefix}/Add`)], `${prefix}/Mul`)
    return this.op('Mul', [inner, half], `${prefix}/Mul_half`)
  }

  /** x * scale, per channel (a layer scale: `scale` is a [C] checkpoint tensor). */
  scaled(x: string, scale: string, C: number): string {
    return this.op('Mul', [x, this.weight(scale, [C])], `${layerName(scale)}/Mul`)
  }

  /**
   * A patch embedding: pixels[N, ch, H, W] -> Conv(stride = kernel = patch) -> tokens[N, GH*GW, C] (row-major over the
   * grid). `pad` zero-pads the bottom and right of the image first (to whole patches, as SwinV2 does); without it a
   * partial patch at the edge is dropped, as a stride-P Conv2d drops it.
   */
  patchEmbedding(pixels: string, names: WeightBias, C: number, ch: number, PH: number, PW: number, pad: [number, number] = [0, 0]): string {
    const attributes: OnnxNode['attributes'] = {kernel_shape: [PH, PW], strides: [PH, PW]}
    if (pad[0] || pad[1]) attributes.pads = [0, 0, pad[0], pad[1]]
    const conv = this.op('Conv', [pixels, this.weight(names.weight, [C, ch, PH, PW]), this.weight(names.bias, [C])], 'embeddings/patch/Conv', attributes)
    const flat = this.op('Reshape', [conv, this.constI64('shape_0_C_m1', [3], [0, C, -1])], 'embeddings/patch/Reshape')
    return this.op('Transpose', [flat], 'embeddings/patch/Transpose', {perm: [0, 2, 1]})
  }

  /**
   * Concat(Expand(token[1, 1, C], [N, 1, C]), tokens[N, L, C]) -> [N, 1 + L, C]: the [CLS] token before the patches,
   * N being the batch of the graph's input `pixel_values`.
   */
  prependToken(tokens: string, token: string, C: number): string {
    const batch = this.op('Shape', ['pixel_values'], 'embeddings/cls/Shape', {start: 0, end: 1})
    const shape = this.op('Concat', [batch, this.constI64('shape_1_C', [2], [1, C])], 'embeddings/cls/Concat', {axis: 0})
    const expanded = this.op('Expand', [this.weight(token, [1, 1, C]), shape], 'embeddings/cls/Expand')
    return this.op('Concat', [expanded, tokens], 'embeddings/Concat', {axis: 1})
  }

  /** tokens[N, T, C] -> token t [N, C]. */
  token(x: string, t: number, name: string): string {
    return this.op('Gather', [x, this.constI64(`token_${t}`, [], [t])], `${name}/Gather`, {axis: 1})
  }

  /** tokens[N, T, C] -> the mean of tokens from..T-1 [N, C]. */
  meanTokens(x: string, from: number, name: string): string {
    const rest = from === 0 ? x : this.op('Slice', [x, this.constI64(`starts_${from}`, [1], [from]), this.constI64('ends_max', [1], [Number.MAX_SAFE_INTEGER]), this.constI64('axes_1', [1], [1])], `${name}/Slice`)
    return this.op('ReduceMean', [rest], `${name}/ReduceMean`, {axes: [1], keepdims: 0})
  }

  /**
   * Multi-head self-attention over x[N, T, C] (already normalised), without the output projection: per head
   * softmax(q k^T * scale + bias) v, heads merged back to [N, T, C]. `bias` (optional) is added to the scores
   * [N, NH, T, T] with broadcasting (BEiT's relative position bias [NH, T, T]).
   */
  /** The constants of `selfAttention` for width C and NH heads (declared where first needed, or earlier). */
  attentionConstants(C: number, NH: number): {headsShape: string; mergeShape: string; scale: string} {
    const D = C / NH
    return {
      headsShape: this.constI64('shape_0_0_H_D', [4], [0, 0, NH, D]),
      mergeShape: this.constI64('shape_0_0_C', [3], [0, 0, C]),
      scale: this.constF32('attention_scale', [], [1 / Math.sqrt(D)]),
    }
  }

  selfAttention(x: string, q: LinearNames, k: LinearNames, v: LinearNames, C: number, NH: number, prefix: string, bias?: string): string {
    const heads = (names: LinearNames, part: string, perm: number[]): string => {
      const split = this.op('Reshape', [this.linear(x, names, C, C), this.attentionConstants(C, NH).headsShape], `${prefix}.${part}/Reshape`)
      return this.op('Transpose', [split], `${prefix}.${part}/Transpose`, {perm})
    }
    const query = heads(q, 'query', [0, 2, 1, 3]) // [N,NH,T,D]
    const key = heads(k, 'key', [0, 2, 3, 1]) // [N,NH,D,T]
    const value = heads(v, 'value', [0, 2, 1, 3]) // [N,NH,T,D]
    const {scale, mergeShape} = this.attentionConstants(C, NH)
    let scores = this.op('Mul', [this.op('MatMul', [query, key], `${prefix}/scores/MatMul`), scale], `${prefix}/scores/Mul`)
    if (bias) scores = this.op('Add', [scores, bias], `${prefix}/scores/Add`)
    const probs = this.op('Softmax', [scores], `${prefix}/Softmax`, {axis: -1})
    const ctx = this.op('MatMul', [probs, value], `${prefix}/context/MatMul`) // [N,NH,T,D]
    const merged = this.op('Transpose', [ctx], `${prefix}/context/Transpose`, {perm: [0, 2, 1, 3]})
    return this.op('Reshape', [merged, mergeShape], `${prefix}/context/Reshape`)
  }
}
