import {stat} from 'node:fs/promises'
import {basename, dirname, extname, join, posix, resolve} from 'node:path'

import {azureMlSchemaFileName, isAzureMlSchemaHost, schemaNameFromUrl, type AzureMlSchemaName} from '../azureml/schemas.js'
import {readYamlDocuments} from '../azureml/yaml-documents.js'
import {describeFsError, InvalidInputError, UsageError} from '../core/errors.js'
import {statOrUsage} from '../core/fs.js'
import {readModelAsset} from '../assets/asset.js'
import {listFiles, MANIFEST_FILE, manifestPathProblems, readManifest, type ManifestEntry} from '../package/manifest.js'
import {RAW_API_VERSION, SDK_API_VERSION} from './client.js'
import {
  batchDeploymentBody,
  batchEndpointBody,
  modelVersionBody,
  onlineDeploymentBody,
  onlineEndpointBody,
  pipelineJobBody,
  sentTraffic,
  type YamlContext,
} from './rest-bodies.js'
import {enc, registryPath, workspacePath, type ApplyTarget} from './target.js'
import type {DesiredResource, JsonObject, ResourceKind} from './types.js'

type YamlKind = 'model' | 'online-endpoint' | 'online-deployment' | 'batch-endpoint' | 'batch-deployment' | 'pipeline-job'

/**
 * What apply does with each Azure ML YAML kind, by the schema its `$schema` URL names (src/azureml/schemas.ts reads
 * the URL: Azure's schema hosts only, any version folder).
 */
const APPLY_KINDS: Partial<Record<AzureMlSchemaName, YamlKind>> = {
  model: 'model',
  managedOnlineEndpoint: 'online-endpoint',
  managedOnlineDeployment: 'online-deployment',
  batchEndpoint: 'batch-endpoint',
  modelBatchDeployment: 'batch-deployment',
  batchDeployment: 'batch-deployment',
  pipelineJob: 'pipeline-job',
}
const APPLY_SCHEMA_FILES = (Object.keys(APPLY_KINDS) as AzureMlSchemaName[]).map(azureMlSchemaFileName)

/** Apply order: models before the deployments that use them, endpoints before deployments, routing after both. */
const ORDER: ResourceKind[] = [
  'registry-model-version',
  'workspace-model-version',
  'online-endpoint',
  'batch-endpoint',
  'online-deployment',
  'batch-deployment',
  'online-endpoint-traffic',
  'batch-endpoint-default',
  'pipeline-job',
]

/** What the input files need of the target, known before reading them fully (for early flag errors). */
export interface InputNeeds {
  workspace: boolean
  registry: boolean
}

/**
 * `--all-traffic` (as `az ml online-deployment create --all-traffic` / `batch-deployment create --set-default`):
 * each deployment in the files takes all of its endpoint's traffic, or becomes its batch endpoint's default.
 */
function routeAllTraffic(resources: DesiredResource[]): DesiredResource[] {
  const out = [...resources]
  const taken = new Map<string, string>()
  for (const d of resources) {
    if (d.kind !== 'online-deployment' && d.kind !== 'batch-deployment') continue
    const epPath = d.path.slice(0, d.path.lastIndexOf('/deployments/'))
    const other = taken.get(epPath)
    if (other) throw new UsageError(`--all-traffic: ${d.name} and ${other} are both deployments of ${d.endpointName}; only one can take all its traffic`)
    taken.set(epPath, d.name)
    const online = d.kind === 'online-deployment'
    const routing: DesiredResource = {
      kind: online ? 'online-endpoint-traffic' : 'batch-endpoint-default',
      name: d.endpointName!,
      file: d.file,
      path: epPath,
      apiVersion: SDK_API_VERSION,
      body: online ? {properties: {traffic: sentTraffic({[d.deploymentName!]: 100})}} : {properties: {defaults: {deploymentName: d.deploymentName}}},
      notes: ['--all-traffic'],
      endpointName: d.endpointName,
      routesTo: [d.deploymentName!],
    }
    const i = out.findIndex((r) => r.kind === routing.kind && r.path.toLowerCase() === epPath.toLowerCase())
    if (i >= 0) out[i] = routing
    else out.push(routing)
  }
  return out
}

/** Reads every FILE (YAML or package folder) into desired resources, in apply order. */
export async function readInputs(paths: string[], target: ApplyTarget, options: {allTraffic?: boolean} = {}): Promise<DesiredResource[]> {
  if (paths.length === 0) throw new UsageError('give at least one FILE: a YAML from `vitrine generate` or a `vitrine package` folder')
  const out: DesiredResource[] = []
  for (const p of paths) {
    const st = await statOrUsage(p)
    if (st.isDirectory()) out.push(await readPackage(p, target))
    else out.push(...(await readYamlFile(p, target)))
  }
  const seen = new Map<string, string>()
  for (const r of out) {
    const key = `${r.kind}|${r.path.toLowerCase()}`
    const prev = seen.get(key)
    if (prev) throw new InvalidInputError(`${r.file}: ${r.name} is also defined in ${prev}`, {file: r.file})
    seen.set(key, r.file)
  }
  return (options.allTraffic ? routeAllTraffic(out) : out).sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind))
}

