import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {numberFlag} from '../cli/flags.js'
import {renderFinetuneResult} from '../cli/finetune-render.js'
import {runnerFlags} from '../cli/runner-render.js'
import {COMMON_EXIT_CODES, ExitCode, type ExitCodeName, InvalidInputError} from '../src/core/errors.js'
import {EVAL_TASKS} from '../src/evaluate/data.js'
import {OPTIMIZERS} from '../src/engine/train/optim.js'
import {SCHEDULES} from '../src/engine/train/schedule.js'
import {CHECKPOINT_DIR, FINETUNE_DEFAULTS, type FinetuneResult, runFinetune} from '../src/finetune/finetune.js'

const d = FINETUNE_DEFAULTS

/** A number flag given as text (oclif has no float flag): undefined when absent, a usage error when not a number. */
export default class Finetune extends BaseCommand {
  static override summary = "Run Azure's image-classification finetune job locally: real training steps on vitrine's engine"
  static override description = `Fine-tunes a ViT model folder on DATA with the Hugging Face Trainer's semantics (what the Azure ML component
transformers_image_classification_pipeline runs): AdamW (torch) with no weight decay on biases and LayerNorm
parameters, global-norm clipping, the component's learning-rate schedules stepped after each optimizer step, gradient
accumulation, label smoothing; softmax cross-entropy, or sigmoid binary cross-entropy for multilabel.

DATA is what the job takes: an MLTable folder, a JSONL of {"image_url": ..., "label": ...} (paths relative to the
JSONL), or a folder per class. --job reads the pipeline YAML \`vitrine generate finetune\` writes (data, task, columns,
every hyperparameter it sets); flags override the job, with a note. Where both are silent, the defaults are Hugging
Face TrainingArguments': ${d.epochs} epochs, batch ${d.batchSize}, learning rate ${d.learningRate}, ${d.scheduler}, no warmup, weight decay ${d.weightDecay},
max grad norm ${d.maxGradNorm}, seed ${d.seed}.

Labels: when every label of the data is one of the model's, the head is kept; otherwise (or with --new-head) a new
classifier for the data's sorted labels (truncated normal, std = initializer_range, zero bias; seeded by --seed).

--out DIR receives pytorch_model_folder/ (Hugging Face), mlflow_model_folder/ (as \`vitrine package\` lays it out),
metrics.json (per epoch) and steps.jsonl (per step), all at once when training ends. Ctrl-C or SIGTERM stops after
the current step and leaves only DIR/${CHECKPOINT_DIR}/; the same command with --resume continues to the same result.

A row whose image cannot be read or whose label is unknown is listed with its line and skipped (--strict fails).
A NaN/Inf loss, and a run stopped with its checkpoint written, exit 1; a second Ctrl-C exits at once (130).`

  static override exitCodes: readonly ExitCodeName[] = [...COMMON_EXIT_CODES, 'Interrupted']

  static override examples = [
    '<%= config.bin %> finetune -m examples/models/vit-digits --train-data train.jsonl --validation-data val.jsonl --out tuned --epochs 5 --learning-rate 1e-3',
    '<%= config.bin %> finetune -m examples/models/vit-digits --job generated/finetune-pipeline.yaml --out tuned',
    '<%= config.bin %> finetune -m examples/models/vit-digits --train-data train.jsonl --out tuned --resume',
  ]

