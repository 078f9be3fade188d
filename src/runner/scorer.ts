/**
 * The Scorer: one model loaded once, scoring lists of encoded images (PNG/JPEG/... bytes) the way the managed
 * endpoint does, one outcome per image. It is what `vitrine score`, `serve`, `batch` and `evaluate` share.
 *
 *   const scorer = await Scorer.load('examples/models/vit-digits', {threads: 2})
 *   const [first] = await scorer.score([{id: 'a.png', bytes}], {topK: 5})
 *   if (first.ok) console.log(first.predictions)          // [{label, score}, ...] best first
 *   scorer.dispose()
 *
 * One bad image never fails the others: an image that does not decode is `{ok: false, error}` naming its id, and
 * the good ones of the same list are still batched through the network together.
 */
import {type VitrineError, isVitrineError} from '../core/errors.js'
import type {Backend} from '../engine/backend.js'
import {type Prediction, type LoadedModel, classify, loadModel} from '../engine/classifier.js'
import {defaultThreads, selectBackend} from '../engine/wasm/index.js'
import {readImageHeader} from '../image/index.js'
import type {PreprocessorConfig} from '../image/preprocessor-config.js'
import {processPixelBudget} from '../image/pixel-budget.js'
import {PreprocessPool, preprocessInPool, preprocessWorkersAvailable} from '../image/preprocess-pool.js'

export type {Prediction} from '../engine/classifier.js'

export type BackendChoice = 'wasm' | 'ts'
export const BACKEND_CHOICES: readonly BackendChoice[] = ['wasm', 'ts']

export interface ScorerOptions {
  /** Kernel threads (wasm backend); default every core. */
  threads?: number
  /** 'wasm' (default, falls back to 'ts' where WebAssembly SIMD is missing) or 'ts' (plain TypeScript kernels). */
  backend?: BackendChoice
  /** Images run through the network at once (the preallocated activations); default 8. */
  maxBatch?: number
  /** Refuse images with more pixels than this before decoding (default PIL's MAX_IMAGE_PIXELS). */
  maxPixels?: number
  /**
   * Decode and preprocess on this many worker threads, off the event loop (serve); 0 (default) runs them in-process.
   * Workers exist only in the compiled package; from the TypeScript sources this is in-process whatever it says.
   */
  preprocessWorkers?: number
}

/** One encoded image to score; `id` names it in errors (a file name, `input_data[3]`, a CSV row). */
export interface ScoreInput {
  id: string
  bytes: Uint8Array
}

export interface ScoreOptions {
  /** Labels per image, best first (default 5, as the Hugging Face pipeline); capped at the number of labels. */
  topK?: number
  /** Also return every class's probability (class-id order). */
  probabilities?: boolean
  /** Also return the raw logits (class-id order), e.g. for a multilabel sigmoid. */
  logits?: boolean
}

export type ScoreOutcome =
  | {ok: true; predictions: Prediction[]; probabilities?: Float32Array; logits?: Float32Array}
  | {ok: false; error: string; /** The error class, e.g. InvalidInputError. */ kind: string}

/** Images decoded and preprocessed by Scorer.prepare, ready for Scorer.run. */
export interface PreparedImages {
  items: readonly ScoreInput[]
  /** The failures so far (images that did not decode), by index. */
  outcomes: ScoreOutcome[]
  pixels: Array<Float32Array | undefined>
}

export const DEFAULT_TOP_K = 5
export const DEFAULT_MAX_BATCH = 8

export class Scorer implements ScoringEngine {
  private disposed = false

  private constructor(
    readonly model: LoadedModel,
    private readonly backend: Backend,
    /** The threads the kernels run on (1 for the TypeScript backend). */
    readonly threads: number,
    readonly backendName: string,
    /** Images the network runs at once. */
    readonly maxBatch: number,
    private readonly maxPixels: number | undefined,
    private readonly pool: PreprocessPool | undefined,
  ) {}