function schemaKind(path: string, y: JsonObject): YamlKind {
  const schema = y.$schema
  if (typeof schema !== 'string') {
    throw new InvalidInputError(`${path}: no $schema: apply recognises the YAML kind by its $schema URL`, {
      file: path,
      hint: `one of ${APPLY_SCHEMA_FILES.join(', ')} under https://azuremlschemas.azureedge.net/latest/`,
    })
  }
  const name = schemaNameFromUrl(schema)
  const kind = name && APPLY_KINDS[name]
  if (!kind) {
    throw new InvalidInputError(`${path}: $schema '${schema}' is not a kind apply handles`, {
      file: path,
      hint: isAzureMlSchemaHost(schema)
        ? `supported: ${APPLY_SCHEMA_FILES.join(', ')}`
        : `supported: ${APPLY_SCHEMA_FILES.join(', ')}, on an Azure ML schema host (https://azuremlschemas.azureedge.net/latest/)`,
    })
  }
  return kind
}

function ctxFor(file: string, target: ApplyTarget): YamlContext {
  return {file, workspacePath: target.workspace ? workspacePath(target) : undefined}
}

async function readYamlFile(file: string, target: ApplyTarget): Promise<DesiredResource[]> {
  const out: DesiredResource[] = []
  for (const y of await readYamlDocuments(file)) {
    const kind = schemaKind(file, y)
    const ctx = ctxFor(file, target)
    switch (kind) {
      case 'model':
        out.push(await modelFromYaml(file, y, target))
        break
      case 'online-endpoint': {
        const ws = workspacePath(target)
        const {name, body, traffic, notes} = onlineEndpointBody(ctx, y)
        const path = `${ws}/onlineEndpoints/${enc(name)}`
        out.push({kind: 'online-endpoint', name, file, path, apiVersion: SDK_API_VERSION, body, notes, endpointName: name, needsLocation: true})
        if (traffic) {
          out.push({
            kind: 'online-endpoint-traffic',
            name,
            file,
            path,
            apiVersion: SDK_API_VERSION,
            body: {properties: {traffic}},
            notes: [],
            endpointName: name,
            routesTo: Object.keys(traffic).filter((d) => traffic[d] > 0),
          })
        }
        break
      }
      case 'online-deployment': {
        const ws = workspacePath(target)
        const {name, endpointName, body, notes} = onlineDeploymentBody(ctx, y)
        out.push({
          kind: 'online-deployment',
          name: `${endpointName}/${name}`,
          file,
          path: `${ws}/onlineEndpoints/${enc(endpointName)}/deployments/${enc(name)}`,
          apiVersion: SDK_API_VERSION,
          body,
          notes,
          endpointName,
          deploymentName: name,
          needsLocation: true,
        })
        break
      }
      case 'batch-endpoint': {
        const ws = workspacePath(target)
        const {name, body, defaultDeployment} = batchEndpointBody(ctx, y)
        const path = `${ws}/batchEndpoints/${enc(name)}`
        out.push({kind: 'batch-endpoint', name, file, path, apiVersion: SDK_API_VERSION, body, notes: [], endpointName: name, needsLocation: true})
        if (defaultDeployment) {
          out.push({
            kind: 'batch-endpoint-default',
            name,
            file,
            path,
            apiVersion: SDK_API_VERSION,
            body: {properties: {defaults: {deploymentName: defaultDeployment}}},
            notes: [],
            endpointName: name,
            routesTo: [defaultDeployment],
          })
        }
        break
      }
      case 'batch-deployment': {
        const ws = workspacePath(target)
        const {name, endpointName, body} = batchDeploymentBody(ctx, y)
        out.push({
          kind: 'batch-deployment',
          name: `${endpointName}/${name}`,
          file,
          path: `${ws}/batchEndpoints/${enc(endpointName)}/deployments/${enc(name)}`,
          apiVersion: SDK_API_VERSION,
          body,
          notes: [],
          endpointName,
          deploymentName: name,
          needsLocation: true,
        })
        break
      }
      case 'pipeline-job': {
        const ws = workspacePath(target)
        const {name, body, notes, contentNamed} = pipelineJobBody(ctx, y, basename(file, extname(file)))
        out.push({kind: 'pipeline-job', name, file, path: `${ws}/jobs/${enc(name)}`, apiVersion: RAW_API_VERSION, body, notes, contentNamed})
        break
      }
    }
  }
  return out
}

/**
 * The files of a model YAML's local folder, with their sizes. No manifest vouches for them, so there is no sha256 to
 * check (sha256 ''): the upload sends each block with its MD5 for the storage service to check.
 */
