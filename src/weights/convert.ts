import {createHash} from 'node:crypto'
import {readdir} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'

import {writeDirAtomic, writeFileAtomic, writeStreamAtomic} from '../core/atomic.js'
import {InvalidInputError, UsageError} from '../core/errors.js'
import {statOrUsage} from '../core/fs.js'
import {checkOutputPath} from '../core/output.js'
import {MAX_JSON_FILE_BYTES, checkWithin, parseJsonText, readOptionalUserTextFile} from '../core/user-file.js'
import type {Progress} from '../core/progress.js'
import {silentProgress} from '../core/progress.js'
import {openCheckpoint} from './checkpoint.js'
import {DTYPE_BYTES, type FloatDtype, OUTPUT_DTYPES, type OutputDtypeName, convertFloatBytes, isFloatDtype} from './dtype.js'
import type {ModelConfig, ModelFamily, SourceScheme, TensorRecipe} from '../models/family.js'
import {FAMILIES, familyOfConfig, familyOfTensorNames, isTransformersConfig} from '../models/registry.js'
import {imagenetLabels, readLabelsFile} from './label-sources.js'
import {serializeSafetensorsHeader} from './safetensors.js'
import type {Checkpoint, Container, SourceTensor} from './source.js'
import {numel, permuteAxes} from './strided.js'

/**
 * `vitrine convert`: any supported checkpoint in, a Hugging Face folder out (config.json,
 * preprocessor_config.json, model.safetensors in HF names, tensors sorted by name). Tensors are read, re-laid and
 * written one at a time; the output folder appears whole at the end or not at all. Same input, same bytes out.
 * What the tensors are called, their shapes and layouts in each source format, and the config rules all come from
 * the model family (src/models/): this file only reads, checks, re-lays and writes.
 */

export type SourceFormat = 'safetensors' | 'pytorch' | 'timm' | 'jax'
export const SOURCE_FORMATS: readonly SourceFormat[] = ['safetensors', 'pytorch', 'timm', 'jax']
/** The `--from` choices: a format, or detect it from the content. */
export const SOURCE_FORMAT_CHOICES: ReadonlyArray<'auto' | SourceFormat> = ['auto', ...SOURCE_FORMATS]

export interface ConvertOptions {
  /** Force the source format instead of detecting it from the content. */
  from?: 'auto' | SourceFormat
  /** Element type of the written weights (default float32). */
  dtype?: OutputDtypeName
  /** Attention heads, for a checkpoint without a config whose hidden size is not a standard ViT's. */
  numHeads?: number
  /** Labels: a JSON id2label object or list, a config.json, or one label a line. */
  labelsFile?: string
  /** Replace a non-empty output directory (default: refuse). */
  overwrite?: boolean
}

export interface ConvertedTensor {
  name: string
  dtype: string
  shape: number[]
}

export interface ConvertedFile {
  /** Relative to outDir, with `/`. */
  path: string
  size: number
  sha256: string
}

export interface ConvertResult {
  outDir: string
  /** The weights file read. */
  source: string
  format: SourceFormat
  /** Where the geometry came from. */
  configSource: 'config.json' | 'tensor shapes'
  /** Where the labels came from. */
  labelsSource: 'labels file' | 'source config' | 'imagenet-1k' | 'generic'
  /** The config JSON written to config.json. */
  config: Record<string, unknown>
  tensors: ConvertedTensor[]
  files: ConvertedFile[]
}

/** Which containers and naming scheme each --from value means. */
const FORMAT_RULES: Record<SourceFormat, {containers: Container[]; scheme: SourceScheme}> = {
  safetensors: {containers: ['safetensors'], scheme: 'hf'},
  pytorch: {containers: ['torch-zip'], scheme: 'hf'},
  timm: {containers: ['torch-zip', 'safetensors'], scheme: 'timm'},
  jax: {containers: ['npz'], scheme: 'jax'},
}

const SCHEME_NAMES: Record<SourceScheme, string> = {hf: 'Hugging Face', timm: 'timm', jax: 'JAX'}

function formatOf(container: Container, scheme: SourceScheme): SourceFormat {
  if (scheme === 'timm') return 'timm'
  if (scheme === 'jax') return 'jax'
  return container === 'safetensors' ? 'safetensors' : 'pytorch'
}


/** A JSON file of the model folder `within` (a symlink out of it is refused, never read), or undefined when absent. */
async function readJsonObject(path: string, within: string): Promise<{raw: Record<string, unknown>; text: string} | undefined> {
  const text = await readOptionalUserTextFile(path, {within, maxBytes: MAX_JSON_FILE_BYTES})
  if (text === undefined) return undefined
  const raw = parseJsonText(text, path, {file: path})
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidInputError(`${path}: must be a JSON object`, {file: path})
  return {raw: raw as Record<string, unknown>, text}
}

