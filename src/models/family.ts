/**
 * The model-family seam: what one architecture family (ViT, BEiT, SwinV2, DINOv2, ...) tells the rest of vitrine.
 * Each family lives in `src/models/<family>/` and exports one `ModelFamily` object; `src/models/registry.ts` lists
 * them and picks one from a config.json. Consumers (weights/ for convert, package/, onnx/, engine/) go through this
 * interface and never name a family's tensors or fields themselves.
 *
 * A family owns:
 * - its config.json parser and validation (`parseConfig`): the one set of rules every verb applies;
 * - its tensor table (`tensorTable`): every Hugging Face tensor with its shape, and for each source format the
 *   family reads (Hugging Face, timm, JAX, ...) the source tensor it is made from and the layout transform;
 * - its image processor's defaults (`preprocessorDefaults`), written when a source has no preprocessor_config.json;
 * - its parameter views and forward pass for the engine (`createModel`), allocated through the backend;
 * - its training model (`createTrainModel`), when `vitrine finetune` trains it.
 */
import type {Backend} from '../engine/backend.js'
import type {TrainKernels} from '../engine/train/kernels.js'
import type {TrainModel} from '../engine/train/model.js'
import type {ProcessorKind} from '../image/preprocessor-config.js'
import type {OnnxGraph} from '../onnx/graph.js'
import type {SourceTensor} from '../weights/source.js'
import type {ParameterTensor} from './parameter-tensor.js'

/** What every family's parsed config says, whatever else it holds: what goes in and what comes out. */
export interface ModelConfig {
  /** Input channels (3 for RGB). */
  numChannels: number
  /** The image size the model takes (pixel_values are [B, numChannels, imageHeight, imageWidth]). */
  imageHeight: number
  imageWidth: number
  /** Classifier outputs. */
  numLabels: number
}

/** A parsed config.json: the family's config and the class names in id order. */
export interface ParsedConfig<C extends ModelConfig = ModelConfig> {
  config: C
  labels: string[]
}

export interface ParseConfigOptions {
  /**
   * Classes when config.json has neither id2label nor num_labels. transformers assumes 2; `convert` passes the
   * checkpoint's classifier size instead, since it writes id2label itself.
   */
  numLabelsFallback?: number
}

/**
 * How one canonical (Hugging Face) tensor is made from one tensor of a source checkpoint: take `rows` of axis 0,
 * view the result as the row-major shape `view`, then permute its axes (out axis k = in axis perm[k]).
 */
export interface TensorRecipe {
  /** Hugging Face name and shape: what `convert` writes and the engine reads. */
  name: string
  shape: number[]
  /** The tensor's name in the source, and the shape it must have there. */
  source: string
  sourceShape: number[]
  rows?: {start: number; count: number}
  view?: number[]
  perm?: number[]
}

/** A tensor name scheme a family reads checkpoints in; 'hf' (Hugging Face transformers) every family has. */
export type SourceScheme = 'hf' | 'timm' | 'jax'

export type {ParameterTensor, TensorView} from './parameter-tensor.js'

/** A model ready to run: weights loaded into the backend, activations preallocated for `maxBatch` images. */
export interface FamilyModel {
  /** pixels [B, numChannels, imageHeight, imageWidth] -> logits [B, numLabels]; a view overwritten by the next call. */
  forward(pixels: Float32Array, batch: number): Float32Array
  readonly maxBatch: number
  /** Parameters (floats) loaded. */
  readonly numParameters: number
  /**
   * Every tensor of the table and the view it was loaded into. A backend may pack linear weights in place once
   * loaded (the WebAssembly one does): read these as the checkpoint had them only on the TypeScript backend.
   */
  readonly parameters: readonly ParameterTensor[]
  /** The pixel_values size forward takes when it is not config.json's image size (DINOv2 at its processor's crop). */
  readonly inputHeight?: number
  readonly inputWidth?: number
}

/** How the model will be served, beyond config.json: what the engine's loader knows from the model folder. */
export interface ServingContext {
  /** The pixel_values size the image processor produces. */
  inputHeight: number
  inputWidth: number
  /** The transformers version that serves the model: MLmodel's in an MLflow folder, else config.json's; undefined = current. */
  transformersVersion?: string
  /** The weights file, named in errors of what is computed from the weights at load. */
  weightsFile: string
}

