/**
 * Intended differences from the outputs recorded before issue 17 (recorded.json), each named with its reason.
 *
 * The golden test applies these to the recorded outputs before comparing, so every change of behaviour a user would
 * see is listed here on purpose, never absorbed by re-recording. Keep each change as narrow as the change itself,
 * and never paste in values produced by the new code: state the rule (new arguments, a tolerance, a replacement).
 */
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import type {ExampleRecord, ServeRecord} from './examples.js'

export interface IntendedChange {
  /** The example id (see EXAMPLES), or 'serve'. */
  example: string
  /** Why the output changes: the issue and the user-visible reason. */
  why: string
  /** The arguments now run, when the README command itself changed (e.g. a renamed flag). */
  args?: string[]
  /**
   * Numbers in the output and in the files it wrote may differ by this relative amount (everything else, text and
   * structure, must still be equal): for an intended change of the arithmetic.
   */
  numbersWithin?: number
  /** Parts of the output (in both the recorded and the new one) that are not compared, for a consequence of the change. */
  ignore?: RegExp[]
  /** The recorded output as it should now be, for a change of text. */
  edit?: <R extends ExampleRecord | ServeRecord>(recorded: R) => R
}

/**
 * Issue 15 (families), "transformers-exact preprocessing": pixels are rescaled in float64 then rounded to float32, as
 * the Hugging Face image processor does (was: in float32). On the digits model the probabilities move in the 7th
 * significant digit; every label, every printed 4-digit score and every metric shown on screen stay the same.
 */
const PREPROCESSING_IN_FLOAT64 = 'issue 15: transformers-exact preprocessing (rescale in float64) moves probabilities in the 7th significant digit'

/**
 * Issue 12, "data that travels with its images": generate finetune --train-data and generate evaluation --test-data
 * write folders beside the YAML holding the MLTable, the JSON lines and a copy of every image they name, so that
 * Azure uploads the images with the data; image_url is the image's path inside its folder (was: a relative path back
 * to the source data, which Azure never uploaded), and test_data is the uri_folder the evaluation component declares
 * (was: the JSONL alone as a uri_file). The run lists the images it copied as a count.
 */
const DATA_TRAVELS = 'issue 12: --train-data/--test-data write data folders that carry a copy of every image they name'
const DIGITS = 'examples/datasets/digits-eval'
const REPO = new URL('../../..', import.meta.url).pathname