async function listModelFiles(root: string, file: string): Promise<ManifestEntry[]> {
  let paths: string[]
  try {
    paths = await listFiles(root)
  } catch (error) {
    throw describeFsError(error, root) ?? error
  }
  if (paths.length === 0) throw new InvalidInputError(`${file}: path: ${root} holds no files`, {file})
  return Promise.all(paths.map(async (path) => ({path, size: (await statOrUsage(join(root, path))).size, sha256: ''})))
}

function modelTarget(target: ApplyTarget, name: string, version: string): {kind: ResourceKind; path: string; apiVersion: string} {
  if (!target.registry && !target.workspace) {
    throw new UsageError(`model ${name}:${version} needs a registry (--registry or AZUREML_REGISTRY) or a workspace (--workspace or AZUREML_WORKSPACE)`)
  }
  if (target.registry) {
    return {kind: 'registry-model-version', path: `${registryPath(target)}/models/${enc(name)}/versions/${enc(version)}`, apiVersion: RAW_API_VERSION}
  }
  return {kind: 'workspace-model-version', path: `${workspacePath(target)}/models/${enc(name)}/versions/${enc(version)}`, apiVersion: SDK_API_VERSION}
}

const REMOTE_URI = /^(azureml:|https:\/\/|wasbs?:\/\/|abfss?:\/\/)/

async function modelFromYaml(file: string, y: JsonObject, target: ApplyTarget): Promise<DesiredResource> {
  const ctx = ctxFor(file, target)
  const {name, version, body, notes} = modelVersionBody(ctx, y)
  const t = modelTarget(target, name, version)
  const props = body.properties as JsonObject
  const path = y.path
  if (typeof path !== 'string' || path.trim() === '') throw new InvalidInputError(`${file}: path: is required`, {file})
  if (REMOTE_URI.test(path)) {
    props.modelUri = path
    return {...t, name: `${name}:${version}`, file, body, notes}
  }
  if (t.kind !== 'registry-model-version') {
    throw new UsageError(`${file}: path '${path}' is local: apply uploads model files only to a registry (pass --registry)`, {file})
  }
  const root = resolve(dirname(file), path)
  // A single file is uploaded as itself (the model's URI names the file), as the SDK does for a file path.
  const st = await stat(root).catch(() => undefined)
  const files = st?.isFile() ? [{path: '', size: st.size, sha256: ''}] : await listModelFiles(root, file)
  const modelSubdir = basename(root)
  return {
    ...t,
    name: `${name}:${version}`,
    file,
    body,
    notes,
    upload: {root: dirname(root), files: files.map((f) => ({...f, path: f.path === '' ? modelSubdir : posix.join(modelSubdir, f.path)})), modelSubdir, verified: false},
  }
}

/** A `vitrine package` output folder: a registry model version with its files. */
async function readPackage(dir: string, target: ApplyTarget): Promise<DesiredResource> {
  const manifest = await readManifest(dir)
  if (!manifest) throw new UsageError(`${dir}: not a \`vitrine package\` folder (no ${MANIFEST_FILE}) and not a YAML file`, {file: dir})
  const manifestPath = join(dir, MANIFEST_FILE)
  const bad = manifestPathProblems(manifest)[0]
  if (bad) throw new InvalidInputError(`${manifestPath}: files[${bad.index}].path: '${bad.path}' ${bad.message}`, {file: manifestPath})
  const modelFiles = manifest.files.filter((f) => f.path.startsWith('mlflow_model_folder/'))
  if (modelFiles.length === 0) throw new InvalidInputError(`${manifestPath}: files: lists nothing under mlflow_model_folder/`, {file: manifestPath})
  // The asset folder as src/assets reads it: publish.type and the description come from the extra_config (model.yaml).
  const {facts, files} = readModelAsset(join(dir, 'asset'))
  const spec = files.specData
  const specPath = files.spec.file
  const ctx = ctxFor(specPath, target)
  const {name, version, body, notes} = modelVersionBody(ctx, spec, {type: facts.publishType ?? 'mlflow_model', description: facts.description?.trim()})
  if (name !== manifest.name || version !== manifest.version) {
    throw new InvalidInputError(
      `${dir}: asset/spec.yaml says ${name}:${version} but ${MANIFEST_FILE} says ${manifest.name}:${manifest.version}`,
      {file: specPath, hint: 'run `vitrine package` again so both agree'},
    )
  }
  if (!target.registry) {
    throw new UsageError(`${dir}: a package folder is published to a registry: pass --registry (or AZUREML_REGISTRY)`, {file: dir})
  }
  const t = modelTarget(target, name, version)
  if (spec.path !== undefined) notes.push(`spec.yaml path is not used: the files listed in ${MANIFEST_FILE} are uploaded`)
  return {...t, name: `${name}:${version}`, file: dir, body, notes, upload: {root: dir, files: modelFiles, modelSubdir: 'mlflow_model_folder', verified: true}}
}
