/**
 * The weights of a ViTForImageClassification: one object of named Float32Array views, each allocated through the
 * backend (so a WebAssembly backend holds them in its own memory) and filled straight from model.safetensors: F32
 * tensors are read from the file into their view with no intermediate copy, F16 and BF16 are widened on the way in.
 * Query, key and value are fused into one [3C, C] linear per layer so attention's input is one matmul.
 *
 * The linears' weight views are handed to `backend.prepareLinear` once filled, and from then on belong to the
 * backend: the WebAssembly backend packs them in place (its panel layout), so read them as [N, K] only on the
 * TypeScript backend. The other views (embeddings, LayerNorm parameters) stay as loaded.
 */
import type {FileHandle} from 'node:fs/promises'

import {InvalidInputError} from '../core/errors.js'
import {openOrUsage} from '../core/fs.js'
import {type TensorInfo, readSafetensorsHeader} from '../weights/safetensors.js'
import type {Backend, Linear} from './backend.js'
import type {VitConfig} from './config.js'

export interface VitLayerWeights {
  ln1Gamma: Float32Array // (C)        layernorm_before.weight
  ln1Beta: Float32Array // (C)         layernorm_before.bias
  qkvWeight: Float32Array // (3C, C)   attention.attention.{query,key,value}.weight, stacked
  qkvBias: Float32Array | null // (3C) their biases (null when qkv_bias is false)
  attnOutWeight: Float32Array // (C, C) attention.output.dense.weight
  attnOutBias: Float32Array // (C)
  ln2Gamma: Float32Array // (C)        layernorm_after.weight
  ln2Beta: Float32Array // (C)
  fc1Weight: Float32Array // (I, C)    intermediate.dense.weight
  fc1Bias: Float32Array // (I)
  fc2Weight: Float32Array // (C, I)    output.dense.weight
  fc2Bias: Float32Array // (C)
  /** The layer's linears as the backend prepared them. */
  qkv: Linear
  attnOut: Linear
  fc1: Linear
  fc2: Linear
}

export interface VitWeights {
  patchWeight: Float32Array // (C, ch*P*P) patch_embeddings.projection.weight [C, ch, P, P], flattened per filter
  patchBias: Float32Array // (C)
  clsToken: Float32Array // (C)
  posEmbed: Float32Array // (T, C)
  layers: VitLayerWeights[]
  lnfGamma: Float32Array // (C)  vit.layernorm.weight
  lnfBeta: Float32Array // (C)
  classifierWeight: Float32Array // (numLabels, C)
  classifierBias: Float32Array // (numLabels)
  patchEmbed: Linear
  classifier: Linear
  /** Total parameters (floats) loaded. */
  numParameters: number
}

/** One tensor the model needs: its Hugging Face name, the shape it must have, and the floats it lands in. */
export interface WantedTensor {
  name: string
  shape: number[]
  dest: Float32Array
}

/** Weight dtypes vitrine reads; all are computed in float32. */
const READABLE_DTYPES = new Set(['F32', 'F16', 'BF16'])

/**
 * Loads the weights of `config`'s ViT from `file` (a model.safetensors with Hugging Face names), allocating every
 * tensor through `backend` and preparing the linears. A missing tensor, a wrong shape or an unreadable dtype is an
 * InvalidInputError naming the tensor(s), the expected and the actual shape.
 */
export async function loadVitWeights(file: string, config: VitConfig, backend: Backend): Promise<VitWeights> {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW, numTokens: T, numLabels} = config
  const wanted: WantedTensor[] = []
  const want = (name: string, shape: number[], dest?: Float32Array): Float32Array => {
    const n = shape.reduce((a, b) => a * b, 1)
    const view = dest ?? backend.alloc(n)
    wanted.push({name, shape, dest: view})
    return view
  }

  const patchWeight = want('vit.embeddings.patch_embeddings.projection.weight', [C, ch, PH, PW])
  const patchBias = want('vit.embeddings.patch_embeddings.projection.bias', [C])
  const clsToken = want('vit.embeddings.cls_token', [1, 1, C])
  const posEmbed = want('vit.embeddings.position_embeddings', [1, T, C])
  const layerViews = []
  for (let l = 0; l < config.numLayers; l++) {
    const p = `vit.encoder.layer.${l}`
    const qkvWeight = backend.alloc(3 * C * C)
    const qkvBias = config.qkvBias ? backend.alloc(3 * C) : null
    ;['query', 'key', 'value'].forEach((part, i) => {
      want(`${p}.attention.attention.${part}.weight`, [C, C], qkvWeight.subarray(i * C * C, (i + 1) * C * C))
      if (qkvBias) want(`${p}.attention.attention.${part}.bias`, [C], qkvBias.subarray(i * C, (i + 1) * C))
    })
    layerViews.push({
      ln1Gamma: want(`${p}.layernorm_before.weight`, [C]),
      ln1Beta: want(`${p}.layernorm_before.bias`, [C]),
      qkvWeight,
      qkvBias,
      attnOutWeight: want(`${p}.attention.output.dense.weight`, [C, C]),
      attnOutBias: want(`${p}.attention.output.dense.bias`, [C]),
      ln2Gamma: want(`${p}.layernorm_after.weight`, [C]),
      ln2Beta: want(`${p}.layernorm_after.bias`, [C]),
      fc1Weight: want(`${p}.intermediate.dense.weight`, [I, C]),
      fc1Bias: want(`${p}.intermediate.dense.bias`, [I]),
      fc2Weight: want(`${p}.output.dense.weight`, [C, I]),
      fc2Bias: want(`${p}.output.dense.bias`, [C]),
    })
  }
  const lnfGamma = want('vit.layernorm.weight', [C])
  const lnfBeta = want('vit.layernorm.bias', [C])
  const classifierWeight = want('classifier.weight', [numLabels, C])
  const classifierBias = want('classifier.bias', [numLabels])

  await readTensors(file, wanted)

  // Linears are prepared only once every view is filled: a backend may pack (copy) the weight here.
  const layers: VitLayerWeights[] = layerViews.map((v) => ({
    ...v,
    qkv: backend.prepareLinear(v.qkvWeight, v.qkvBias, 3 * C, C),
    attnOut: backend.prepareLinear(v.attnOutWeight, v.attnOutBias, C, C),
    fc1: backend.prepareLinear(v.fc1Weight, v.fc1Bias, I, C),
    fc2: backend.prepareLinear(v.fc2Weight, v.fc2Bias, C, I),
  }))
  return {
    patchWeight,
    patchBias,
    clsToken,
    posEmbed,
    layers,
    lnfGamma,
    lnfBeta,
    classifierWeight,
    classifierBias,
    patchEmbed: backend.prepareLinear(patchWeight, patchBias, C, ch * PH * PW),
    classifier: backend.prepareLinear(classifierWeight, classifierBias, numLabels, C),
    numParameters: wanted.reduce((a, t) => a + t.dest.length, 0),
  }
}