  /** Loads the model folder (Hugging Face, MLflow or `vitrine package` layout) on the chosen backend. */
  static async load(dir: string, options: ScorerOptions = {}): Promise<Scorer> {
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`)
    const threads = options.threads ?? defaultThreads()
    const backend = await selectBackend({threads, prefer: options.backend ?? 'wasm'})
    try {
      const model = await loadModel(dir, {backend, maxBatch})
      const isWasm = backend.name !== 'ts'
      const workers = options.preprocessWorkers ?? 0
      const pool = workers > 0 && preprocessWorkersAvailable() ? new PreprocessPool(workers) : undefined
      return new Scorer(model, backend, isWasm ? threads : 1, backend.name, maxBatch, options.maxPixels, pool)
    } catch (error) {
      backend.dispose()
      throw error
    }
  }

  /** Class names in class-id order. */
  get labels(): string[] {
    return this.model.labels
  }

  /**
   * Scores every image; the result has one outcome per input, in order. Images are decoded concurrently, then the
   * ones that decoded run through the network in batches of up to maxBatch (the model chunks larger batches).
   * Only user errors (bad bytes, over-size images) become per-image outcomes; anything else is a bug and throws.
   */
  async score(items: readonly ScoreInput[], options: ScoreOptions = {}): Promise<ScoreOutcome[]> {
    return this.run(await this.prepare(items), options)
  }

  /**
   * The first half of score(): decode and preprocess every image (concurrently, within the process's decoded-pixel
   * budget, on the preprocessing workers when there are some). Serve calls it outside its one-at-a-time engine lock,
   * so that large images being decoded never hold up the network for small ones.
   */
  async prepare(items: readonly ScoreInput[]): Promise<PreparedImages> {
    if (this.disposed) throw new Error('internal: prepare() called on a disposed Scorer')
    return prepareImages(items, this.model.preprocessor, this.pool, this.maxPixels)
  }

  /** The second half of score(): the network on the prepared images, one outcome per image. */
  run(prepared: PreparedImages, options: ScoreOptions = {}): ScoreOutcome[] {
    if (this.disposed) throw new Error('internal: run() called on a disposed Scorer')
    const topK = options.topK ?? DEFAULT_TOP_K
    if (!Number.isSafeInteger(topK) || topK < 1) throw new RangeError(`topK must be a positive integer, got ${topK}`)
    const {items, pixels} = prepared
    const outcomes = [...prepared.outcomes]
    const good = pixels.flatMap((p, i) => (p ? [i] : []))
    if (good.length === 0) return outcomes
    const {inputHeight: H, inputWidth: W} = this.model
    const ch = this.model.config.numChannels
    const size = ch * H * W
    // The model's size is fixed by its position embeddings; with do_resize false an image of another size cannot run.
    const batch = new Float32Array(good.length * size)
    let n = 0
    for (const i of good) {
      const p = pixels[i] as Float32Array
      if (p.length !== size) {
        outcomes[i] = {ok: false, kind: 'InvalidInputError', error: `${items[i].id}: the image is not ${W}x${H}, and the processor does not resize (do_resize is false)`}
        continue
      }
      batch.set(p, n * size)
      good[n++] = i
    }
    if (n === 0) return outcomes
    const results = classify(this.model, batch.subarray(0, n * size), n, topK)
    for (let b = 0; b < n; b++) {
      const r = results[b]
      outcomes[good[b]] = {
        ok: true,
        predictions: r.top,
        ...(options.probabilities ? {probabilities: Float32Array.from(r.probs)} : {}),
        ...(options.logits ? {logits: Float32Array.from(r.logits)} : {}),
      }
    }
    return outcomes
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    void this.pool?.close()
    this.model.dispose()
    this.backend.dispose()
  }
}

/**
 * Decodes and preprocesses every image for a model whose processor is `pre`: concurrently, each waiting for the
 * process's decoded-pixel budget, on `pool` when there is one and the image is large. Images that do not decode
 * become failed outcomes naming them; anything else is a bug and throws.
 */
export async function prepareImages(items: readonly ScoreInput[], pre: PreprocessorConfig, pool: PreprocessPool | undefined, maxPixels: number | undefined): Promise<PreparedImages> {
  const outcomes: ScoreOutcome[] = Array.from({length: items.length})
  const pixels: Array<Float32Array | undefined> = await Promise.all(
    items.map(async (item, i) => {
      // The process's decoded-pixel budget: an image waits until its pixels fit (see image/pixel-budget.ts).
      const declared = declaredPixels(item.bytes)
      const release = await processPixelBudget.acquire(declared)
      try {
        return await preprocessInPool(pool, declared, item.bytes, pre, item.id, maxPixels)
      } catch (error) {
        if (!isVitrineError(error)) throw error
        outcomes[i] = failure(error)
        return undefined
      } finally {
        release()
      }
    }),
  )
  return {items, outcomes, pixels}
}

/**
 * What `serve` needs of a scorer: the model's labels, decoding (prepare) and the network (run). A Scorer runs the
 * network on the calling thread; an InferenceThread (./inference-thread.ts) on a worker thread of its own, so that
 * the event loop stays free while it runs.
 */
export interface ScoringEngine {
  readonly labels: string[]
  readonly backendName: string
  readonly threads: number
  prepare(items: readonly ScoreInput[]): Promise<PreparedImages>
  run(prepared: PreparedImages, options?: ScoreOptions): ScoreOutcome[] | Promise<ScoreOutcome[]>
  dispose(): void
}

/** The pixels an image's header declares (0 when it has none: decoding then says what is wrong). */
export function declaredPixels(bytes: Uint8Array): number {
  try {
    const {width, height} = readImageHeader(bytes, 'image')
    return width * height
  } catch {
    return 0
  }
}

function failure(error: VitrineError): ScoreOutcome {
  return {ok: false, error: error.message, kind: error.name}
}