interface OpenedSource {
  checkpoint: Checkpoint
  format: SourceFormat
  scheme: SourceScheme
}

/** The scheme of a checkpoint's tensor names, in whichever family recognises them. */
function detectScheme(names: readonly string[]): SourceScheme | undefined {
  return familyOfTensorNames(names)?.detectScheme(names)
}

/** "Hugging Face, timm or JAX": the schemes some family reads. */
function schemesText(): string {
  const all = [...new Set(FAMILIES.flatMap((f) => f.schemes))].map((s) => SCHEME_NAMES[s])
  return all.length > 1 ? `${all.slice(0, -1).join(', ')} or ${all.at(-1)}` : all.join('')
}

/** Opens `file` and decides its format; with a forced format the container must fit and its scheme is taken as given. */
async function openAs(file: string, from: 'auto' | SourceFormat): Promise<OpenedSource> {
  const checkpoint = await openCheckpoint(file)
  try {
    if (from !== 'auto') {
      const rule = FORMAT_RULES[from]
      if (!rule.containers.includes(checkpoint.container)) {
        throw new InvalidInputError(`${file}: --from ${from} expects ${rule.containers.join(' or ')} content, but the file is ${checkpoint.container}`, {file})
      }
      const seen = detectScheme([...checkpoint.tensors.keys()])
      if (seen && seen !== rule.scheme) {
        throw new InvalidInputError(`${file}: --from ${from} expects ${SCHEME_NAMES[rule.scheme]} tensor names, but the names are ${SCHEME_NAMES[seen]} ones`, {file})
      }
      return {checkpoint, format: from, scheme: rule.scheme}
    }
    const scheme = detectScheme([...checkpoint.tensors.keys()])
    if (!scheme) {
      const some = [...checkpoint.tensors.keys()].slice(0, 5).map((n) => `'${n}'`).join(', ')
      throw new InvalidInputError(`${file}: the tensor names (${some || 'none'}) are not ViT names in ${schemesText()} form`, {file, hint: 'Use --from to say which form it is.'})
    }
    return {checkpoint, format: formatOf(checkpoint.container, scheme), scheme}
  } catch (error) {
    await checkpoint.close()
    throw error
  }
}

