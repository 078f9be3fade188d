import {readdir, readFile, stat} from 'node:fs/promises'
import {basename, dirname, extname, isAbsolute, join, posix, relative, resolve, sep} from 'node:path'

import {parseAllDocuments} from 'yaml'

import {describeFsError, InvalidInputError, UsageError} from '../core/errors.js'
import {statOrUsage} from '../core/fs.js'
import {RAW_API_VERSION, SDK_API_VERSION} from './client.js'
import {
  batchDeploymentBody,
  batchEndpointBody,
  isObject,
  modelVersionBody,
  onlineDeploymentBody,
  onlineEndpointBody,
  pipelineJobBody,
  sentTraffic,
  type YamlContext,
} from './rest-bodies.js'
import {enc, registryPath, workspacePath, type ApplyTarget} from './target.js'
import type {DesiredResource, JsonObject, ManifestFile, ResourceKind} from './types.js'

/** The `$schema` file names `vitrine generate` writes, and what each one is. */
export const SCHEMA_KINDS: Record<string, 'model' | 'online-endpoint' | 'online-deployment' | 'batch-endpoint' | 'batch-deployment' | 'pipeline-job'> = {
  'model.schema.json': 'model',
  'managedOnlineEndpoint.schema.json': 'online-endpoint',
  'managedOnlineDeployment.schema.json': 'online-deployment',
  'batchEndpoint.schema.json': 'batch-endpoint',
  'modelBatchDeployment.schema.json': 'batch-deployment',
  'batchDeployment.schema.json': 'batch-deployment',
  'pipelineJob.schema.json': 'pipeline-job',
}

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

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw describeFsError(error, path) ?? error
  }
}

/** Parses a YAML file (one or more documents); syntax errors and duplicate keys name the line. */
export async function parseYamlDocuments(path: string): Promise<JsonObject[]> {
  const text = await readText(path)
  const docs = parseAllDocuments(text, {uniqueKeys: true, prettyErrors: true})
  const list = Array.isArray(docs) ? docs : [docs]
  const out: JsonObject[] = []
  for (const doc of list) {
    const err = doc.errors[0]
    if (err) {
      const pos = err.linePos?.[0]
      throw new InvalidInputError(`${path}${pos ? `:${pos.line}:${pos.col}` : ''}: ${err.message.split('\n')[0]}`, {file: path})
    }
    const v = doc.toJS({maxAliasCount: 100}) as unknown
    if (v === null || v === undefined) continue
    if (!isObject(v)) throw new InvalidInputError(`${path}: expected a mapping at the top level`, {file: path})
    out.push(v)
  }
  if (out.length === 0) throw new InvalidInputError(`${path}: empty YAML`, {file: path})
  return out
}

