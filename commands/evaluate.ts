import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {renderEvaluateResult} from '../cli/evaluate-render.js'
import {numberFlag} from '../cli/flags.js'
import {runnerFlags} from '../cli/runner-render.js'
import {EVAL_TASKS} from '../src/evaluate/data.js'
import {DEFAULT_THRESHOLD, runEvaluate} from '../src/evaluate/evaluate.js'
import type {EvaluateResult} from '../src/evaluate/result.js'

export default class Evaluate extends BaseCommand {
  static override summary = "Run Azure's image-classification evaluation job locally: metrics, predictions and an HTML report"
  static override description = `DATA is what the evaluation job takes: an MLTable folder, a JSONL of {"image_url": ..., "label": ...} (image
paths relative to the JSONL's folder; other column names with --input-column-names / --label-column-name), or a
folder per class (DATA/<label>/<image>). --job reads a pipeline YAML written by \`vitrine generate evaluation\`
(task, test data, columns, the evaluation config's metrics) and lists what the local run does differently.

Metrics are named as in Azure's evaluation config (accuracy, f1_score_macro, AUC_weighted, ...). With --out, writes
metrics.json, predictions.jsonl (one row per image) and report.html (self-contained: confusion matrix heat map,
per-class bars, misclassified thumbnails with their top-3).

A bad row (missing image, undecodable image, label the model does not have, malformed JSON) is reported with its
line and skipped; --strict fails on the first one instead (exit 1, as when no row can be scored).`

  static override examples = [
    '<%= config.bin %> evaluate -m examples/models/vit-digits --data examples/datasets/digits-eval/annotations.jsonl --out eval-out',
    '<%= config.bin %> evaluate -m examples/models/vit-digits --data examples/datasets/digits-eval/images --json',
    '<%= config.bin %> evaluate -m examples/models/vit-digits --job eval/evaluation-pipeline.yaml --out eval-out',
  ]

  static override flags = {
    model: Flags.string({char: 'm', description: 'Model folder: Hugging Face, MLflow, or a `vitrine package` output (default: the job\'s mlflow_model when it is a local path)'}),
    threads: runnerFlags.threads,
    backend: runnerFlags.backend,
    data: Flags.string({char: 'd', description: 'Test data: an MLTable folder, a .jsonl file, or a folder per class'}),
    job: Flags.string({description: 'An evaluation pipeline YAML (vitrine generate evaluation) to run locally'}),
    out: Flags.string({char: 'o', description: 'Write metrics.json, predictions.jsonl and report.html into this folder (existing ones only with --force)'}),
    force: Flags.boolean({description: 'Replace metrics.json, predictions.jsonl and report.html if --out already holds them', default: false}),
    task: Flags.option({description: 'The evaluation task (default: the job\'s, else image-classification)', options: EVAL_TASKS})(),
    'input-column-names': Flags.string({description: 'The image column of the JSONL/MLTable (default image_url)'}),
    'label-column-name': Flags.string({description: 'The label column (default label)'}),
    threshold: numberFlag({min: 0, max: 1})({description: `Multilabel: a label is predicted when its probability >= this (default ${DEFAULT_THRESHOLD})`}),
    strict: Flags.boolean({description: 'Fail on the first bad row instead of skipping it'}),
    'batch-size': Flags.integer({description: 'Images per forward pass', min: 1, max: 256}),
  }

  async run(): Promise<EvaluateResult> {
    const {flags} = await this.parse(Evaluate)
    const {result} = await runEvaluate({
      model: flags.model,
      data: flags.data,
      job: flags.job,
      task: flags.task,
      inputColumn: flags['input-column-names'],
      labelColumn: flags['label-column-name'],
      threshold: flags.threshold,
      strict: flags.strict,
      threads: flags.threads,
      backend: flags.backend,
      batchSize: flags['batch-size'],
      out: flags.out,
      force: flags.force,
      progress: this.progress(),
    })
    if (!this.jsonEnabled()) this.log(renderEvaluateResult(result))
    return result
  }
}
