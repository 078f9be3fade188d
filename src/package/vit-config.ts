import {InvalidInputError} from '../core/errors.js'
import {parseUserText, readUserText} from './read.js'

/**
 * The facts of a Hugging Face ViTForImageClassification `config.json` that packaging, verification and the ONNX
 * export depend on, checked field by field so a bad config is reported by field name rather than as a crash later.
 */
export interface VitConfigFacts {
  hiddenSize: number
  numLayers: number
  numHeads: number
  intermediateSize: number
  patchSize: number
  imageSize: number
  numChannels: number
  layerNormEps: number
  qkvBias: boolean
  hiddenAct: string
  /** Labels in class-index order (id2label). */
  labels: string[]
  /** The config's `torch_dtype`, when stated. */
  torchDtype?: string
}

function positiveInt(obj: Record<string, unknown>, key: string, file: string, fallback?: number): number {
  const v = obj[key] ?? fallback
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidInputError(`${file}: ${key} must be a positive integer, got ${JSON.stringify(obj[key])}`, {file})
  }
  return v
}

export function parseVitConfig(json: unknown, file: string): VitConfigFacts {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidInputError(`${file}: not a JSON object`, {file})
  const c = json as Record<string, unknown>
  if (c.model_type !== undefined && c.model_type !== 'vit') {
    throw new InvalidInputError(`${file}: model_type is ${JSON.stringify(c.model_type)}; vitrine packages ViT models ("vit")`, {file})
  }
  const hiddenSize = positiveInt(c, 'hidden_size', file, 768)
  const numHeads = positiveInt(c, 'num_attention_heads', file, 12)
  if (hiddenSize % numHeads !== 0) {
    throw new InvalidInputError(`${file}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`, {file})
  }
  const imageSize = positiveInt(c, 'image_size', file, 224)
  const patchSize = positiveInt(c, 'patch_size', file, 16)
  if (imageSize % patchSize !== 0) throw new InvalidInputError(`${file}: image_size ${imageSize} is not a multiple of patch_size ${patchSize}`, {file})
  const eps = c.layer_norm_eps ?? 1e-12
  if (typeof eps !== 'number' || !(eps > 0)) throw new InvalidInputError(`${file}: layer_norm_eps must be a positive number`, {file})
  const hiddenAct = c.hidden_act ?? 'gelu'
  if (hiddenAct !== 'gelu') {
    throw new InvalidInputError(`${file}: hidden_act ${JSON.stringify(hiddenAct)} is not supported (vitrine implements "gelu", the exact erf form)`, {file})
  }
  let labels: string[]
  if (c.id2label !== undefined) {
    if (typeof c.id2label !== 'object' || c.id2label === null || Array.isArray(c.id2label)) {
      throw new InvalidInputError(`${file}: id2label must be an object {"0": "label", ...}`, {file})
    }
    const entries = c.id2label as Record<string, unknown>
    const n = Object.keys(entries).length
    labels = []
    for (let i = 0; i < n; i++) {
      const label = entries[String(i)]
      if (typeof label !== 'string') throw new InvalidInputError(`${file}: id2label is missing class ${i} (keys must be 0..${n - 1})`, {file})
      labels.push(label)
    }
  } else {
    const n = positiveInt(c, 'num_labels', file, 2)
    labels = Array.from({length: n}, (_, i) => `LABEL_${i}`)
  }
  return {
    hiddenSize,
    numLayers: positiveInt(c, 'num_hidden_layers', file, 12),
    numHeads,
    intermediateSize: positiveInt(c, 'intermediate_size', file, 3072),
    patchSize,
    imageSize,
    numChannels: positiveInt(c, 'num_channels', file, 3),
    layerNormEps: eps,
    qkvBias: c.qkv_bias === undefined ? true : Boolean(c.qkv_bias),
    hiddenAct,
    labels,
    torchDtype: typeof c.torch_dtype === 'string' ? c.torch_dtype : undefined,
  }
}

/** Reads and checks a config.json. */
export async function readVitConfig(file: string): Promise<VitConfigFacts> {
  return parseVitConfig(parseUserText(await readUserText(file), file, JSON.parse, 'JSON'), file)
}

/** Number of tokens: one per patch plus the CLS token. */
export function tokenCount(c: VitConfigFacts): number {
  return (c.imageSize / c.patchSize) ** 2 + 1
}

/** The Hugging Face ViTForImageClassification tensors a config implies, with their shapes. */
export function expectedVitTensors(c: VitConfigFacts): Array<{name: string; shape: number[]}> {
  const C = c.hiddenSize
  const out: Array<{name: string; shape: number[]}> = [
    {name: 'vit.embeddings.cls_token', shape: [1, 1, C]},
    {name: 'vit.embeddings.position_embeddings', shape: [1, tokenCount(c), C]},
    {name: 'vit.embeddings.patch_embeddings.projection.weight', shape: [C, c.numChannels, c.patchSize, c.patchSize]},
    {name: 'vit.embeddings.patch_embeddings.projection.bias', shape: [C]},
  ]
  for (let l = 0; l < c.numLayers; l++) {
    const p = `vit.encoder.layer.${l}`
    for (const n of ['query', 'key', 'value']) {
      out.push({name: `${p}.attention.attention.${n}.weight`, shape: [C, C]})
      if (c.qkvBias) out.push({name: `${p}.attention.attention.${n}.bias`, shape: [C]})
    }
    out.push(
      {name: `${p}.attention.output.dense.weight`, shape: [C, C]},
      {name: `${p}.attention.output.dense.bias`, shape: [C]},
      {name: `${p}.intermediate.dense.weight`, shape: [c.intermediateSize, C]},
      {name: `${p}.intermediate.dense.bias`, shape: [c.intermediateSize]},
      {name: `${p}.output.dense.weight`, shape: [C, c.intermediateSize]},
      {name: `${p}.output.dense.bias`, shape: [C]},
      {name: `${p}.layernorm_before.weight`, shape: [C]},
      {name: `${p}.layernorm_before.bias`, shape: [C]},
      {name: `${p}.layernorm_after.weight`, shape: [C]},
      {name: `${p}.layernorm_after.bias`, shape: [C]},
    )
  }
  out.push(
    {name: 'vit.layernorm.weight', shape: [C]},
    {name: 'vit.layernorm.bias', shape: [C]},
    {name: 'classifier.weight', shape: [c.labels.length, C]},
    {name: 'classifier.bias', shape: [c.labels.length]},
  )
  return out
}

/** Shape mismatches between a checkpoint's tensors and the config: missing, unexpected, mis-shaped, each named. */
export function compareTensorShapes(
  c: VitConfigFacts,
  actual: ReadonlyArray<{name: string; shape: number[]}>,
): string[] {
  const problems: string[] = []
  const have = new Map(actual.map((t) => [t.name, t.shape]))
  const expected = expectedVitTensors(c)
  const want = new Set(expected.map((t) => t.name))
  for (const t of expected) {
    const shape = have.get(t.name)
    if (!shape) problems.push(`tensor '${t.name}' is missing (expected shape [${t.shape.join(', ')}])`)
    else if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
      problems.push(`tensor '${t.name}' has shape [${shape.join(', ')}], expected [${t.shape.join(', ')}]`)
    }
  }
  for (const t of actual) if (!want.has(t.name)) problems.push(`tensor '${t.name}' is unexpected for this config`)
  return problems
}
