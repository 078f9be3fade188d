/**
 * `--train-data PATH`: a JSONL of {"image_url", "label"} (relative image paths), an MLTable folder or a folder per
 * class (PATH/<label>/<image>), read by src/evaluate/data.ts, written as the finetune component reads training data:
 * two MLTable folders (training, validation) each holding its JSON lines and a copy of the images they name, one
 * row in five (per class, in the data's order; by file name for a class folder) going to validation, as Azure's
 * fridgeObjects prepare_data.py splits it.
 */
import {InvalidInputError} from '../core/errors.js'
import type {EvalTask} from '../evaluate/data.js'
import type {GeneratedDataFile, GeneratedYaml} from './context.js'
import {buildDataFolder, readPlacedRows, type DataCopy, type PlacedRow} from './data-folder.js'

export interface TrainingDataOutput {
  documents: GeneratedYaml[]
  dataFiles: GeneratedDataFile[]
  copies: DataCopy[]
  /** MLTable folder paths as the pipeline YAML refers to them. */
  training: string
  validation: string
  summary: {classes: number; training: number; validation: number}
  warnings: string[]
}

/**
 * The MLTable folders for a data source, under data/ of the output folder. image_url is the image's path inside its
 * folder (the image is copied there), or `imageUrlPrefix` + that path when the images were uploaded already
 * (e.g. azureml://datastores/workspaceblobstore/paths/digits/), and then nothing is copied.
 */
export async function buildTrainingData(source: string, every: number, task: EvalTask, imageUrlPrefix?: string, display = source): Promise<TrainingDataOutput> {
  const multilabel = task === 'image-classification-multilabel'
  const {rows, warnings} = await readPlacedRows(source, task, `--train-data ${display}`)
  const classes = new Set(rows.flatMap((r) => r.labels))
  if (classes.size < 2) {
    throw new InvalidInputError(`--train-data ${display}: found ${classes.size} class(es); a classifier needs at least 2`, {file: display})
  }
  const split = {training: [] as PlacedRow[], validation: [] as PlacedRow[]}
  const seen = new Map<string, number>()
  for (const row of rows) {
    const key = multilabel ? '' : (row.labels[0] ?? '')
    const i = seen.get(key) ?? 0
    seen.set(key, i + 1)
    ;(i % every === every - 1 ? split.validation : split.training).push(row)
  }
  if (split.validation.length === 0) warnings.push(`--train-data ${display}: no class has ${every} images, so the validation split is empty`)
  const training = buildDataFolder(split.training, 'data/training-mltable-folder', 'train_annotations.jsonl', multilabel, imageUrlPrefix)
  const validation = buildDataFolder(split.validation, 'data/validation-mltable-folder', 'validation_annotations.jsonl', multilabel, imageUrlPrefix)
  return {
    documents: [...training.documents, ...validation.documents],
    dataFiles: [...training.dataFiles, ...validation.dataFiles],
    copies: [...training.copies, ...validation.copies],
    training: training.path,
    validation: validation.path,
    summary: {classes: classes.size, training: split.training.length, validation: split.validation.length},
    warnings,
  }
}
