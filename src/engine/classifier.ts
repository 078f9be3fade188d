/**
 * The engine's API: load a model folder once (any family of src/models/registry.ts), then classify batches of
 * preprocessed pixels.
 *
 *   const model = await loadModel('examples/models/vit-digits')
 *   const logits = model.forward(pixelValues, 1)          // [B, numLabels]
 *   const top = topK(softmax(logits, model.config.numLabels), 3, model.labels)
 *   model.dispose()
 *
 * Three layouts are accepted: a Hugging Face folder (config.json, preprocessor_config.json, model.safetensors; other
 * files ignored), an MLflow model folder (model/ + components/image_processor/), and a `vitrine package` output root
 * (DIR/mlflow_model_folder/...).
 */
import {stat} from 'node:fs/promises'
import {join} from 'node:path'

import {InvalidInputError, UsageError} from '../core/errors.js'
import {statOrUsage} from '../core/fs.js'
import {MAX_JSON_FILE_BYTES, checkWithin, openUserFile, parseJsonText, readUserTextFile} from '../core/user-file.js'
import type {PreprocessorConfig} from '../image/preprocessor-config.js'
import {parsePreprocessorConfig} from '../image/preprocessor.js'
import type {FamilyModel, ModelConfig, ModelFamily} from '../models/family.js'
import {servingInputSize, servingVersion} from '../models/model-folder.js'
import {parseModelConfigText} from '../models/registry.js'
import type {Backend} from './backend.js'
import {softmaxNaive} from './kernels/reference.js'
import {checkParameters, readParameters} from './read-parameters.js'

export interface LoadModelOptions {
  /**
   * The kernels to run on (the caller keeps ownership). Default: a new backend owned and disposed by the model, from
   * `selectBackend()`: WebAssembly SIMD on every core when this runtime has it, else the plain TypeScript kernels.
   */
  backend?: Backend
  /** Images the preallocated activations hold; larger batches run in chunks of this size. Default 1. */
  maxBatch?: number
}

export interface LoadedModel {
  /** The folder holding config.json and model.safetensors (after resolving MLflow / package layouts). */
  dir: string
  /** The model family config.json names, and its parsed config (a VitConfig for ViT, ...). */
  family: ModelFamily
  config: ModelConfig
  /** Class names in class-id order (config.json id2label). */
  labels: string[]
  preprocessor: PreprocessorConfig
  backend: Backend
  /** Where each input file was found. */
  files: {config: string; weights: string; preprocessor: string}
  /** The family's model: its parameter views and forward pass. */
  model: FamilyModel
  /** The pixel_values size forward takes: config.json's image size, or the processor's output for DINOv2. */
  inputHeight: number
  inputWidth: number
  /** The transformers version whose arithmetic the model follows where versions differ (see servingVersion). */
  transformersVersion: string | undefined
  /** pixelValues [B, numChannels, imageHeight, imageWidth] (NCHW float32) to logits [B, numLabels] (a new array). */
  forward(pixelValues: Float32Array, batch: number): Float32Array
  /** Releases the backend if the model created it (a backend passed in stays the caller's). */
  dispose(): void
}

