import {createHash} from 'node:crypto'
import {mkdir, readFile, rename, stat, writeFile} from 'node:fs/promises'
import {dirname, join, relative, resolve} from 'node:path'

import {writeDirAtomic} from '../core/atomic.js'
import {checkOutputPath} from '../core/output.js'
import {InvalidInputError, UsageError} from '../core/errors.js'
import {type Progress, silentProgress} from '../core/progress.js'
import {servingVersion} from '../models/model-folder.js'
import {ONNX_OPSET, exportOnnx} from '../onnx/export.js'
import {loadSkuCatalog} from '../skus/catalog.js'
import {validatePaths} from '../assets/validate.js'
import {type ConvertOptions, convertModel} from '../weights/convert.js'
import {
  type Scenario,
  type SpecOverrides,
  type WeightsLocation,
  assetYaml,
  buildSpec,
  defaultSpecTemplatePath,
  modelYaml,
  readSpecTemplate,
  specString,
  specTask,
  toYaml,
  yamlScalar,
} from './asset-yaml.js'
import {defaultModelName} from './default-name.js'
import {MANIFEST_FILE, type ManifestEntry, buildManifest, folderBytes, serializeManifest} from './manifest.js'
import {scenarioSkus} from './skus.js'
import {renderPackageTemplate} from './templates.js'
import {parsePreprocessorConfig} from '../image/preprocessor.js'
import type {ProcessorKind} from '../image/preprocessor-config.js'

/** The image processor class MLmodel names for each kind of processor vitrine runs. */
const PROCESSOR_CLASSES: Record<ProcessorKind, string> = {vit: 'ViTImageProcessor', beit: 'BeitImageProcessor', bit: 'BitImageProcessor'}

/**
 * `vitrine package`: a checkpoint in, a folder a registry takes out —
 *
 *   DIR/mlflow_model_folder/  MLmodel, conda.yaml, python_env.yaml, requirements.txt, model/config.json,
 *                             model/model.safetensors, components/image_processor/preprocessor_config.json
 *                             [, model.onnx]
 *   DIR/asset/                asset.yaml, spec.yaml, model.yaml, description.md, MLmodel
 *   DIR/manifest.json         size and sha256 of every other file
 *
 * laid out as the registered google/vit-base-patch16-224 (azureml-assets, mlflow 2.10.2 transformers flavor).
 * The same inputs give a byte-identical folder; the folder appears complete or not at all.
 */

/** The environment the registered ViT was saved with; the serving image expects these. */
export const MLFLOW_ENV = {pythonVersion: '3.8.19', mlflowVersion: '2.10.2', transformersVersion: '4.40.1'} as const

export const LAYOUT = {
  mlflowDir: 'mlflow_model_folder',
  modelDir: 'mlflow_model_folder/model',
  config: 'mlflow_model_folder/model/config.json',
  weights: 'mlflow_model_folder/model/model.safetensors',
  preprocessor: 'mlflow_model_folder/components/image_processor/preprocessor_config.json',
  mlmodel: 'mlflow_model_folder/MLmodel',
  onnx: 'mlflow_model_folder/model.onnx',
  assetDir: 'asset',
} as const

export interface PackageOptions extends SpecOverrides {
  /** How to read SRC (format, output dtype, heads, labels), as `vitrine convert` takes them. */
  convert?: Omit<ConvertOptions, 'overwrite'>
  /** A spec.yaml to start from instead of the shipped one (the real ViT asset's). */
  specTemplate?: string
  /** Where model.yaml says the weights will live; default: the package's own mlflow_model_folder. */
  location?: WeightsLocation
  /** Also write mlflow_model_folder/model.onnx. */
  onnx?: boolean
  /**
   * MLmodel's utc_time_created: 'now', an ISO-8601 time, or undefined for SOURCE_DATE_EPOCH or else the Unix epoch,
   * so that by default two runs give identical bytes.
   */
  created?: string
  /** SKU names per scenario, replacing the template's lists; min-SKU specs are computed from the SKU catalog. */
  skuNames?: Partial<Record<Scenario, string[]>>
  /** A SKU catalog file replacing the bundled one (for --*-sku and for validating the asset). */
  skuCatalog?: string
  /** Replace an existing non-empty output folder (default: refuse). */
  force?: boolean
}