/** The weights file inside a model folder: model.safetensors, pytorch_model.bin, then any other weights file, the first whose content fits `from`. */
async function openFolder(dir: string, from: 'auto' | SourceFormat): Promise<OpenedSource> {
  const names = (await readdir(dir)).sort()
  const preferred = ['model.safetensors', 'pytorch_model.bin']
  const others = names.filter((n) => !preferred.includes(n) && /\.(safetensors|bin|pth|pt|ckpt|npz)$/.test(n))
  const candidates = [...preferred.filter((n) => names.includes(n)), ...others]
  if (candidates.length === 0) {
    const sharded = names.find((n) => n.endsWith('.index.json'))
    throw new InvalidInputError(
      sharded ? `${dir}: sharded checkpoints (${sharded}) are not supported; ViT-sized models fit one file` : `${dir}: no weights file (model.safetensors, pytorch_model.bin, *.pth, *.npz) in this folder`,
      {file: dir},
    )
  }
  const refused: string[] = []
  for (const name of candidates) {
    try {
      await checkWithin(join(dir, name), dir)
      return await openAs(join(dir, name), from)
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error
      if (candidates.length === 1) throw error
      refused.push(`  ${name}: ${error.message.replace(`${join(dir, name)}: `, '')}`)
      if (from === 'auto' && name === candidates[0]) throw error // the preferred file is broken: say so, do not fall back silently
    }
  }
  throw new InvalidInputError(`${dir}: no weights file here is ${from === 'auto' ? 'readable' : `in ${from} form`}:\n${refused.join('\n')}`, {file: dir})
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`

/** Every source tensor present, float, and of the shape the geometry asks; nothing left over. All problems at once. */
function checkTensors(rs: TensorRecipe[], checkpoint: Checkpoint, geometryFrom: string): void {
  const expected = new Map<string, number[]>()
  for (const r of rs) expected.set(r.source, r.sourceShape)
  // Mis-shaped and mis-typed tensors first (the most telling), then missing, then unexpected ones.
  const wrong: string[] = []
  const missing: string[] = []
  for (const [name, shape] of expected) {
    const t = checkpoint.tensors.get(name)
    if (!t) missing.push(`tensor '${name}' is missing (expected shape ${fmtShape(shape)})`)
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) wrong.push(`tensor '${name}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`)
    else if (!isFloatDtype(t.dtype)) wrong.push(`tensor '${name}' has dtype ${t.dtype}; weights must be F32, F16, BF16 or F64`)
  }
  const problems = [...wrong, ...missing]
  for (const [name, t] of checkpoint.tensors) if (!expected.has(name)) problems.push(`unexpected tensor '${name}' (shape ${fmtShape(t.shape)})`)
  if (problems.length === 0) return
  const shown = problems.slice(0, 20)
  if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more`)
  throw new InvalidInputError(
    `${checkpoint.file}: ${problems.length === 1 ? 'a tensor does' : `${problems.length} tensors do`} not match the ViT geometry (${geometryFrom}):\n  - ${shown.join('\n  - ')}`,
    {file: checkpoint.file},
  )
}


/** Reads source tensors through a two-entry cache: timm's fused qkv weight and bias feed three outputs each. */
class SourceCache {
  private entries: Array<[string, Uint8Array]> = []
  async read(t: SourceTensor): Promise<Uint8Array> {
    const hit = this.entries.find(([n]) => n === t.name)
    if (hit) return hit[1]
    const bytes = await t.read()
    this.entries.push([t.name, bytes])
    if (this.entries.length > 2) this.entries.shift()
    return bytes
  }
}

/** One canonical tensor: the source's bytes, sliced, viewed, permuted and re-encoded as `dtype`. */
async function buildTensor(r: TensorRecipe, src: SourceTensor, cache: SourceCache, dtype: FloatDtype): Promise<Uint8Array> {
  const elem = DTYPE_BYTES[src.dtype]
  let bytes = await cache.read(src)
  let shape = src.shape
  if (r.rows) {
    const rowBytes = numel(shape.slice(1)) * elem
    bytes = bytes.subarray(r.rows.start * rowBytes, (r.rows.start + r.rows.count) * rowBytes)
    shape = [r.rows.count, ...shape.slice(1)]
  }
  if (r.view) shape = r.view
  if (r.perm) bytes = permuteAxes(bytes, elem, shape, r.perm)
  return convertFloatBytes(bytes, src.dtype as FloatDtype | 'F64', dtype)
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** What `convert --json` prints. */
export async function convertCheckpoint(src: string, outDir: string, options: ConvertOptions = {}, progress: Progress = silentProgress): Promise<ConvertResult> {
  return (await convertModel(src, outDir, options, progress)).result
}

/** The model a conversion wrote, as its family parsed it: what `package` builds on without re-reading anything. */
export interface ConvertedModel {
  family: ModelFamily
  /** The family's parse of the written config.json. */
  config: ModelConfig
  /** Class names in id order, as written to id2label. */
  labels: string[]
}

/** Converts, returning the command's result and the parsed model beside it. */
export async function convertModel(
  src: string, outDir: string, options: ConvertOptions = {}, progress: Progress = silentProgress,
): Promise<{result: ConvertResult; model: ConvertedModel}> {
  const from = options.from ?? 'auto'
  const dtypeName = options.dtype ?? 'float32'
  const dtype = OUTPUT_DTYPES[dtypeName]
  if (!dtype) throw new UsageError(`--dtype ${dtypeName}: expected one of ${Object.keys(OUTPUT_DTYPES).join(', ')}`)
  if (options.numHeads !== undefined && (!Number.isSafeInteger(options.numHeads) || options.numHeads <= 0)) throw new UsageError(`--num-heads must be a positive integer, got ${options.numHeads}`)
  const srcPath = resolve(src)
  const out = resolve(outDir)
  const srcStat = await statOrUsage(srcPath)
  const folder = srcStat.isDirectory() ? srcPath : dirname(srcPath)
  const opened = srcStat.isDirectory() ? await openFolder(srcPath, from) : await openAs(srcPath, from)
  const {checkpoint, format, scheme} = opened
  try {
    // A config.json in the model folder (or beside the weights file, as the Hub lays them out) fixes the geometry;
    // without one, the family reads it off the tensor shapes. Either way the family's parser checks it.
    const configPath = join(folder, 'config.json')
    const sourceConfig = await readJsonObject(configPath, folder)
    const useConfig = sourceConfig && isTransformersConfig(sourceConfig.raw) ? sourceConfig.raw : undefined
    const family = useConfig ? familyOfConfig(useConfig, configPath) : (familyOfTensorNames([...checkpoint.tensors.keys()]) ?? FAMILIES[0])
    const rawConfig = useConfig ?? family.configFromTensors(scheme, checkpoint.tensors, checkpoint.file, {numHeads: options.numHeads})
    const parsed = family.parseConfig(rawConfig, useConfig ? configPath : checkpoint.file, {numLabelsFallback: family.numLabelsOf(scheme, checkpoint.tensors) ?? 2})
    const heads = 'numHeads' in parsed.config ? parsed.config.numHeads : undefined
    if (useConfig && options.numHeads !== undefined && options.numHeads !== heads) {
      throw new UsageError(`--num-heads ${options.numHeads} contradicts num_attention_heads ${heads} in ${configPath}`)
    }
    const geometryFrom = `${family.describeConfig(parsed.config)}, ${useConfig ? `from ${configPath}` : 'derived from the tensor shapes'}`
    const rs = family.tensorTable(parsed.config, scheme)
    checkTensors(rs, checkpoint, geometryFrom)

    // Labels: --labels, then the source config, then ImageNet-1k for 1000 classes, then LABEL_i.
    const numLabels = parsed.config.numLabels
    let labels: string[]
    let labelsSource: ConvertResult['labelsSource']
    if (options.labelsFile) {
      labels = await readLabelsFile(options.labelsFile)
      labelsSource = 'labels file'
      if (labels.length !== numLabels) throw new InvalidInputError(`${options.labelsFile}: ${labels.length} labels, but the classifier has ${numLabels} classes`, {file: options.labelsFile})
    } else if (useConfig?.id2label) {
      labels = parsed.labels
      labelsSource = 'source config'
    } else if (numLabels === 1000) {
      labels = await imagenetLabels()
      labelsSource = 'imagenet-1k'
    } else {
      labels = parsed.labels
      labelsSource = 'generic'
    }

    const config = family.outputConfig(rawConfig, labels, dtypeName)
    const configText = JSON.stringify(config, null, 2) + '\n'
    // What package, verify and the engine will read back from config.json: parsed by the same rules.
    const written = family.parseConfig(config, join(out, 'config.json'))
    const preText = (await readJsonObject(join(folder, 'preprocessor_config.json'), folder))?.text ?? JSON.stringify(family.preprocessorDefaults(written.config), null, 2) + '\n'

    // Output tensors in name order (as Python's sorted()), each from its recipe.
    const ordered = [...rs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const tensors: ConvertedTensor[] = ordered.map((r) => ({name: r.name, dtype, shape: r.shape}))
    const {head} = serializeSafetensorsHeader(tensors, {format: 'pt'})
    const totalBytes = tensors.reduce((a, t) => a + numel(t.shape) * DTYPE_BYTES[dtype], 0)

    const inputs = [checkpoint.file, ...(srcStat.isDirectory() ? [srcPath] : []), ...(options.labelsFile ? [options.labelsFile] : [])]
    await checkOutputPath(out, {kind: 'dir', inputs, force: options.overwrite ?? false})
    const files: ConvertedFile[] = []
    await writeDirAtomic(out, async (tmp) => {
      await writeFileAtomic(join(tmp, 'config.json'), configText)
      await writeFileAtomic(join(tmp, 'preprocessor_config.json'), preText)
      const hash = createHash('sha256')
      let size = 0
      const cache = new SourceCache()
      progress.start(`Converting ${basename(checkpoint.file)}`, totalBytes, 'bytes')
      try {
        await writeStreamAtomic(join(tmp, 'model.safetensors'), async (write) => {
          const put = async (chunk: Uint8Array): Promise<void> => {
            hash.update(chunk)
            size += chunk.length
            await write(chunk)
          }
          await put(head)
          // Read and re-lay tensor i+1 while tensor i is written: reads and writes overlap, two tensors in memory.
          const build = (i: number): Promise<Uint8Array> => buildTensor(ordered[i], checkpoint.tensors.get(ordered[i].source)!, cache, dtype)
          let next = ordered.length ? build(0) : undefined
          for (let i = 0; i < ordered.length; i++) {
            const bytes = await next!
            next = i + 1 < ordered.length ? build(i + 1) : undefined
            // A failed prefetch is awaited (and thrown) on the next turn; keep it from being reported as unhandled.
            next?.catch(() => undefined)
            await put(bytes)
            progress.advance(bytes.length)
          }
        })
      } finally {
        progress.stop()
      }
      files.push(
        {path: 'config.json', size: Buffer.byteLength(configText), sha256: sha256(Buffer.from(configText))},
        {path: 'model.safetensors', size, sha256: hash.digest('hex')},
        {path: 'preprocessor_config.json', size: Buffer.byteLength(preText), sha256: sha256(Buffer.from(preText))},
      )
    })
    const result: ConvertResult = {
      outDir: out,
      source: checkpoint.file,
      format,
      configSource: useConfig ? 'config.json' : 'tensor shapes',
      labelsSource,
      config,
      tensors,
      files,
    }
    return {result, model: {family, config: written.config, labels: written.labels}}
  } finally {
    await checkpoint.close()
  }
}