/** How the golden recorder names a binary file: sha256 of its bytes, 16 hex digits. */
function recordedHash(file: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(join(REPO, file))).digest('hex').slice(0, 16)}`
}

/** A copied image for every image_url of a JSON lines text, hashed from the source data set's own file. */
function copiedImages(folder: string, jsonl: string, sourceDir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of jsonl.split('\n').filter(Boolean)) {
    const image = (JSON.parse(line) as {image_url: string}).image_url
    out[`${folder}/${image}`] = recordedHash(`${sourceDir}/${image}`)
  }
  return out
}

function withFiles<R extends ExampleRecord | ServeRecord>(r: R, edit: (files: Record<string, string>, stdout: string) => {files: Record<string, string>; stdout: string}): R {
  const rec = r as unknown as ExampleRecord
  const next = edit({...rec.files}, rec.stdout)
  return {...r, files: next.files, stdout: next.stdout}
}

/** The recorded output of another example (the evaluate-job run reads what generate evaluation now writes). */
function recordedExample(id: string): ExampleRecord {
  const recorded = JSON.parse(readFileSync(join(REPO, 'test/golden/readme/recorded.json'), 'utf8')) as {examples: ExampleRecord[]}
  return recorded.examples.find((e) => e.id === id) as ExampleRecord
}

const OLD_TEST_SOURCE = `${DIGITS}/annotations.jsonl`
const NEW_TEST_SOURCE = 'build/eval-job/data/test-data-folder/test_annotations.jsonl'

export const CHANGES: IntendedChange[] = [
  {example: 'score-json', why: PREPROCESSING_IN_FLOAT64, numbersWithin: 1e-5},
  {example: 'batch', why: PREPROCESSING_IN_FLOAT64, numbersWithin: 1e-5},
  {example: 'evaluate', why: PREPROCESSING_IN_FLOAT64, numbersWithin: 1e-5},
  {example: 'evaluate-job', why: PREPROCESSING_IN_FLOAT64, numbersWithin: 1e-5},
  {
    example: 'evaluate-job',
    why: 'issue 13: an existing non-empty output is replaced only with --force; the README runs the job into the folder of the run above, so it says --force',
    args: ['evaluate', '-m', 'examples/models/vit-digits', '--job', 'build/eval-job/evaluation-pipeline.yaml', '--out', 'build/eval', '--force'],
  },
  // The access log's bytes_out is the length of the JSON answer, which follows the digits of the scores.
  {example: 'serve', why: PREPROCESSING_IN_FLOAT64, numbersWithin: 1e-5, ignore: [/"bytes_out":\d+/g]},
  {
    example: 'validate-sarif',
    why: "issue 12: name-format also warns about a model name Azure ML's REST API refuses (a '.'), and its rule description says so; issue 13: missing-file also covers a file named outside the asset folder, which is never read",
    edit: (r) => ({
      ...r,
      stdout: (r as {stdout: string}).stdout
        .replace(
          'The asset name does not match the naming pattern (models: ^[A-Za-z][A-Za-z0-9_.-]{0,254}$, others lower case).',
          "The asset name does not match the naming pattern (models: ^[A-Za-z][A-Za-z0-9_.-]{0,254}$, others lower case); a warning for a model name Azure ML's REST API refuses (^[a-zA-Z0-9][a-zA-Z0-9\\\\-_]{0,254}$: no '.').",
        )
        .replace(
          'A file the asset refers to does not exist (spec, extra_config, description, release paths, local model path).',
          'A file the asset refers to does not exist, or is outside the asset folder (spec, extra_config, description, release paths, local model path).',
        ),
    }),
  },
  {
    example: 'generate-finetune',
    why: DATA_TRAVELS,
    edit: (r) =>
      withFiles(r, (files, stdout) => {
        const folders = ['build/ft/data/training-mltable-folder/train_annotations.jsonl', 'build/ft/data/validation-mltable-folder/validation_annotations.jsonl']
        let images = 0
        for (const jsonl of folders) {
          const text = files[jsonl].replaceAll(`"image_url":"../../../../${DIGITS}/images/`, '"image_url":"')
          files[jsonl] = text
          const copied = copiedImages(jsonl.replace(/\/[^/]+$/, ''), text, `${DIGITS}/images`)
          images += Object.keys(copied).length
          Object.assign(files, copied)
        }
        return {
          files,
          // The warning that local image_url values do not reach Azure is gone: the images travel in the folders.
          stdout: `${stdout.replace(/^warning: image_url values are local paths:.*\n/m, '')}created   ${images} images copied into the data folders\n`,
        }
      }),
  },
  {
    example: 'generate-evaluation',
    why: DATA_TRAVELS,
    edit: (r) =>
      withFiles(r, (files, stdout) => {
        const ft = recordedExample('generate-finetune').files
        const folder = 'build/eval-job/data/test-data-folder'
        // The rows of the README's JSONL, in order, as the data folder's JSON lines write them.
        const rows = readFileSync(join(REPO, OLD_TEST_SOURCE), 'utf8').split('\n').filter(Boolean)
        const jsonl = rows.map((l) => JSON.stringify({image_url: (JSON.parse(l) as {image_url: string}).image_url, label: (JSON.parse(l) as {label: string}).label})).join('\n') + '\n'
        files[`${folder}/test_annotations.jsonl`] = jsonl
        // The same MLTable as finetune's folders, naming its own JSON lines file.
        files[`${folder}/MLTable`] = ft['build/ft/data/training-mltable-folder/MLTable'].replace('./train_annotations.jsonl', './test_annotations.jsonl')
        const copied = copiedImages(folder, jsonl, DIGITS)
        Object.assign(files, copied)
        const yaml = 'build/eval-job/evaluation-pipeline.yaml'
        files[yaml] = files[yaml].replace(`path: ../../${OLD_TEST_SOURCE}\n        type: uri_file`, 'path: ./data/test-data-folder\n        type: uri_folder')
        return {
          files,
          stdout: `${stdout}created   ${folder}/MLTable\ncreated   ${folder}/test_annotations.jsonl\ncreated   ${Object.keys(copied).length} images copied into the data folders\n`,
        }
      }),
  },
  {
    example: 'evaluate-job',
    why: `${DATA_TRAVELS}; evaluate --job reads the job's data folder, so its rows' source is that folder's JSON lines (same images, same order)`,
    edit: (r) =>
      withFiles(r, (files, stdout) => {
        const job = (text: string) =>
          text
            .replace(`jsonl <WORK>/${OLD_TEST_SOURCE})`, 'mltable <WORK>/build/eval-job/data/test-data-folder)')
            .replace(`<code><WORK>/${OLD_TEST_SOURCE}</code> (jsonl)`, '<code><WORK>/build/eval-job/data/test-data-folder</code> (mltable)')
            .replace(`test_data ../../${OLD_TEST_SOURCE} (uri_file)`, 'test_data ./data/test-data-folder (uri_folder)')
            .replaceAll(`${OLD_TEST_SOURCE}:`, `${NEW_TEST_SOURCE}:`)
        files['build/eval/report.html'] = job(files['build/eval/report.html'])
        // predictions.jsonl differs from the plain evaluate run's (above) only by each row's source, so it is now written as changed.
        files['build/eval/predictions.jsonl'] = job(recordedExample('evaluate').files['build/eval/predictions.jsonl'])
        return {files, stdout: job(stdout)}
      }),
  },
]
