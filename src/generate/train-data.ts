/**
 * `--train-data DIR`: a folder-per-class image tree (DIR/<label>/<image>) as the finetune component reads training
 * data: JSON lines {"image_url": ..., "label": ...} behind an MLTable that converts image_url to a stream, one image
 * in five (per class, by file name) going to validation, as Azure's fridgeObjects prepare_data.py splits it.
 */
import {readdirSync, statSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {InvalidInputError, UsageError} from '../core/errors.js'
import {azureMlSchemaUrl} from '../azureml/schemas.js'
import {relativeFromBase, type GeneratedDataFile, type GeneratedYaml} from './context.js'

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.webp', '.tif', '.tiff'])

export interface LabelledImage {
  /** Absolute path of the image. */
  file: string
  /** Path inside the tree, POSIX separators: <label>/<name>. */
  treePath: string
  label: string
}

export interface TrainingDataOutput {
  documents: GeneratedYaml[]
  dataFiles: GeneratedDataFile[]
  /** MLTable folder paths as the pipeline YAML refers to them. */
  training: string
  validation: string
  summary: {classes: number; training: number; validation: number}
  warnings: string[]
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot < 0 ? '' : name.slice(dot).toLowerCase()
}

/** Reads DIR/<label>/<image> in name order. Throws UsageError if DIR is missing, InvalidInputError if unusable. */
export function readClassTree(dir: string): {images: LabelledImage[]; warnings: string[]} {
  const root = resolve(dir)
  let entries
  try {
    if (!statSync(root).isDirectory()) throw new UsageError(`${dir}: is not a directory (expected a folder per class)`, {file: dir})
    entries = readdirSync(root, {withFileTypes: true})
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`${dir}: no such directory`, {file: dir})
  }
  const warnings: string[] = []
  const images: LabelledImage[] = []
  const looseFiles = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).length
  if (looseFiles > 0) warnings.push(`${dir}: ${looseFiles} file(s) directly in the folder were ignored (images belong in a folder named after their class)`)
  const classes = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byName)
  let usedClasses = 0
  for (const label of classes) {
    const inner = readdirSync(join(root, label), {withFileTypes: true})
    const files = inner.filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(extensionOf(e.name))).map((e) => e.name).sort(byName)
    const skipped = inner.filter((e) => !e.name.startsWith('.') && !(e.isFile() && IMAGE_EXTENSIONS.has(extensionOf(e.name)))).length
    if (skipped > 0) warnings.push(`${dir}/${label}: ${skipped} entr${skipped === 1 ? 'y that is not an image was' : 'ies that are not images were'} ignored`)
    if (files.length === 0) {
      warnings.push(`${dir}/${label}: no images; the class is left out`)
      continue
    }
    usedClasses++
    for (const name of files) images.push({file: join(root, label, name), treePath: `${label}/${name}`, label})
  }
  if (usedClasses < 2) {
    throw new InvalidInputError(`${dir}: found ${usedClasses} class folder(s) with images; a classifier needs at least 2 (DIR/<label>/<image>)`, {file: dir})
  }
  return {images, warnings}
}

function mltableDocument(fileName: string, jsonl: string): GeneratedYaml {
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
 * The MLTable folders for a class tree, under `outDir`/data. image_url is `imageUrlPrefix` + <label>/<name> when
 * a prefix is given (where the tree was uploaded, e.g. azureml://datastores/workspaceblobstore/paths/digits/),
 * else the image's path relative to the JSON lines file, which `vitrine evaluate` and local runs read.
 */
export function buildTrainingData(dir: string, outDir: string, every: number, imageUrlPrefix?: string): TrainingDataOutput {
  const {images, warnings} = readClassTree(dir)
  const split = {training: [] as LabelledImage[], validation: [] as LabelledImage[]}
  const seen = new Map<string, number>()
  for (const img of images) {
    const i = seen.get(img.label) ?? 0
    seen.set(img.label, i + 1)
    ;(i % every === every - 1 ? split.validation : split.training).push(img)
  }
  if (split.validation.length === 0) warnings.push(`${dir}: no class has ${every} images, so the validation split is empty`)
  const folders = {training: 'data/training-mltable-folder', validation: 'data/validation-mltable-folder'}
  const jsonlNames = {training: 'train_annotations.jsonl', validation: 'validation_annotations.jsonl'}
  const documents: GeneratedYaml[] = []
  const dataFiles: GeneratedDataFile[] = []
  for (const part of ['training', 'validation'] as const) {
    const folderAbs = join(outDir, folders[part])
    const lines = split[part].map((img) => {
      const url = imageUrlPrefix === undefined ? relativeFromBase(folderAbs, img.file) : `${imageUrlPrefix.replace(/\/*$/, '/')}${img.treePath}`
      return JSON.stringify({image_url: url, label: img.label})
    })
    dataFiles.push({fileName: `${folders[part]}/${jsonlNames[part]}`, text: lines.length ? `${lines.join('\n')}\n` : ''})
    documents.push(mltableDocument(`${folders[part]}/MLTable`, jsonlNames[part]))
  }
  if (imageUrlPrefix === undefined) {
    warnings.push(
      'image_url values are local paths: fine for local runs, but Azure needs the images uploaded; upload the tree (az ml data create --type uri_folder --path DIR) and pass --image-url-prefix azureml://datastores/<datastore>/paths/<folder>/',
    )
  }
  return {
    documents,
    dataFiles,
    training: `./${folders.training}`,
    validation: `./${folders.validation}`,
    summary: {classes: seen.size, training: split.training.length, validation: split.validation.length},
    warnings,
  }
}
