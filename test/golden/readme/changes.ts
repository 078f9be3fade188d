/**
 * Intended differences from the outputs recorded before issue 17 (recorded.json), each named with its reason.
 *
 * The golden test applies these to the recorded outputs before comparing, so every change of behaviour a user would
 * see is listed here on purpose, never absorbed by re-recording. Keep each change as narrow as the change itself,
 * and never paste in values produced by the new code: state the rule (new arguments, a tolerance, a replacement).
 */
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
    why: "issue 12: name-format also warns about a model name Azure ML's REST API refuses (a '.'), and its rule description says so",
    edit: (r) => ({
      ...r,
      stdout: (r as {stdout: string}).stdout.replace(
        'The asset name does not match the naming pattern (models: ^[A-Za-z][A-Za-z0-9_.-]{0,254}$, others lower case).',
        "The asset name does not match the naming pattern (models: ^[A-Za-z][A-Za-z0-9_.-]{0,254}$, others lower case); a warning for a model name Azure ML's REST API refuses (^[a-zA-Z0-9][a-zA-Z0-9\\\\-_]{0,254}$: no '.').",
      ),
    }),
  },
]