export interface PackageResult {
  outDir: string
  source: string
  sourceFormat: string
  name: string
  version: string
  task: string
  dtype: string
  numLabels: number
  parameterCount: number
  modelSizeBytes: number
  onnx: boolean
  weightsLocation: WeightsLocation
  manifest: string
  /** `vitrine validate` of the written asset folder (a package with errors is never written). */
  validation: {errors: number; warnings: number; warningMessages: string[]}
  files: ManifestEntry[]
}

const TORCH_DTYPES: Record<string, string> = {F32: 'torch.float32', F16: 'torch.float16', BF16: 'torch.bfloat16'}

/** "YYYY-MM-DD HH:MM:SS.ffffff", the form MLflow writes. */
export function mlflowTime(date: Date): string {
  const iso = date.toISOString() // 2024-05-03T04:19:08.175Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${iso.slice(20, 23)}000`
}

export function resolveCreated(created: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (created === 'now') return mlflowTime(new Date())
  if (created !== undefined) {
    const d = new Date(created)
    if (Number.isNaN(d.getTime())) throw new UsageError(`--created ${JSON.stringify(created)}: not a time (use 'now' or ISO-8601, e.g. 2024-05-03T04:19:08Z)`)
    return mlflowTime(d)
  }
  const epoch = env.SOURCE_DATE_EPOCH
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d+$/.test(epoch)) throw new UsageError(`SOURCE_DATE_EPOCH=${epoch}: must be whole seconds since 1970`)
    return mlflowTime(new Date(Number(epoch) * 1000))
  }
  return mlflowTime(new Date(0))
}

function numberList(v: unknown): string {
  return Array.isArray(v) ? v.map((x) => String(x)).join(', ') : String(v)
}

/** Escapes a label for a JSON string inside the markdown sample. */
function jsonInner(s: string): string {
  return JSON.stringify(s).slice(1, -1)
}