export interface ModelFamily<C extends ModelConfig = ModelConfig> {
  /** config.json's `model_type` (e.g. "vit"). */
  readonly modelType: string
  /** config.json `architectures` entries this family runs (e.g. "ViTForImageClassification"). */
  readonly architectures: readonly string[]
  /** Source tensor-name schemes `convert` reads for this family ('hf' first). */
  readonly schemes: readonly SourceScheme[]

  /** Parses and checks config.json's content; every error is an InvalidInputError naming `file` and the field. */
  parseConfig(json: unknown, file: string, options?: ParseConfigOptions): ParsedConfig<C>

  /** Every canonical tensor of a model of this config, in a stable order, as made from `scheme`'s tensors. */
  tensorTable(config: C, scheme?: SourceScheme): TensorRecipe[]

  /** The scheme a set of tensor names is in, or undefined when these are not this family's names in any scheme. */
  detectScheme(names: Iterable<string>): SourceScheme | undefined

  /** The classifier's class count as a checkpoint's head tensor has it (for a config.json without id2label). */
  numLabelsOf(scheme: SourceScheme, tensors: ReadonlyMap<string, SourceTensor>): number | undefined

  /**
   * A config.json (Hugging Face form) for a checkpoint that came without one, read off its tensor shapes. Families
   * that only read Hugging Face folders may refuse (their checkpoints always come with a config).
   */
  configFromTensors(scheme: SourceScheme, tensors: ReadonlyMap<string, SourceTensor>, file: string, options: {numHeads?: number}): Record<string, unknown>

  /**
   * The config.json to write: `source` (the checkpoint's config.json, or configFromTensors' one) kept field for
   * field, with the family's model_type and architectures, `labels` as id2label/label2id, and `torchDtype` set.
   */
  outputConfig(source: Record<string, unknown>, labels: readonly string[], torchDtype: string): Record<string, unknown>

  /** A one-line summary of the geometry for messages ("hidden 768, 12 layers, ..."). */
  describeConfig(config: C): string

  /** The preprocessor_config.json of this family's image processor, for a source that has none. */
  preprocessorDefaults(config: C): Record<string, unknown>

  /**
   * The model card `package` writes (asset/description.md): a template under templates/package/ and the values of
   * its family-specific placeholders (geometry); package fills in the rest (name, task, weights, labels, ...).
   */
  readonly modelCard: {template: string; fields(config: C): Record<string, string | number>}

  /**
   * The ONNX graph of the model (input `pixel_values` of the served size `serving.inputHeight` x `inputWidth`, output
   * `logits`); absent when export is not implemented.
   */
  buildOnnxGraph?(g: OnnxGraph, config: C, serving: ServingContext): void
  /** The ONNX model's graph name. */
  readonly onnxModelName: string

  /**
   * The engine's side: the parameter views (allocated with `backend.alloc`), filled by `load` (called once with
   * every tensor of the table and the view it lands in), then the forward pass with its run state.
   */
  createModel(config: C, backend: Backend, maxBatch: number, load: (tensors: ParameterTensor[]) => Promise<void>, serving?: ServingContext): Promise<FamilyModel>

  /**
   * The training model (src/engine/train/): parameters, gradients, AdamW moments and activations for `maxBatch`
   * images of the serving context's input size, all zero (the caller loads the weights). Absent: the family does not
   * train yet, and `vitrine finetune` says so.
   */
  createTrainModel?(config: C, kernels: TrainKernels, maxBatch: number, serving: ServingContext): TrainModel

  /**
   * True when the model takes images of another size than config.json's image_size (DINOv2 resamples its position
   * embeddings to the input grid); otherwise the image processor must produce exactly that size.
   */
  readonly anyInputSize?: boolean

  /**
   * For a family whose arithmetic depends on the transformers version (DINOv2: the position interpolation changed in
   * 4.45), the version `package` records for a source that names none: the engine runs such a source as the current
   * code does, so the package names a release of the current code, which then scores the same. Absent: the version
   * changes nothing the family computes (package records its default).
   */
  readonly currentTransformersVersion?: string

  /** The image processor whose defaults apply when preprocessor_config.json names none (ViT's when absent). */
  readonly processorKind?: ProcessorKind
}

