/**
 * The part every local run of an Azure ML pipeline job YAML shares (`evaluate --job`, `finetune --job`): read and
 * parse the file, pick the component job under `jobs:`, and resolve its inputs, where `${{parent.inputs.x}}` refers
 * to the pipeline's own inputs and local paths are relative to the YAML's folder.
 */
import {dirname, resolve} from 'node:path'

import {parse as parseYaml} from 'yaml'

import {InvalidInputError, describeFsError} from './errors.js'
import {MAX_JSON_FILE_BYTES, readUserTextFile} from './user-file.js'

export type Dict = Record<string, unknown>
export const isDict = (v: unknown): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v)
/** A datastore, registry or URL path: nothing a local run can read. */
export const REMOTE_PATH = /^(azureml:|https?:|wasbs?:|abfss?:|adl:)/i

export interface PipelineJob {
  doc: Dict
  jobName: string
  job: Dict
  /** The job's input `name`, with ${{parent.inputs.x}} resolved. */
  input(name: string): unknown
  /** "FILE: jobs.NAME.inputs.INPUT", for messages. */
  at(name: string): string
  /** The YAML's folder (local paths are relative to it). */
  base: string
}

/**
 * Reads `file` and picks the first job `isComponent` accepts, else the first `hasInputs` accepts; `what` names the
 * job kind in the error when neither does.
 */
export async function readPipelineJob(file: string, isComponent: (component: string) => boolean, hasInputs: (inputs: Dict) => boolean, what: string): Promise<PipelineJob> {
  let text: string
  try {
    text = await readUserTextFile(file, {maxBytes: MAX_JSON_FILE_BYTES})
  } catch (error) {
    throw describeFsError(error, file) ?? error
  }
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (error) {
    throw new InvalidInputError(`${file}: not valid YAML: ${(error as Error).message}`, {file})
  }
  if (!isDict(doc) || !isDict(doc.jobs)) throw new InvalidInputError(`${file}: not a pipeline job (no jobs: mapping)`, {file})
  const jobs = Object.entries(doc.jobs).filter((e): e is [string, Dict] => isDict(e[1]))
  const pick = jobs.find(([, j]) => typeof j.component === 'string' && isComponent(j.component)) ?? jobs.find(([, j]) => isDict(j.inputs) && hasInputs(j.inputs))
  if (!pick) throw new InvalidInputError(`${file}: jobs: no ${what}`, {file})
  const [jobName, job] = pick
  const parentInputs = isDict(doc.inputs) ? doc.inputs : {}
  const rawInputs = isDict(job.inputs) ? job.inputs : {}
  return {
    doc,
    jobName,
    job,
    input(name) {
      const v = rawInputs[name]
      const m = typeof v === 'string' ? /^\$\{\{\s*parent\.inputs\.([A-Za-z0-9_]+)\s*\}\}$/.exec(v) : null
      return m ? parentInputs[m[1]] : v
    },
    at: (name) => `${file}: jobs.${jobName}.inputs.${name}`,
    base: dirname(resolve(file)),
  }
}