/** Checks that every wanted tensor is in the file with its shape and a readable dtype, then reads them in file order. */
export async function readTensors(file: string, wanted: WantedTensor[]): Promise<void> {
  const header = await readSafetensorsHeader(file)
  const byName = new Map<string, TensorInfo>(header.tensors.map((t) => [t.name, t]))
  const problems: string[] = []
  const missing: string[] = []
  for (const w of wanted) {
    const t = byName.get(w.name)
    if (!t) missing.push(`'${w.name}' ${fmtShape(w.shape)}`)
    else if (!sameShape(t.shape, w.shape)) problems.push(`tensor '${w.name}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(w.shape)}`)
    else if (!READABLE_DTYPES.has(t.dtype)) problems.push(`tensor '${w.name}' has dtype ${t.dtype}; vitrine reads F32, F16 or BF16 weights`)
  }
  if (missing.length) {
    const shown = missing.slice(0, 5).join(', ')
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : ''
    problems.unshift(`${missing.length} tensor${missing.length === 1 ? ' is' : 's are'} missing: ${shown}${more} (expected shapes from config.json)`)
  }
  if (problems.length) {
    const hint = missing.length === wanted.length ? 'the tensor names are not Hugging Face ViTForImageClassification names: run `vitrine convert` on the model first' : undefined
    throw new InvalidInputError(`${file}: ${problems.join('; ')}`, {file, hint})
  }

  const inFileOrder = wanted.map((w) => ({w, t: byName.get(w.name) as TensorInfo})).sort((a, b) => a.t.begin - b.t.begin)
  const fh = await openOrUsage(file)
  try {
    // One scratch buffer for the 16-bit dtypes, sized for the largest such tensor.
    const maxHalfBytes = Math.max(0, ...inFileOrder.filter(({t}) => t.dtype !== 'F32').map(({t}) => t.end - t.begin))
    const scratch = new Uint8Array(maxHalfBytes)
    for (const {w, t} of inFileOrder) {
      const at = header.dataStart + t.begin
      const bytes = t.end - t.begin
      if (t.dtype === 'F32') {
        await readFully(fh, new Uint8Array(w.dest.buffer, w.dest.byteOffset, bytes), at, file)
      } else {
        const raw = scratch.subarray(0, bytes)
        await readFully(fh, raw, at, file)
        const halves = new Uint16Array(raw.buffer, 0, bytes / 2)
        if (t.dtype === 'F16') widenF16(w.dest, halves)
        else widenBf16(w.dest, halves)
      }
    }
  } finally {
    await fh.close()
  }
}

async function readFully(fh: FileHandle, into: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0
  while (done < into.length) {
    const {bytesRead} = await fh.read(into, done, into.length - done, position + done)
    if (bytesRead === 0) throw new InvalidInputError(`${file}: file ended at byte offset ${position + done} while reading tensor data (was it truncated while loading?)`, {file})
    done += bytesRead
  }
}

/** float16 bits to float32 for all 65536 patterns, built on first use: widening is then one load per value. */
let f16Table: Float32Array | undefined

function widenF16(out: Float32Array, halves: Uint16Array): void {
  if (!f16Table) {
    f16Table = new Float32Array(65536)
    const u = new Uint32Array(f16Table.buffer)
    for (let h = 0; h < 65536; h++) u[h] = f16BitsToF32Bits(h)
  }
  const table = f16Table
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]]
}

/** IEEE half to single, exact (subnormal halves become normal singles; NaN payloads kept). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16
  const exp = (h >> 10) & 0x1f
  let mant = h & 0x3ff
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0
  if (mant === 0) return sign >>> 0
  let e = 113
  while ((mant & 0x400) === 0) {
    mant <<= 1
    e--
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0
}

/** bfloat16 is the high half of a float32: widening is a 16-bit shift. */
function widenBf16(out: Float32Array, halves: Uint16Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length)
  for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

function fmtShape(shape: number[]): string {
  return `[${shape.join(', ')}]`
}