function schemaKind(path: string, y: JsonObject): (typeof SCHEMA_KINDS)[string] {
  const schema = y.$schema
  if (typeof schema !== 'string') {
    throw new InvalidInputError(`${path}: no $schema: apply recognises the YAML kind by its $schema URL`, {
      file: path,
      hint: `one of ${Object.keys(SCHEMA_KINDS).join(', ')} under https://azuremlschemas.azureedge.net/latest/`,
    })
  }
  const kind = SCHEMA_KINDS[posix.basename(schema.split(/[?#]/)[0])]
  if (!kind) {
    throw new InvalidInputError(`${path}: $schema '${schema}' is not a kind apply handles`, {
      file: path,
      hint: `supported: ${Object.keys(SCHEMA_KINDS).join(', ')}`,
    })
  }
  return kind
}

function ctxFor(file: string, target: ApplyTarget): YamlContext {
  return {file, workspacePath: target.workspace ? workspacePath(target) : undefined}
}

async function readYamlFile(file: string, target: ApplyTarget): Promise<DesiredResource[]> {
  const out: DesiredResource[] = []
  for (const y of await parseYamlDocuments(file)) {
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
  const files = await listFiles(root, file)
  const modelSubdir = basename(root)
  return {
    ...t,
    name: `${name}:${version}`,
    file,
    body,
    notes,
    upload: {root: dirname(root), files: files.map((f) => ({...f, path: posix.join(modelSubdir, f.path)})), modelSubdir, verified: false},
  }
}

/** Every regular file under `root`, relative paths with `/`, sorted; sha256 is filled at upload time. */
async function listFiles(root: string, file: string): Promise<ManifestFile[]> {
  const out: ManifestFile[] = []
  async function walk(dir: string): Promise<void> {
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch (error) {
      throw describeFsError(error, dir) ?? error
    }
    for (const e of entries) {
      const full = join(dir, e.name)
      if (e.isDirectory()) await walk(full)
      else if (e.isFile()) out.push({path: relative(root, full).split(sep).join('/'), size: (await stat(full)).size, sha256: ''})
    }
  }
  await walk(root)
  if (out.length === 0) throw new InvalidInputError(`${file}: path: ${root} holds no files`, {file})
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** A `vitrine package` manifest.json, checked field by field. */
export function parseManifest(file: string, text: string): {name: string; version: string; files: ManifestFile[]} {
  let m: unknown
  try {
    m = JSON.parse(text)
  } catch (error) {
    throw new InvalidInputError(`${file}: not valid JSON: ${(error as Error).message}`, {file})
  }
  const bad = (field: string, msg: string): never => {
    throw new InvalidInputError(`${file}: ${field}: ${msg}`, {file})
  }
  if (!isObject(m)) return bad('(root)', 'must be an object')
  if (m.schemaVersion !== 1) bad('schemaVersion', `must be 1, got ${JSON.stringify(m.schemaVersion)}`)
  if (typeof m.name !== 'string' || !m.name) bad('name', 'must be a non-empty string')
  if (typeof m.version !== 'string' || !m.version) bad('version', 'must be a non-empty string')
  if (!Array.isArray(m.files) || m.files.length === 0) bad('files', 'must be a non-empty array')
  const files: ManifestFile[] = []
  const seen = new Set<string>()
  for (const [i, f] of (m.files as unknown[]).entries()) {
    const at = `files[${i}]`
    if (!isObject(f)) bad(at, 'must be an object')
    const {path, size, sha256} = f as JsonObject
    if (typeof path !== 'string' || !path) return bad(`${at}.path`, 'must be a non-empty string')
    if (isAbsolute(path) || path.includes('\\') || path.split('/').some((s) => s === '..' || s === '' || s === '.')) {
      bad(`${at}.path`, `'${path}' must be a relative path inside the package`)
    }
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) bad(`${at}.size`, 'must be a non-negative integer')
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) bad(`${at}.sha256`, 'must be 64 lowercase hex digits')
    if (seen.has(path)) bad(`${at}.path`, `'${path}' is listed twice`)
    seen.add(path)
    files.push({path, size: size as number, sha256: sha256 as string})
  }
  return {name: m.name as string, version: m.version as string, files}
}

/** A `vitrine package` output folder: a registry model version with its files. */
async function readPackage(dir: string, target: ApplyTarget): Promise<DesiredResource> {
  const manifestPath = join(dir, 'manifest.json')
  const specPath = join(dir, 'asset', 'spec.yaml')
  let manifestText: string
  try {
    manifestText = await readFile(manifestPath, 'utf8')
  } catch {
    throw new UsageError(`${dir}: not a \`vitrine package\` folder (no manifest.json) and not a YAML file`, {file: dir})
  }
  const manifest = parseManifest(manifestPath, manifestText)
  const modelFiles = manifest.files.filter((f) => f.path.startsWith('mlflow_model_folder/'))
  if (modelFiles.length === 0) throw new InvalidInputError(`${manifestPath}: files: lists nothing under mlflow_model_folder/`, {file: manifestPath})
  const [spec] = await parseYamlDocuments(specPath)
  // azureml-assets keeps `publish: {description, type}` in the extra_config (model.yaml) named by asset.yaml.
  const assetYaml = await readOptionalYaml(join(dir, 'asset', 'asset.yaml'))
  const extra = typeof assetYaml?.extra_config === 'string' ? await readOptionalYaml(join(dir, 'asset', assetYaml.extra_config)) : undefined
  const publish = isObject(extra?.publish) ? extra.publish : isObject(assetYaml?.publish) ? assetYaml.publish : {}
  let description: string | undefined
  if (typeof publish.description === 'string') {
    description = (await readText(join(dir, 'asset', publish.description))).trim()
  }
  const ctx = ctxFor(specPath, target)
  const {name, version, body, notes} = modelVersionBody(ctx, spec, {
    type: typeof publish.type === 'string' ? publish.type : 'mlflow_model',
    description,
  })
  if (name !== manifest.name || version !== manifest.version) {
    throw new InvalidInputError(
      `${dir}: asset/spec.yaml says ${name}:${version} but manifest.json says ${manifest.name}:${manifest.version}`,
      {file: specPath, hint: 'run `vitrine package` again so both agree'},
    )
  }
  if (!target.registry) {
    throw new UsageError(`${dir}: a package folder is published to a registry: pass --registry (or AZUREML_REGISTRY)`, {file: dir})
  }
  const t = modelTarget(target, name, version)
  if (spec.path !== undefined) notes.push('spec.yaml path is not used: the files listed in manifest.json are uploaded')
  return {...t, name: `${name}:${version}`, file: dir, body, notes, upload: {root: dir, files: modelFiles, modelSubdir: 'mlflow_model_folder', verified: true}}
}

async function readOptionalYaml(path: string): Promise<JsonObject | undefined> {
  try {
    await stat(path)
  } catch {
    return undefined
  }
  return (await parseYamlDocuments(path))[0]
}
