/**
 * KIND finetune: a pipeline job calling the registry's image-classification finetune component
 * (transformers_image_classification_pipeline), shaped like Azure's fridgeObjects sample pipeline. The GPU cluster
 * size is the SKU chosen from the asset's finetune allow list; one process per GPU of that SKU.
 */
import {readFileSync} from 'node:fs'

import {assetPath} from '../core/paths.js'
import {azureMlSchemaUrl} from '../azureml/schemas.js'
import {
  experimentName,
  instanceTypeLine,
  provenance,
  registryComponentUri,
  registryModelUri,
  type BuildContext,
  type BuildOutput,
} from './context.js'

type Literal = string | number | boolean

/** The component's input names, from its bundled input schema. */
function componentInputNames(component: string): Set<string> {
  const file = assetPath('schemas', 'azureml', 'components', `${component}.schema.json`)
  const schema = JSON.parse(readFileSync(file, 'utf8')) as {properties?: Record<string, unknown>}
  return new Set(Object.keys(schema.properties ?? {}))
}

/** "true"/"false"/numbers as the literals they spell (the tag holds strings). */
function literalOf(v: unknown): Literal | undefined {
  if (typeof v === 'boolean' || typeof v === 'number') return v
  if (typeof v !== 'string') return undefined
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true'
  if (v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  return v
}

/**
 * The asset's `model_specific_defaults` tag names values for same-named component inputs (the ViT asset:
 * apply_deepspeed and apply_ort 'true'); those the component takes are passed on.
 */
function modelSpecificDefaults(ctx: BuildContext, component: string): Record<string, Literal> {
  const tag = ctx.facts.tags.model_specific_defaults
  if (!tag || typeof tag !== 'object' || Array.isArray(tag)) return {}
  const known = componentInputNames(component)
  const out: Record<string, Literal> = {}
  for (const [k, v] of Object.entries(tag as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const lit = literalOf(v)
    if (known.has(k) && lit !== undefined) out[k] = lit
  }
  return out
}

export function buildFinetune(ctx: BuildContext): BuildOutput {
  const d = ctx.defaults.finetune
  const f = ctx.facts
  const task = ctx.multilabel ? 'image-classification-multilabel' : 'image-classification'
  const computeFinetune = ctx.compute ?? d.compute_finetune
  const training = ctx.trainData?.training ?? d.training_data
  const validation = ctx.trainData?.validation ?? d.validation_data
  const gpus = Math.max(1, ctx.instanceType?.figures?.gpus ?? 1)
  const p = (name: string) => `\${{parent.inputs.${name}}}`
  const job = {
    type: 'pipeline',
    component: registryComponentUri(d.component),
    inputs: {
      compute_model_import: p('compute_model_import'),
      compute_finetune: p('compute_finetune'),
      compute_model_evaluation: p('compute_model_evaluation'),
      process_count_per_instance: gpus,
      instance_count: d.instance_count,
      task_name: task,
      download_from_source: d.download_from_source,
      model_family: d.model_family,
      mlflow_model: p('mlflow_model_path'),
      training_data: p('training_data'),
      validation_data: p('validation_data'),
      test_data: p('test_data'),
      ...d.inputs,
      ...modelSpecificDefaults(ctx, d.component),
      metric_for_best_model: d.metric_for_best_model[task],
      label_column_name: d.label_column_name,
      input_column_names: d.input_column_names,
    },
    outputs: {mlflow_model_folder: '${{parent.outputs.trained_model}}'},
  }
  const pipeline = {
    $schema: azureMlSchemaUrl('pipelineJob'),
    type: 'pipeline',
    experiment_name: experimentName(f.name, ctx.multilabel ? 'finetune-multilabel' : 'finetune-multiclass'),
    description: `Finetune ${f.name} version ${f.version} for ${task}`,
    inputs: {
      mlflow_model_path: {path: registryModelUri(f, ctx.registry), type: 'mlflow_model'},
      training_data: {path: training, type: 'mltable'},
      validation_data: {path: validation, type: 'mltable'},
      test_data: {path: validation, type: 'mltable'},
      compute_model_import: d.compute_model_import,
      compute_finetune: computeFinetune,
      compute_model_evaluation: computeFinetune,
    },
    outputs: {trained_model: {type: 'mlflow_model'}},
    settings: {...d.settings, default_compute: `azureml:${computeFinetune}`},
    jobs: {[d.job_name]: job},
  }
  const optional = Object.entries(d.optional).map(([k, v]) => `  ${k}: ${v}`)
  const size = ctx.instanceType?.name ?? '<SKU>'
  const warnings: string[] = []
  if (!ctx.trainData) {
    warnings.push(`training/validation data: ${training} and ${validation} are placeholders; pass --train-data DIR (a folder per class) or --set inputs.training_data.path=...`)
  }
  return {
    documents: [
      {
        role: 'job',
        schema: 'pipelineJob',
        fileName: 'finetune-pipeline.yaml',
        content: {
          data: pipeline,
          header: [
            ...provenance(ctx),
            ...instanceTypeLine(ctx.instanceType, `compute cluster ${computeFinetune} size`),
            `The clusters, if they do not exist: az ml compute create --name ${computeFinetune} --type amlcompute --min-instances 0 --max-instances 2 --size ${size}`,
            `  and az ml compute create --name ${d.compute_model_import} --type amlcompute --min-instances 0 --max-instances 2 --size Standard_D12 (model import, CPU)`,
            'Submit: az ml job create --file finetune-pipeline.yaml -g <group> -w <workspace>',
          ],
          trailing: [
            {
              path: ['jobs', d.job_name, 'inputs'],
              lines: [
                'Hyperparameters the component otherwise chooses per model (the sample leaves them commented out);',
                `switch one on with --set jobs.${d.job_name}.inputs.<name>=<value>:`,
                ...optional,
              ],
            },
          ],
        },
      },
    ],
    dataFiles: [],
    warnings,
  }
}
