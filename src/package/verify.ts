import {stat} from 'node:fs/promises'
import {join} from 'node:path'

import {parse} from 'yaml'

import {UsageError, VitrineError, describeFsError} from '../core/errors.js'
import {MAX_JSON_FILE_BYTES, readUserTextFile} from '../core/user-file.js'
import {type Progress, silentProgress} from '../core/progress.js'
import {compareTensorShapes, readModelConfig} from '../models/model-folder.js'
import {readSafetensorsHeader} from '../weights/safetensors.js'
import {MANIFEST_FILE, checkManifestEntry, folderBytes, isPackagePath, listFiles, manifestPathProblems, readManifest} from './manifest.js'
import {LAYOUT} from './package.js'

/**
 * `vitrine verify DIR`: proves a package folder is what `vitrine package` wrote — every file of the manifest present
 * with its size and sha256, no file the manifest does not list, and the weights' tensors shaped as config.json says.
 */

export interface VerifyIssue {
  /** The file at fault, relative to the package folder. */
  file: string
  message: string
}

export interface VerifyResult {
  dir: string
  ok: boolean
  name?: string
  version?: string
  /** Files whose size and hash were checked. */
  filesChecked: number
  bytesChecked: number
  /** Tensors whose shapes were checked against config.json. */
  tensorsChecked: number
  issues: VerifyIssue[]
}

export async function verifyPackage(dir: string, progress: Progress = silentProgress): Promise<VerifyResult> {
  try {
    const st = await stat(dir)
    if (!st.isDirectory()) throw new UsageError(`${dir}: is not a directory`, {file: dir})
  } catch (error) {
    throw describeFsError(error, dir) ?? error
  }
  const manifest = await readManifest(dir)
  if (!manifest) {
    const file = join(dir, MANIFEST_FILE)
    throw new UsageError(`${file}: no such file; is ${dir} a folder written by vitrine package?`, {file})
  }
  const issues: VerifyIssue[] = []
  let filesChecked = 0
  let bytesChecked = 0

  const listed = new Set(manifest.files.map((f) => f.path))
  const skip = new Set<number>()
  for (const p of manifestPathProblems(manifest)) {
    issues.push({file: MANIFEST_FILE, message: `lists ${JSON.stringify(p.path)}, which ${p.message}`})
    skip.add(p.index)
    if (!isPackagePath(p.path)) listed.delete(p.path)
  }
  const total = manifest.files.reduce((n, f) => n + f.size, 0)
  progress.start('Verifying', total, 'bytes')
  for (const [i, f] of manifest.files.entries()) {
    if (skip.has(i)) continue
    const check = await checkManifestEntry(dir, f)
    if (check.state === 'missing') issues.push({file: f.path, message: 'is missing'})
    else if (check.state === 'not-a-file') issues.push({file: f.path, message: 'is not a regular file'})
    else if (check.state === 'symlink') issues.push({file: f.path, message: 'is a symbolic link; vitrine package writes only regular files'})
    else {
      progress.advance(f.size)
      if (check.state === 'size') {
        issues.push({file: f.path, message: `size is ${check.actual} bytes, the manifest says ${f.size}`})
        continue
      }
      filesChecked++
      bytesChecked += f.size
      if (check.state === 'sha256') issues.push({file: f.path, message: `sha256 is ${check.actual}, the manifest says ${f.sha256}`})
    }
  }
  progress.stop()

  for (const path of await listFiles(dir)) {
    if (path !== MANIFEST_FILE && !listed.has(path)) issues.push({file: path, message: 'is not listed in the manifest'})
  }

  // MLmodel's model_size_bytes must stay true to the model folder (every file but MLmodel, as MLflow counts).
  // Checked only when no file of the folder is already reported (a missing or changed file explains the gap).
  const folderReported = issues.some((i) => i.file.startsWith(`${LAYOUT.mlflowDir}/`))
  const mlmodelText = folderReported ? undefined : await readUserTextFile(join(dir, LAYOUT.mlmodel), {within: dir, maxBytes: MAX_JSON_FILE_BYTES}).catch(() => undefined)
  if (mlmodelText !== undefined) {
    let declared: unknown
    try {
      declared = (parse(mlmodelText) as Record<string, unknown> | null)?.model_size_bytes
    } catch {
      issues.push({file: LAYOUT.mlmodel, message: 'is not valid YAML'})
    }
    if (declared !== undefined) {
      const actual = await folderBytes(join(dir, LAYOUT.mlflowDir), ['MLmodel'])
      if (declared !== actual) issues.push({file: LAYOUT.mlmodel, message: `model_size_bytes is ${JSON.stringify(declared)}, but the model folder holds ${actual} bytes besides MLmodel`})
    }
  }

  // Shapes: read the header and the config even when their hashes failed, to say what is wrong with them.
  let tensorsChecked = 0
  try {
    const {family, config} = await readModelConfig(join(dir, LAYOUT.config))
    const header = await readSafetensorsHeader(join(dir, LAYOUT.weights))
    tensorsChecked = header.tensors.length
    for (const p of compareTensorShapes(family, config, header.tensors)) issues.push({file: LAYOUT.weights, message: p})
  } catch (error) {
    if (!(error instanceof VitrineError)) throw error
    const file = error.file?.endsWith('config.json') ? LAYOUT.config : LAYOUT.weights
    // A missing file is already reported above; anything else (bad JSON, bad header) is reported here.
    if (!issues.some((i) => i.file === file && i.message === 'is missing')) issues.push({file, message: error.message.replace(`${join(dir, file)}: `, '')})
  }

  return {dir, ok: issues.length === 0, name: manifest.name, version: manifest.version, filesChecked, bytesChecked, tensorsChecked, issues}
}