/** "a, b, c, ... (1000 in all)" for the description. */
function labelsPreview(labels: string[]): string {
  const shown = labels.slice(0, 5).map((l) => `\`${l.replaceAll('`', "'")}\``)
  return labels.length > 5 ? `${shown.join(', ')}, ...` : shown.join(', ')
}

export async function packageModel(src: string, outDir: string, options: PackageOptions = {}, progress: Progress = silentProgress): Promise<PackageResult> {
  const isDefaultTemplate = options.specTemplate === undefined
  const template = await readSpecTemplate(options.specTemplate ?? defaultSpecTemplatePath())
  const catalog = loadSkuCatalog(options.skuCatalog)
  const skus: SpecOverrides['skus'] = {}
  for (const [scenario, names] of Object.entries(options.skuNames ?? {}) as Array<[Scenario, string[] | undefined]>) {
    if (names?.length) skus[scenario] = scenarioSkus(scenario, names, catalog)
  }
  // Without --name, a name of the source's own (the shipped template's is google's ViT); a custom template's is kept.
  const keepTemplateName = !isDefaultTemplate && typeof template.name === 'string' && template.name !== ''
  const nameOption = options.name ?? (keepTemplateName ? undefined : await defaultModelName(src))
  const spec = buildSpec(template, {...options, name: nameOption, skus: {...options.skus, ...skus}}, {isDefaultTemplate})
  const name = String(spec.name)
  const version = String(spec.version)
  const created = resolveCreated(options.created)
  const location: WeightsLocation = options.location ?? {type: 'local', uri: `../${LAYOUT.mlflowDir}`}
  const task = specTask(spec)
  let result: Omit<PackageResult, 'files' | 'outDir'> | undefined
  let files: ManifestEntry[] = []
  let validation: PackageResult['validation'] = {errors: 0, warnings: 0, warningMessages: []}

  // Replacing DIR must never delete the checkpoint being packaged, nor a folder the user did not mean to replace.
  const outAbs = resolve(outDir)
  const inputs = [src, options.specTemplate, options.convert?.labelsFile, options.skuCatalog].filter((p): p is string => p !== undefined)
  await checkOutputPath(outDir, {kind: 'dir', inputs, force: options.force ?? false})

  await writeDirAtomic(outAbs, async (tmp) => {
    const at = (rel: string): string => join(tmp, rel)
    // SRC in any format becomes the canonical Hugging Face files, written straight into the model folder.
    // Its result says everything the package needs of them (config, labels, tensors, hashes): nothing is re-read.
    const {result: converted, model} = await convertModel(src, at(LAYOUT.modelDir), options.convert ?? {}, progress)
    const {format} = converted
    const {family, config, labels} = model
    await mkdir(join(at(LAYOUT.preprocessor), '..'), {recursive: true})
    await rename(join(at(LAYOUT.modelDir), 'preprocessor_config.json'), at(LAYOUT.preprocessor))

    const dtypes = [...new Set(converted.tensors.map((t) => t.dtype))]
    const dtype = dtypes.length === 1 ? dtypes[0] : dtypes.join('+')
    const torchDtype = TORCH_DTYPES[dtypes[0]] ?? 'torch.float32'
    const parameterCount = converted.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0)
    const pre = JSON.parse(await readFile(at(LAYOUT.preprocessor), 'utf8')) as Record<string, unknown>
    // convert hashed each file as it wrote it; the manifest reuses those hashes instead of reading 346 MB again.
    const hashed = new Map(converted.files.map((f) => [`${LAYOUT.modelDir}/${f.path}`, {size: f.size, sha256: f.sha256}]))
    const preprocessorHash = hashed.get(`${LAYOUT.modelDir}/preprocessor_config.json`)
    hashed.delete(`${LAYOUT.modelDir}/preprocessor_config.json`)
    if (preprocessorHash) hashed.set(LAYOUT.preprocessor, preprocessorHash)
    const weights = hashed.get(LAYOUT.weights)
    if (!weights) throw new Error('package: convert reported no model.safetensors')

    // The transformers version the model is served with, so that the packaged model is computed as its source is
    // (DINOv2's position interpolation depends on it): the one the engine follows for the source (its MLmodel's, else
    // its config.json's); when the source names none, the engine runs the current code, so a family whose arithmetic
    // depends on the version records a release of the current code; any other family the catalog's default.
    const sourceFolder = (await stat(resolve(src))).isDirectory() ? resolve(src) : dirname(resolve(src))
    const sourceVersion = await servingVersion(sourceFolder, await readFile(at(LAYOUT.config), 'utf8'))
    const transformersVersion =
      sourceVersion !== undefined && /^\d+\.\d+/.test(sourceVersion) ? sourceVersion : (family.currentTransformersVersion ?? MLFLOW_ENV.transformersVersion)
    const onnx = options.onnx ? await exportOnnx(at(LAYOUT.modelDir), at(LAYOUT.onnx), progress, {transformersVersion}) : undefined
    const env = {python_version: MLFLOW_ENV.pythonVersion, mlflow_version: MLFLOW_ENV.mlflowVersion, transformers_version: transformersVersion}
    await writeFile(at(`${LAYOUT.mlflowDir}/conda.yaml`), await renderPackageTemplate('conda.yaml', env))
    await writeFile(at(`${LAYOUT.mlflowDir}/python_env.yaml`), await renderPackageTemplate('python_env.yaml', {python_version: env.python_version}))
    await writeFile(at(`${LAYOUT.mlflowDir}/requirements.txt`), await renderPackageTemplate('requirements.txt', {mlflow_version: env.mlflow_version, transformers_version: env.transformers_version}))

    // model_size_bytes as MLflow computes it: every file of the model folder, written before MLmodel itself.
    const modelSizeBytes = await folderBytes(at(LAYOUT.mlflowDir), ['MLmodel'])

    const baseModel = specString(spec, 'huggingFaceModelId') ?? name
    // Deterministic: the same name, version and weights give the same id (MLflow's is a random uuid4 hex).
    const modelUuid = createHash('sha256').update(`${name}\0${version}\0${weights.sha256}`).digest('hex').slice(0, 32)
    const mlmodel = await renderPackageTemplate('MLmodel', {
      ...env,
      source_model_name: yamlScalar(baseModel),
      base_model_name: yamlScalar(baseModel),
      task: yamlScalar(task),
      pipeline_model_type: family.architectures[0],
      image_processor_type: PROCESSOR_CLASSES[parsePreprocessorConfig(pre, at(LAYOUT.preprocessor), family.processorKind ?? 'vit').kind],
      torch_dtype: torchDtype,
      model_size_bytes: modelSizeBytes,
      model_uuid: modelUuid,
      utc_time_created: `'${created}'`,
    })
    await writeFile(at(LAYOUT.mlmodel), mlmodel)

    const description = await renderPackageTemplate(family.modelCard.template, {
      ...family.modelCard.fields(config),
      name,
      task,
      publisher: specString(spec, 'publisher') ?? 'unknown',
      license: specString(spec, 'license') ?? 'unknown',
      parameter_count: parameterCount.toLocaleString('en-US'),
      weights_dtype: dtype,
      weights_bytes: weights.size.toLocaleString('en-US'),
      weights_sha256: weights.sha256,
      num_labels: labels.length,
      labels_preview: labelsPreview(labels),
      image_mean: numberList(pre.image_mean),
      image_std: numberList(pre.image_std),
      label_0: jsonInner(labels[0]),
      label_1: jsonInner(labels[1] ?? labels[0]),
      onnx_row: onnx
        ? `\n|ONNX|\`model.onnx\`, opset ${ONNX_OPSET}: input \`pixel_values\` [batch, ${onnx.inputShape.join(', ')}] float32, output \`logits\` [batch, ${labels.length}]|`
        : '',
    })

    const assetDir = at(LAYOUT.assetDir)
    await mkdir(assetDir, {recursive: true})
    await writeFile(join(assetDir, 'asset.yaml'), assetYaml())
    await writeFile(join(assetDir, 'spec.yaml'), toYaml(spec))
    await writeFile(join(assetDir, 'model.yaml'), modelYaml(location))
    await writeFile(join(assetDir, 'description.md'), description)
    await writeFile(join(assetDir, 'MLmodel'), mlmodel)

    // The asset must pass `vitrine validate`; a package that would not is not written at all.
    const checked = await validatePaths([assetDir], {skuCatalog: options.skuCatalog})
    const diagnostics = checked.assets.flatMap((a) => a.diagnostics)
    const errors = diagnostics.filter((d) => d.severity === 'error')
    const warnings = diagnostics.filter((d) => d.severity !== 'error')
    const where = (file: string): string => `asset/${relative(assetDir, file) || file}`
    if (errors.length) {
      throw new InvalidInputError(
        `the asset for ${name} would not pass vitrine validate:\n${errors.map((d) => `  ${where(d.file)}:${d.line}:${d.column} ${d.message} (${d.rule})`).join('\n')}`,
        {hint: 'Fix the flags or the --spec-template named above.'},
      )
    }
    validation = {errors: 0, warnings: warnings.length, warningMessages: warnings.map((d) => `${where(d.file)}:${d.line}: ${d.message}`)}

    progress.start('Writing the manifest', await folderBytes(tmp), 'bytes')
    const manifest = await buildManifest(tmp, name, version, (n) => progress.advance(n), hashed)
    await writeFile(join(tmp, MANIFEST_FILE), serializeManifest(manifest))
    progress.stop()
    files = manifest.files
    result = {
      source: src,
      sourceFormat: format,
      name,
      version,
      task,
      dtype,
      numLabels: labels.length,
      parameterCount,
      modelSizeBytes,
      onnx: Boolean(options.onnx),
      weightsLocation: location,
      manifest: MANIFEST_FILE,
      validation,
    }
  })
  if (!result) throw new Error('package: the build produced no result')
  return {outDir: resolve(outDir), ...result, files}
}