/** The files of one model, wherever the layout put them. */
interface ModelFiles {
  dir: string
  config: string
  weights: string
  preprocessor: string
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

/** Finds config.json, model.safetensors and preprocessor_config.json in any of the three accepted layouts. */
export async function resolveModelFiles(dir: string): Promise<ModelFiles> {
  const st = await statOrUsage(dir)
  if (!st.isDirectory()) throw new UsageError(`${dir}: is not a directory; give the model folder (holding config.json and model.safetensors)`, {file: dir})

  if (await isFile(join(dir, 'config.json'))) {
    // Hugging Face layout. In an MLflow folder's model/ the processor lives in ../components/image_processor/.
    const candidates = [join(dir, 'preprocessor_config.json'), join(dir, '..', 'components', 'image_processor', 'preprocessor_config.json')]
    return {dir, config: join(dir, 'config.json'), weights: await findWeights(dir), preprocessor: await findPreprocessor(dir, candidates)}
  }
  if (await isFile(join(dir, 'model', 'config.json'))) {
    // MLflow transformers flavour: model/ holds the network, components/image_processor/ the processor.
    const model = join(dir, 'model')
    const candidates = [join(dir, 'components', 'image_processor', 'preprocessor_config.json'), join(model, 'preprocessor_config.json')]
    return {dir: model, config: join(model, 'config.json'), weights: await findWeights(model), preprocessor: await findPreprocessor(dir, candidates)}
  }
  if (await isDir(join(dir, 'mlflow_model_folder'))) return resolveModelFiles(join(dir, 'mlflow_model_folder'))
  throw new InvalidInputError(
    `${dir}: not a model folder: no config.json (Hugging Face layout), model/config.json (MLflow model folder) or mlflow_model_folder/ (vitrine package output) in it`,
    {file: dir},
  )
}

async function findWeights(dir: string): Promise<string> {
  const file = join(dir, 'model.safetensors')
  if (await isFile(file)) return file
  // There but not a regular file (a link to /dev/zero, a FIFO): the user-file opener's refusal, not "no such file".
  if (await stat(file).then(() => true, () => false)) {
    const {fh} = await openUserFile(file) // throws the refusal naming the kind of file
    await fh.close()
    return file
  }
  const others = ['model.safetensors.index.json', 'pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack']
  const found = []
  for (const name of others) if (await isFile(join(dir, name))) found.push(name)
  const what = found.length ? ` (found ${found.join(', ')}: vitrine scores a single model.safetensors)` : ''
  throw new InvalidInputError(`${file}: no such file${what}`, {file, hint: found.length ? 'run `vitrine convert` on the folder to write the canonical model.safetensors' : undefined})
}

async function findPreprocessor(dir: string, candidates: string[]): Promise<string> {
  for (const c of candidates) if (await isFile(c)) return c
  throw new InvalidInputError(`${dir}: no preprocessor_config.json (looked for ${candidates.join(', ')})`, {file: candidates[0]})
}

/**
 * No file of a model folder may be a symlink that leaves it: config and weights stay in the model folder, the
 * processor in the MLflow folder it was found through (`components/image_processor/` sits beside `model/`).
 */
async function checkModelFilesWithin(files: ModelFiles): Promise<void> {
  await checkWithin(files.config, files.dir)
  await checkWithin(files.weights, files.dir)
  const pre = files.preprocessor
  const mlflowRoot = join(pre, '..', '..', '..')
  await checkWithin(pre, /[\\/]components[\\/]image_processor[\\/]preprocessor_config\.json$/.test(pre) ? mlflowRoot : files.dir)
}

function readText(file: string): Promise<string> {
  return readUserTextFile(file, {maxBytes: MAX_JSON_FILE_BYTES})
}

async function readJson(file: string): Promise<unknown> {
  return parseJsonText(await readText(file), file, {file})
}

/** Loads a model folder (any of the three layouts) and prepares it for `forward`. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const maxBatch = options.maxBatch ?? 1
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`)
  const files = await resolveModelFiles(dir)
  await checkModelFilesWithin(files)
  const configText = await readText(files.config)
  const {family, config, labels} = parseModelConfigText(configText, files.config)
  const preprocessor = parsePreprocessorConfig(await readJson(files.preprocessor), files.preprocessor, family.processorKind ?? 'vit')
  const {inputHeight, inputWidth} = servingInputSize(family, config, preprocessor, files)
  const transformersVersion = await servingVersion(files.dir, configText)

  // The weights' tensor table against the config before a byte is allocated: a config.json claiming hidden 16384 next
  // to a 1 MB model.safetensors is refused here, not by the allocator (exit 4) half-way through.
  await checkParameters(files.weights, family.tensorTable(config))

  const ownsBackend = options.backend === undefined
  // Imported on demand: a caller that brings its own backend never loads the WebAssembly module.
  const backend = options.backend ?? (await (await import('./wasm/index.js')).selectBackend())
  try {
    const serving = {inputHeight, inputWidth, transformersVersion, weightsFile: files.weights}
    const model = await family.createModel(config, backend, maxBatch, (tensors) => readParameters(files.weights, tensors), serving)
    const {numChannels: ch, numLabels} = config
    const H = inputHeight
    const W = inputWidth
    const imageFloats = ch * H * W
    let disposed = false
    return {
      dir: files.dir,
      family,
      config,
      labels,
      preprocessor,
      backend,
      files: {config: files.config, weights: files.weights, preprocessor: files.preprocessor},
      model,
      inputHeight,
      inputWidth,
      transformersVersion,
      forward(pixelValues, batch) {
        if (disposed) throw new Error('internal: forward() called on a disposed model')
        if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`)
        if (pixelValues.length !== batch * imageFloats) {
          throw new InvalidInputError(
            `pixel values hold ${pixelValues.length} floats; the model takes ${batch} x ${ch} x ${H} x ${W} = ${batch * imageFloats} (batch x channels x height x width)`,
          )
        }
        const logits = new Float32Array(batch * numLabels)
        for (let b0 = 0; b0 < batch; b0 += maxBatch) {
          const n = Math.min(maxBatch, batch - b0)
          const chunk = model.forward(pixelValues.subarray(b0 * imageFloats, (b0 + n) * imageFloats), n)
          logits.set(chunk, b0 * numLabels)
        }
        // NaN or Infinity weights (or a processor dividing by an image_std of 0) give logits no probability can come
        // from: softmax would turn them into `"score": null`. The model is at fault, never the image: say so.
        const bad = firstNonFinite(logits)
        if (bad >= 0) {
          throw new InvalidInputError(
            `${files.weights}: the model's output is not a number (logit ${bad % numLabels} of image ${Math.floor(bad / numLabels)} is ${logits[bad]}); its weights hold NaN or Infinity, or overflow float32`,
            {file: files.weights, hint: `check the weights (and image_mean/image_std in ${files.preprocessor})`},
          )
        }
        return logits
      },
      dispose() {
        if (disposed) return
        disposed = true
        if (ownsBackend) backend.dispose()
      },
    }
  } catch (error) {
    if (ownsBackend) backend.dispose()
    throw error
  }
}

/** The index of the first NaN or infinite value of `xs`, or -1. */
export function firstNonFinite(xs: Float32Array): number {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) return i
  return -1
}

