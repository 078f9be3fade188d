import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {renderBatchResult, runnerFlags} from '../cli/runner-render.js'
import {type BatchResult, DEFAULT_BATCH_SIZE, runBatch} from '../src/runner/run-batch.js'

export default class Batch extends BaseCommand {
  static override summary = 'Score a folder, CSV or JSONL of images into a CSV or JSONL file, one row per input'
  static override description = `INPUT is a folder of images (searched recursively; ids are the relative paths), a CSV with an "image" column of
base64 strings (the batch endpoint sample's format; ids from an "id" column or the row number), or JSONL with
{"image": "<base64>", "id": ...} a line (ids default to the line number).

--out FILE.csv writes id, label_1, score_1, ... label_k, score_k, error; --out FILE.jsonl writes
{"id", "predictions": [{"label", "score"}]} or {"id", "error"} a line. A bad item gets its error in its row and the
run goes on (--fail-fast stops). Rows are appended to FILE.partial and flushed each mini-batch, so a killed run
loses at most one mini-batch: --resume skips the inputs already done. FILE appears only when every input has its row.`

  static override examples = [
    '<%= config.bin %> batch examples/images/digits --model examples/models/vit-digits --out digits.csv',
    '<%= config.bin %> batch image_classification_multiclass_list.csv -m examples/models/vit-digits --out predictions.jsonl',
    '<%= config.bin %> batch images/ -m model/ --out predictions.csv --resume',
  ]

  static override args = {
    input: Args.string({description: 'A folder of images, a .csv with an "image" column of base64, or a .jsonl', required: true, ignoreStdin: true}),
  }

  static override flags = {
    ...runnerFlags,
    out: Flags.string({char: 'o', description: 'Output file: .csv or .jsonl', required: true}),
    'batch-size': Flags.integer({description: 'Images per mini-batch (scored together, then written and flushed)', min: 1, max: 1024, default: DEFAULT_BATCH_SIZE}),
    force: Flags.boolean({description: 'Replace --out if it exists and is not empty (without --resume)', default: false}),
    resume: Flags.boolean({description: 'Skip the inputs an interrupted run already wrote (from FILE.partial or FILE)', default: false}),
    'fail-fast': Flags.boolean({description: 'Stop at the first item that cannot be scored (exit 1)', default: false}),
  }

  async run(): Promise<BatchResult> {
    const {args, flags} = await this.parse(Batch)
    const result = await runBatch(
      {
        model: flags.model,
        input: args.input,
        out: flags.out,
        topK: flags['top-k'],
        threads: flags.threads,
        backend: flags.backend,
        batchSize: flags['batch-size'],
        resume: flags.resume,
        force: flags.force,
        failFast: flags['fail-fast'],
      },
      this.progress(),
    )
    if (!this.jsonEnabled()) this.log(renderBatchResult(result))
    return result
  }
}
