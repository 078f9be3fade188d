/**
 * Data that travels with its images: `--test-data` / `--train-data` (a JSONL of {image_url, label} with relative
 * paths, an MLTable folder, or a folder per class, read by src/evaluate/data.ts) become folders beside the YAML
 * holding an MLTable, the JSON lines and a copy of every image they name, so that uploading the folder (what
 * `az ml job create` does with a local input path) uploads the images too. A JSONL alone, as a uri_file, would
 * reach Azure without its images.
 */
import {posix} from 'node:path'

import {InvalidInputError, UsageError} from '../core/errors.js'
import {readEvalData, type EvalTask} from '../evaluate/data.js'
import {azureMlSchemaUrl} from '../azureml/schemas.js'
import type {GeneratedDataFile, GeneratedYaml} from './context.js'

/** An image to copy into a data folder: `fileName` (POSIX, under the output folder), from the file `from`. */
export interface DataCopy {
  fileName: string
  from: string
}

/** A row with its image path inside the folder it travels in. */
export interface PlacedRow {
  /** POSIX path relative to the JSON lines file (the folder's root). */
  image: string
  from: string
  labels: string[]
}

export interface DataFolder {
  documents: GeneratedYaml[]
  dataFiles: GeneratedDataFile[]
  copies: DataCopy[]
  /** The folder as the YAML names it: ./data/... */
  path: string
}

/**
 * Reads the rows of a data source. Every image must be named by a relative path that stays inside the JSONL's
 * folder (a class folder's images always do), so that it can be carried along: an absolute path, a URL or a `..`
 * that leaves the folder is an InvalidInputError naming the file and line. Rows that cannot be read are errors
 * too, except a class folder's non-image entries, which are skipped with a warning. `label` names the flag and
 * the path as the user gave it (`--test-data x.jsonl`).
 */
export async function readPlacedRows(source: string, task: EvalTask, label: string): Promise<{rows: PlacedRow[]; warnings: string[]; format: string}> {
  const data = await readEvalData(source, {task})
  const warnings: string[] = []
  if (data.bad.length > 0) {
    if (data.format === 'class-folders') {
      warnings.push(`${label}: ${data.bad.length} entr${data.bad.length === 1 ? 'y that is not an image was' : 'ies that are not images were'} ignored`)
    } else {
      const list = data.bad.slice(0, 5).map((b) => `  ${b.source}: ${b.reason}`)
      throw new InvalidInputError(`${label}: ${data.bad.length} row(s) cannot be used:\n${list.join('\n')}${data.bad.length > 5 ? '\n  ...' : ''}`, {file: data.bad[0]?.source.replace(/:\d+$/, '') ?? source})
    }
  }
  if (data.rows.length === 0) throw new InvalidInputError(`${label}: no rows`, {file: source})
  const rows = data.rows.map((row) => {
    const named = row.image.replaceAll('\\', '/')
    const image = posix.normalize(named)
    if (/^[a-z][a-z0-9+.-]*:/i.test(named) || posix.isAbsolute(image) || image === '..' || image.startsWith('../') || image === '.') {
      throw new InvalidInputError(
        `${row.source}: image_url ${row.image} would leave the data's folder; ${label.split(' ')[0]} carries only images named by a relative path inside the JSONL's folder (move them under it)`,
        {file: row.source.replace(/:\d+$/, '')},
      )
    }
    return {image, from: row.path, labels: row.labels}
  })
  return {rows, warnings, format: data.format}
}

/** The MLTable of a folder of JSON lines with image_url as a stream, as Azure's image jobs read it. */
export function mltableDocument(fileName: string, jsonl: string): GeneratedYaml {
  return {
    role: 'mltable',
    schema: 'mltable',
    fileName,
    content: {
      data: {
        $schema: azureMlSchemaUrl('mltable'),
        type: 'mltable',
        paths: [{file: `./${jsonl}`}],
        transformations: [
          {read_json_lines: {encoding: 'utf8', invalid_lines: 'error', include_path_column: false}},
          {convert_column_types: [{columns: 'image_url', column_type: 'stream_info'}]},
        ],
      },
    },
  }
}

/**
 * One MLTable folder (`folder`, POSIX, under the output folder) holding the JSON lines of `rows` and a copy of their
 * images; with `imageUrlPrefix` (where the images were uploaded) image_url is prefix + path and nothing is copied.
 */
export function buildDataFolder(rows: PlacedRow[], folder: string, jsonlName: string, multilabel: boolean, imageUrlPrefix?: string): DataFolder {
  const seen = new Map<string, string>()
  const copies: DataCopy[] = []
  for (const r of rows) {
    const prev = seen.get(r.image)
    if (prev !== undefined) {
      if (prev !== r.from) throw new UsageError(`two images would land at ${folder}/${r.image}: ${prev} and ${r.from}`)
      continue
    }
    if (r.image === jsonlName || r.image === 'MLTable') throw new UsageError(`an image named ${r.image} would overwrite the data folder's own ${r.image}`)
    seen.set(r.image, r.from)
    if (imageUrlPrefix === undefined) copies.push({fileName: posix.join(folder, r.image), from: r.from})
  }
  const url = (image: string) => (imageUrlPrefix === undefined ? image : `${imageUrlPrefix.replace(/\/*$/, '/')}${image}`)
  const lines = rows.map((r) => JSON.stringify({image_url: url(r.image), label: multilabel ? r.labels : r.labels[0]}))
  return {
    documents: [mltableDocument(`${folder}/MLTable`, jsonlName)],
    dataFiles: [{fileName: `${folder}/${jsonlName}`, text: lines.length > 0 ? `${lines.join('\n')}\n` : ''}],
    copies,
    path: `./${folder}`,
  }
}