/**
 * Row-wise softmax of logits [B, numLabels] (max-subtracted, float64 sums), as torch.softmax(logits, -1): the
 * reference kernel's arithmetic (one softmax in the engine), into a new array.
 */
export function softmax(logits: Float32Array, numLabels: number): Float32Array {
  const out = new Float32Array(logits.length)
  softmaxNaive(out, logits, logits.length / numLabels, numLabels)
  return out
}

export interface Prediction {
  label: string
  score: number
}

/**
 * The k highest of one image's probabilities (probs [numLabels]), best first; equal scores keep class-id order, as
 * torch.topk does on CPU. k is capped at the number of labels.
 */
export function topK(probs: Float32Array, k: number, labels: string[]): Prediction[] {
  if (probs.length !== labels.length) throw new RangeError(`topK: ${probs.length} scores for ${labels.length} labels`)
  const ids = Array.from({length: probs.length}, (_, i) => i)
  ids.sort((a, b) => probs[b] - probs[a] || a - b)
  return ids.slice(0, Math.max(0, Math.min(k, ids.length))).map((i) => ({label: labels[i], score: probs[i]}))
}

export interface Classification {
  /** This image's logits [numLabels] and their softmax. */
  logits: Float32Array
  probs: Float32Array
  /** The k best labels, best first. */
  top: Prediction[]
}

/**
 * Runs `batch` preprocessed images through the model and returns, per image, its logits, probabilities and top-k
 * labels: what score, serve, batch and evaluate all report.
 */
export function classify(model: LoadedModel, pixelValues: Float32Array, batch: number, k: number): Classification[] {
  const n = model.config.numLabels
  const logits = model.forward(pixelValues, batch)
  const probs = softmax(logits, n)
  return Array.from({length: batch}, (_, b) => {
    const p = probs.subarray(b * n, (b + 1) * n)
    return {logits: logits.subarray(b * n, (b + 1) * n), probs: p, top: topK(p, k, model.labels)}
  })
}