  static override flags = {
    model: Flags.string({char: 'm', description: 'Model folder: Hugging Face, MLflow, or a `vitrine package` output (default: the job\'s mlflow_model when local)'}),
    'train-data': Flags.string({description: 'Training data: an MLTable folder, a .jsonl file, or a folder per class'}),
    'validation-data': Flags.string({description: 'Validation data (same forms): loss and accuracy after each epoch'}),
    job: Flags.string({description: 'A finetune pipeline YAML (vitrine generate finetune) to run locally'}),
    out: Flags.string({char: 'o', description: 'Output folder', required: true}),
    task: Flags.option({description: 'image-classification (cross-entropy) or image-classification-multilabel (binary cross-entropy); default the job\'s, else image-classification', options: EVAL_TASKS})(),
    'input-column-names': Flags.string({description: 'The image column of the JSONL/MLTable (default image_url)'}),
    'label-column-name': Flags.string({description: 'The label column (default label)'}),
    epochs: Flags.integer({description: `Epochs (default ${d.epochs})`, min: 1}),
    'max-steps': Flags.integer({description: 'Optimizer steps in all; overrides --epochs'}),
    'batch-size': Flags.integer({description: `Images per micro-batch (default ${d.batchSize})`, min: 1, max: 1024}),
    'gradient-accumulation': Flags.integer({description: `Micro-batches per optimizer step (default ${d.gradientAccumulation})`, min: 1}),
    'learning-rate': numberFlag({min: 0})({description: `Peak learning rate (default ${d.learningRate})`}),
    scheduler: Flags.option({description: `Learning-rate schedule (default ${d.scheduler})`, options: SCHEDULES})(),
    'warmup-steps': Flags.integer({description: `Linear warmup steps (default ${d.warmupSteps})`, min: 0}),
    'weight-decay': numberFlag({min: 0})({description: `Decoupled weight decay, not on biases and LayerNorm (default ${d.weightDecay})`}),
    'max-grad-norm': numberFlag({min: 0})({description: `Clip the global gradient norm to this; 0 turns clipping off (default ${d.maxGradNorm})`}),
    'label-smoothing': numberFlag({min: 0})({description: `Label smoothing of the cross-entropy (default ${d.labelSmoothing})`}),
    optimizer: Flags.option({description: `adamw (torch.optim.AdamW, betas 0.9/0.999, eps 1e-8) or sgd (default ${d.optimizer})`, options: OPTIMIZERS})(),
    seed: Flags.integer({description: `Seed of the shuffle, the augmentation and a new head (default ${d.seed})`}),
    'no-shuffle': Flags.boolean({description: 'Take the data in its order every epoch (default: a seeded shuffle per epoch)'}),
    'no-augment': Flags.boolean({description: 'No random-resized-crop / horizontal flip: the model\'s preprocessing only'}),
    'new-head': Flags.boolean({description: 'A new classifier for the data\'s labels even when the model has them all'}),
    strict: Flags.boolean({description: 'Fail on the first bad row instead of skipping it'}),
    resume: Flags.boolean({description: `Continue the interrupted run whose ${CHECKPOINT_DIR}/ is in --out`}),
    force: Flags.boolean({description: 'Replace a non-empty --out'}),
    threads: runnerFlags.threads,
    backend: runnerFlags.backend,
  }

  async run(): Promise<FinetuneResult> {
    const {flags} = await this.parse(Finetune)
    let stopRequested = false
    const onSignal = (): void => {
      if (stopRequested) process.exit(ExitCode.Interrupted) // a second Ctrl-C: stop now, the checkpoint is not written
      stopRequested = true
      if (!this.jsonEnabled()) process.stderr.write('\nStopping after this step; writing a checkpoint (Ctrl-C again to abort)...\n')
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    let result: FinetuneResult
    try {
      result = await runFinetune({
        model: flags.model,
        trainData: flags['train-data'],
        validationData: flags['validation-data'],
        job: flags.job,
        out: flags.out,
        task: flags.task,
        inputColumn: flags['input-column-names'],
        labelColumn: flags['label-column-name'],
        epochs: flags.epochs,
        maxSteps: flags['max-steps'],
        batchSize: flags['batch-size'],
        gradientAccumulation: flags['gradient-accumulation'],
        learningRate: flags['learning-rate'],
        scheduler: flags.scheduler,
        warmupSteps: flags['warmup-steps'],
        weightDecay: flags['weight-decay'],
        maxGradNorm: flags['max-grad-norm'],
        labelSmoothing: flags['label-smoothing'],
        optimizer: flags.optimizer,
        seed: flags.seed,
        shuffle: flags['no-shuffle'] ? false : undefined,
        augment: flags['no-augment'] ? false : undefined,
        newHead: flags['new-head'],
        strict: flags.strict,
        resume: flags.resume,
        force: flags.force,
        threads: flags.threads,
        backend: flags.backend,
        progress: this.progress(),
        onStart: (total) => {
          if (!this.jsonEnabled()) process.stderr.write(`Training: ${total} optimizer steps (Ctrl-C stops after the current one and writes a checkpoint)\n`)
        },
        shouldStop: () => stopRequested,
      })
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    if (result.status === 'interrupted') {
      throw new InvalidInputError(
        `interrupted after step ${result.steps.length} of ${result.totalSteps}: the checkpoint is in ${result.out}/${CHECKPOINT_DIR}`,
        {hint: 'run the same command with --resume to continue'},
      )
    }
    if (!this.jsonEnabled()) this.log(renderFinetuneResult(result))
    return result
  }
}
