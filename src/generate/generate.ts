/**
 * `vitrine generate KIND`: derives Azure ML YAMLs from a validated model asset, applies `--set` edits, checks every
 * document against the bundled schemas, and only then writes (atomically) or hands back the text.
 */
import {readFile, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {writeFileAtomic} from '../core/atomic.js'
import {InvalidInputError, UsageError} from '../core/errors.js'
import {readUserFile} from '../core/user-file.js'
import {readModelAssetFacts} from '../assets/asset.js'
import type {ModelAssetFacts, Scenario} from '../assets/facts.js'
import {loadSkuCatalog} from '../skus/catalog.js'
import {assertAssetValid} from './asset-gate.js'
import {azureMlSchemaFile, azureMlSchemaUrl, type AzureMlSchemaName} from '../azureml/schemas.js'
import {buildBatchEndpoint} from './batch-endpoint.js'
import {
  GENERATE_KINDS,
  type BuildContext,
  type BuildOutput,
  type DataInput,
  type DocumentRole,
  type GenerateKind,
  type GeneratedYaml,
} from './context.js'
import {generateDefaults} from './defaults.js'
import {renderYaml} from './emit.js'
import {buildEvaluation} from './evaluation.js'
import {buildFinetune} from './finetune.js'
import {checkRequestedInstanceType, selectInstanceType, type InstanceTypeChoice} from './instance-type.js'
import {buildModel} from './model-version.js'
import {buildOnlineEndpoint} from './online.js'
import {applySetAssignment, parseSetAssignment, type SetAssignment} from './set-path.js'
import {buildTrainingData} from './train-data.js'
import {buildDataFolder, readPlacedRows, type DataFolder} from './data-folder.js'
import {checkAzureMlYaml} from '../azureml/yaml-check.js'

export {GENERATE_KINDS, type GenerateKind} from './context.js'

export interface GenerateOptions {
  kind: string
  asset: string
  registry?: string
  /** Output folder; undefined = return the texts (the command prints them). */
  out?: string
  set?: string[]
  /** --allow-sku-outside-list: accept a --set instance_type outside the asset's allow list. */
  allowSkuOutsideList?: boolean
  multilabel?: boolean
  compute?: string
  trainData?: string
  testData?: string
  imageUrlPrefix?: string
  skuCatalog?: string
  /** Skip the asset validation gate (tests of the generators alone). */
  skipValidation?: boolean
  /** Where relative paths start when printing (default: the working directory). */
  cwd?: string
}

/** One generated file, as the --json result lists it (schemas/generate-result.schema.json). */
export interface GeneratedFileResult {
  /** The Azure ML schema name (managedOnlineDeployment, ...), or `jsonl` for a data file. */
  kind: string
  /** endpoint | deployment | job | model | mltable | data */
  role: DocumentRole | 'data'
  /** Where it was written, or would be written under --out (relative to the output folder). */
  path: string
  /** The `$schema` URL the YAML states (null for data files). */
  schema: string | null
  /** The bundled schema it was checked against (null for data files). */
  checkedWith: string | null
  /** created / updated / unchanged when written; printed when not. */
  status: 'created' | 'updated' | 'unchanged' | 'printed'
  /** The text, when it was not written to a file. */
  content?: string
}

export interface GenerateResult {
  kind: GenerateKind
  asset: {path: string; name: string; version: string; form: 'current' | 'legacy'}
  registry: string
  out: string | null
  instanceType: (InstanceTypeChoice & {location: string | null}) | null
  files: GeneratedFileResult[]
  warnings: string[]
}

const SCENARIO_OF: Record<GenerateKind, Scenario | undefined> = {
  'online-endpoint': 'inference',
  'batch-endpoint': 'inference',
  finetune: 'finetune',
  evaluation: 'evaluation',
  model: undefined,
}

const BUILDERS: Record<GenerateKind, (ctx: BuildContext) => BuildOutput> = {
  'online-endpoint': buildOnlineEndpoint,
  'batch-endpoint': buildBatchEndpoint,
  finetune: buildFinetune,
  evaluation: buildEvaluation,
  model: buildModel,
}

/** Where a kind writes the instance type into its YAML (batch and finetune name a cluster instead). */
function instanceTypeLocation(kind: GenerateKind, docs: GeneratedYaml[]): {doc: GeneratedYaml; path: string[]} | undefined {
  if (kind === 'online-endpoint') {
    const doc = docs.find((d) => d.role === 'deployment')
    return doc && {doc, path: ['instance_type']}
  }
  if (kind === 'evaluation') {
    const doc = docs.find((d) => d.role === 'job')
    return doc && {doc, path: ['jobs', generateDefaults().evaluation.job_name, 'inputs', 'instance_type']}
  }
  return undefined
}

function getIn(data: unknown, path: string[]): unknown {
  let node = data
  for (const k of path) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined
  return node
}

/** The kind named on the command line, or a usage error listing the kinds. */
export function parseKind(kind: string): GenerateKind {
  if ((GENERATE_KINDS as readonly string[]).includes(kind)) return kind as GenerateKind
  throw new UsageError(`unknown KIND '${kind}': expected one of ${GENERATE_KINDS.join(', ')}`)
}

const REGISTRY_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{1,32}$/

function issuesText(issues: Array<{line: number; column: number; message: string}>, file: string): string {
  return issues.map((i) => `${file}:${i.line}:${i.column}: ${i.message}`).join('\n')
}

/**
 * Builds, edits and checks the documents of a kind; writes nothing. `texts` holds each generated file's text,
 * `copies` the source of each image a data folder carries (by its path under the output folder).
 */
export async function generate(options: GenerateOptions): Promise<{result: GenerateResult; texts: Map<string, string>; copies: Map<string, string>}> {
  const kind = parseKind(options.kind)
  const cwd = options.cwd ?? process.cwd()
  const registry = options.registry ?? 'azureml'
  if (!REGISTRY_RE.test(registry)) throw new UsageError(`--registry ${registry}: not a registry name (letters, digits, '-' and '_', 2 to 33 characters)`)
  if (options.compute !== undefined && !/^[A-Za-z][A-Za-z0-9-]{1,31}$/.test(options.compute)) {
    throw new UsageError(`--compute ${options.compute}: not a compute name (2 to 32 letters, digits or '-', starting with a letter)`)
  }
  const assignments: SetAssignment[] = (options.set ?? []).map(parseSetAssignment)
  if (options.trainData !== undefined && kind !== 'finetune') throw new UsageError('--train-data is for KIND finetune')
  if (options.testData !== undefined && kind !== 'evaluation') throw new UsageError('--test-data is for KIND evaluation')
  if (options.multilabel && kind !== 'finetune' && kind !== 'evaluation') throw new UsageError('--multilabel is for KIND finetune and evaluation')
  if (options.trainData !== undefined && options.out === undefined) {
    throw new UsageError('--train-data writes MLTable folders beside the YAML: give --out DIR')
  }
  if (options.testData !== undefined && options.out === undefined) {
    throw new UsageError('--test-data writes a data folder (MLTable, JSONL and the images it names) beside the YAML: give --out DIR')
  }

  const facts: ModelAssetFacts = await readModelAssetFacts(resolve(cwd, options.asset))
  const catalog = loadSkuCatalog(options.skuCatalog)
  if (!options.skipValidation) await assertAssetValid(options.asset, {cwd, ...(options.skuCatalog ? {skuCatalog: options.skuCatalog} : {})})
  if (kind !== 'model') {
    const tasks = new Set([...(facts.task ? [facts.task] : []), ...facts.inferenceTasks])
    if (!tasks.has('image-classification')) {
      throw new InvalidInputError(`${facts.name}: the model's task is ${[...tasks].join(', ') || 'not stated'}; vitrine generates ${kind} YAMLs for image-classification models`, {file: facts.dir})
    }
    if (kind === 'finetune' && !facts.finetuningTasks.includes('image-classification')) {
      throw new InvalidInputError(`${facts.name}: the asset declares no image-classification finetuning task, so it cannot be finetuned with the image classification component`, {file: facts.dir})
    }
  }

  const baseDir = resolve(cwd, options.out ?? '.')
  const warnings: string[] = []
  const scenario = SCENARIO_OF[kind]
  const bare = assignments.filter((a) => a.path.length === 1 && a.path[0] === 'instance_type')
  let instanceType: InstanceTypeChoice | undefined
  if (scenario) {
    const requested = bare.at(-1)?.value.trim()
    if (requested) {
      const checked = checkRequestedInstanceType(facts, scenario, requested, catalog, Boolean(options.allowSkuOutsideList))
      instanceType = checked.choice
      warnings.push(...checked.warnings)
    } else {
      instanceType = selectInstanceType(facts, scenario, catalog)
    }
  } else if (bare.length > 0) {
    throw new UsageError(`--set instance_type: KIND ${kind} has no instance type`)
  }

  const task = options.multilabel ? 'image-classification-multilabel' : 'image-classification'
  // The evaluation component declares test_data as uri_folder: the folder of the MLTable, its JSONL and the images.
  let testFolder: DataFolder | undefined
  if (options.testData !== undefined) {
    const placed = await readPlacedRows(resolve(cwd, options.testData), task, `--test-data ${options.testData}`)
    warnings.push(...placed.warnings)
    testFolder = buildDataFolder(placed.rows, 'data/test-data-folder', 'test_annotations.jsonl', Boolean(options.multilabel))
  }
  const testData: DataInput | undefined = testFolder && {path: testFolder.path, type: 'uri_folder'}
  const training = options.trainData === undefined
    ? undefined
    : await buildTrainingData(resolve(cwd, options.trainData), generateDefaults().mltable.validation_every, task, options.imageUrlPrefix, options.trainData)

  const ctx: BuildContext = {
    kind,
    facts,
    defaults: generateDefaults(),
    registry,
    multilabel: Boolean(options.multilabel),
    ...(options.compute === undefined ? {} : {compute: options.compute}),
    ...(instanceType ? {instanceType} : {}),
    baseDir,
    ...(testData ? {testData} : {}),
    ...(training ? {trainData: {training: training.training, validation: training.validation}} : {}),
  }
  const built = BUILDERS[kind](ctx)
  warnings.push(...built.warnings, ...(training?.warnings ?? []))

  // --set edits, each checked on its own so the error names the one that is wrong.
  const targets = built.documents.filter((d) => d.role !== 'mltable').map((d) => ({role: d.role, schema: d.schema, data: d.content.data}))
  const location = instanceTypeLocation(kind, built.documents)
  const explicit = new Set<string>()
  for (const a of assignments) {
    if (a.path.length === 1 && a.path[0] === 'instance_type' && !location) continue
    const path = a.path.length === 1 && a.path[0] === 'instance_type' && location ? {...a, path: [location.doc.role, ...location.path]} : a
    const applied = applySetAssignment(path, targets)
    explicit.add(`${applied.target.role}:${applied.path.join('.')}`)
  }
  syncNames(built.documents, explicit)

  // An instance type edited at its full path goes through the allow-list check too.
  if (location && scenario && instanceType) {
    const value = getIn(location.doc.content.data, location.path)
    if (typeof value === 'string' && value !== instanceType.name) {
      const checked = checkRequestedInstanceType(facts, scenario, value, catalog, Boolean(options.allowSkuOutsideList))
      instanceType = checked.choice
      warnings.push(...checked.warnings)
    }
  }

  // Every YAML is rendered, then the rendered text is checked: what is written is what was checked.
  const texts = new Map<string, string>()
  const files: GeneratedFileResult[] = []
  const allYaml = [...built.documents, ...(training?.documents ?? []), ...(testFolder?.documents ?? [])]
  for (const doc of allYaml) {
    const text = renderYaml(doc.content)
    const problems = checkAzureMlYaml(text, doc.fileName).filter((d) => d.severity === 'error')
    if (problems.length > 0) {
      throw new InvalidInputError(`the generated ${doc.fileName} does not match ${azureMlSchemaFile(doc.schema)}:\n${issuesText(problems, doc.fileName)}`)
    }
    texts.set(doc.fileName, text)
    files.push({kind: doc.schema, role: doc.role, path: doc.fileName, schema: azureMlSchemaUrl(doc.schema as AzureMlSchemaName), checkedWith: `schemas/${azureMlSchemaFile(doc.schema)}`, status: 'printed'})
  }
  for (const data of [...built.dataFiles, ...(training?.dataFiles ?? []), ...(testFolder?.dataFiles ?? [])]) {
    texts.set(data.fileName, data.text)
    files.push({kind: 'jsonl', role: 'data', path: data.fileName, schema: null, checkedWith: null, status: 'printed'})
  }
  const copies = new Map<string, string>()
  for (const copy of [...(training?.copies ?? []), ...(testFolder?.copies ?? [])]) {
    copies.set(copy.fileName, copy.from)
    files.push({kind: 'image', role: 'data', path: copy.fileName, schema: null, checkedWith: null, status: 'printed'})
  }
  if (training) {
    warnings.push(`--train-data: ${training.summary.classes} classes, ${training.summary.training} training and ${training.summary.validation} validation images`)
  }

  const result: GenerateResult = {
    kind,
    asset: {path: options.asset, name: facts.name, version: facts.version, form: facts.form},
    registry,
    out: options.out ?? null,
    instanceType: instanceType
      ? {...instanceType, location: location ? `${location.doc.fileName}: ${location.path.join('.')}` : null}
      : null,
    files,
    warnings,
  }
  return {result, texts, copies}
}

/** A renamed endpoint carries its deployments along, unless they were given an endpoint of their own. */
function syncNames(docs: GeneratedYaml[], explicit: Set<string>): void {
  const endpoint = docs.find((d) => d.role === 'endpoint')
  const deployment = docs.find((d) => d.role === 'deployment')
  if (!endpoint || !deployment) return
  if (!explicit.has('deployment:endpoint_name')) deployment.content.data.endpoint_name = endpoint.content.data.name
}

/**
 * Writes the generated files under `out`, each atomically, and copies the images of the data folders (`copies`).
 * Every file was checked before the first is written, so a refused run writes nothing.
 */
export async function writeGenerated(result: GenerateResult, texts: Map<string, string>, out: string, cwd = process.cwd(), copies = new Map<string, string>()): Promise<void> {
  const root = resolve(cwd, out)
  const existing = await stat(root).catch(() => undefined)
  if (existing && !existing.isDirectory()) throw new UsageError(`--out ${out}: exists and is not a directory`, {file: out})
  for (const file of result.files) {
    const target = join(root, file.path)
    const from = copies.get(file.path)
    const content = from === undefined ? Buffer.from(texts.get(file.path) ?? '', 'utf8') : await readUserFile(from)
    const before = await readFile(target).catch(() => undefined)
    if (before?.equals(content)) {
      file.status = 'unchanged'
      continue
    }
    await writeFileAtomic(target, content)
    file.status = before === undefined ? 'created' : 'updated'
  }
  for (const file of result.files) file.path = join(out, file.path)
}
