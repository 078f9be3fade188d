/**
 * KIND evaluation: a pipeline job calling the registry's model evaluation component for image classification,
 * shaped like Azure's CLI evaluation sample. Everything `vitrine evaluate --job` needs to rerun it locally sits in
 * the one job's inputs: task, test_data (path and type), input_column_names, label_column_name, and the metrics
 * in evaluation_config_params (a JSON string, so the YAML needs no side file).
 */
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

export function buildEvaluation(ctx: BuildContext): BuildOutput {
  const d = ctx.defaults.evaluation
  const f = ctx.facts
  const task = ctx.multilabel ? 'image-classification-multilabel' : 'image-classification'
  const compute = ctx.compute ?? d.compute
  const testData = ctx.testData ?? {path: d.test_data, type: 'mltable' as const}
  const config = JSON.stringify({metrics: d.metrics[task]}, null, 2) + '\n'
  const inputs: Record<string, unknown> = {
    task,
    test_data: {path: testData.path, type: testData.type},
    mlflow_model: {path: registryModelUri(f, ctx.registry), type: 'mlflow_model'},
    input_column_names: d.input_column_names,
    label_column_name: d.label_column_name,
    device: d.device,
    compute_name: compute,
  }
  if (ctx.instanceType) inputs.instance_type = ctx.instanceType.name
  inputs.evaluation_config_params = config
  const pipeline = {
    $schema: azureMlSchemaUrl('pipelineJob'),
    type: 'pipeline',
    experiment_name: experimentName(f.name, ctx.multilabel ? 'evaluation-multilabel' : 'evaluation-multiclass'),
    description: `Evaluate ${f.name} version ${f.version} for ${task}`,
    outputs: {evaluation_result: {type: 'uri_folder'}},
    settings: {...d.settings, default_compute: `azureml:${compute}`},
    jobs: {
      [d.job_name]: {
        type: 'pipeline',
        component: registryComponentUri(d.component),
        inputs,
        outputs: {evaluation_result: '${{parent.outputs.evaluation_result}}'},
      },
    },
  }
  const warnings: string[] = []
  if (!ctx.testData) {
    warnings.push(`test data: ${testData.path} is a placeholder; pass --test-data PATH (an MLTable folder, a JSONL file or an image folder)`)
  }
  return {
    documents: [
      {
        role: 'job',
        schema: 'pipelineJob',
        fileName: 'evaluation-pipeline.yaml',
        content: {
          data: pipeline,
          header: [
            ...provenance(ctx),
            ...instanceTypeLine(ctx.instanceType, 'instance_type'),
            'Submit: az ml job create --file evaluation-pipeline.yaml -g <group> -w <workspace>',
            'Run locally: vitrine evaluate --job evaluation-pipeline.yaml --model <model folder>',
          ],
        },
      },
    ],
    dataFiles: [],
    warnings,
  }
}
