/**
 * Golden files: every KIND generated from the real ViT asset, in both spec forms (test/fixtures/azureml-assets).
 * The goldens were written by the code, then read line by line against Azure's samples
 * (cli/foundation-models/system/inference/image-classification/deploy-online.yaml, deploy-batch.yaml, the finetune
 * pipeline YAML, the evaluation CLI pattern); the asserts below pin the sample values independently of the goldens.
 * To rewrite them after a deliberate change: UPDATE_GOLDEN=1 npx vitest run test/generate/golden.test.ts
 */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'
import {parse, parseAllDocuments} from 'yaml'

import {generate} from '../../src/generate/generate.js'
import {checkAzureMlYaml} from '../../src/azureml/yaml-check.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const GOLDEN = join(ROOT, 'test/generate/golden')
const asset = (form: string) => `test/fixtures/azureml-assets/google-vit-base-patch16-224-${form}`

const CASES: Array<{kind: string; name: string; multilabel?: boolean}> = [
  {kind: 'online-endpoint', name: 'online-endpoint'},
  {kind: 'batch-endpoint', name: 'batch-endpoint'},
  {kind: 'finetune', name: 'finetune'},
  {kind: 'finetune', name: 'finetune-multilabel', multilabel: true},
  {kind: 'evaluation', name: 'evaluation'},
  {kind: 'evaluation', name: 'evaluation-multilabel', multilabel: true},
  {kind: 'model', name: 'model'},
]

async function generated(form: string, kind: string, multilabel = false): Promise<Map<string, string>> {
  const {texts} = await generate({kind, asset: asset(form), cwd: ROOT, multilabel})
  return texts
}

describe('golden files for every KIND from the real ViT asset', () => {
  for (const form of ['current', 'legacy']) {
    for (const c of CASES) {
      it(`${c.name} (${form} form)`, async () => {
        const texts = await generated(form, c.kind, c.multilabel)
        for (const [file, text] of texts) {
          const golden = join(GOLDEN, form, c.name, file)
          if (process.env.UPDATE_GOLDEN) {
            mkdirSync(join(golden, '..'), {recursive: true})
            writeFileSync(golden, text)
          }
          expect(text, golden).toBe(readFileSync(golden, 'utf8'))
          expect(checkAzureMlYaml(text, file)).toEqual([])
        }
      })
    }
  }
})

describe('generated values agree with the Azure samples (checked by hand, not taken from the code)', () => {
  it('online deployment: the sample probe and request settings, the registry model, the smallest allowed SKU', async () => {
    const texts = await generated('current', 'online-endpoint')
    const d = parse(texts.get('online-deployment.yaml')!)
    const e = parse(texts.get('online-endpoint.yaml')!)
    expect(d.$schema).toBe('https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json')
    expect(d.liveness_probe).toEqual({initial_delay: 180, period: 180, failure_threshold: 49, timeout: 299})
    expect(d.request_settings).toEqual({request_timeout_ms: 90000})
    expect(d.instance_count).toBe(1)
    expect(d.model).toBe('azureml://registries/azureml/models/google-vit-base-patch16-224/versions/18')
    // The inference allow list's only 2-vCPU SKU is Standard_E2s_v3 (2 vCPU, 16 GiB, 32 GiB disk per the VM docs),
    // and it meets 2|0|14|28; every other CPU SKU in the list has at least 4 vCPUs.
    expect(d.instance_type).toBe('Standard_E2s_v3')
    expect(d.endpoint_name).toBe(e.name)
    expect(e.auth_mode).toBe('key')
  })

  it('batch deployment: type model, one instance, mini batch 1 as in deploy-batch.yaml', async () => {
    const texts = await generated('legacy', 'batch-endpoint')
    const d = parse(texts.get('batch-deployment.yaml')!)
    expect(d.type).toBe('model')
    expect(d.resources).toEqual({instance_count: 1})
    expect(d.settings.mini_batch_size).toBe(1)
    expect(d.settings.output_action).toBe('append_row')
    expect(d.settings.output_file_name).toBe('predictions.csv')
    expect(d.compute).toBe('azureml:cpu-cluster')
    expect(parse(texts.get('batch-endpoint.yaml')!).auth_mode).toBe('aad_token')
  })

  it('finetune: the sample pipeline shape, on the smallest finetune SKU with one process per GPU', async () => {
    const texts = await generated('current', 'finetune')
    const p = parse(texts.get('finetune-pipeline.yaml')!)
    const job = p.jobs.huggingface_transformers_model_finetune_job
    expect(job.component).toBe('azureml://registries/azureml/components/transformers_image_classification_pipeline/labels/latest')
    expect(p.inputs.mlflow_model_path).toEqual({path: 'azureml://registries/azureml/models/google-vit-base-patch16-224/versions/18', type: 'mlflow_model'})
    expect(p.inputs.training_data.type).toBe('mltable')
    expect(job.inputs.task_name).toBe('image-classification')
    expect(job.inputs.mlflow_model).toBe('${{parent.inputs.mlflow_model_path}}')
    expect(job.outputs.mlflow_model_folder).toBe('${{parent.outputs.trained_model}}')
    expect(job.inputs.process_count_per_instance).toBe(1) // NC4as_T4_v3 has one T4
    // The sample's literal values.
    for (const [k, v] of Object.entries({image_width: -1, image_height: -1, number_of_workers: 8, precision: 32, random_seed: 42, save_total_limit: -1, early_stopping_patience: 1, evaluation_steps: 500})) {
      expect(job.inputs[k], k).toBe(v)
    }
    // model_specific_defaults of the asset: apply_deepspeed/apply_ort 'true'.
    expect(job.inputs.apply_deepspeed).toBe(true)
    expect(job.inputs.apply_ort).toBe(true)
    expect(p.settings).toEqual({force_rerun: true, continue_on_step_failure: false, default_compute: 'azureml:gpu-cluster'})
    expect(texts.get('finetune-pipeline.yaml')).toContain('Standard_NC4as_T4_v3')
    const ml = parse((await generated('current', 'finetune', true)).get('finetune-pipeline.yaml')!)
    expect(ml.jobs.huggingface_transformers_model_finetune_job.inputs.task_name).toBe('image-classification-multilabel')
    expect(ml.jobs.huggingface_transformers_model_finetune_job.inputs.metric_for_best_model).toBe('iou')
  })

  it('evaluation: task, columns, metrics and the model readable in the one job', async () => {
    const texts = await generated('legacy', 'evaluation')
    const p = parse(texts.get('evaluation-pipeline.yaml')!)
    const inputs = p.jobs.pipeline_component_job.inputs
    expect(p.jobs.pipeline_component_job.component).toBe('azureml://registries/azureml/components/model_evaluation_pipeline/labels/latest')
    expect(inputs.task).toBe('image-classification')
    expect(inputs.input_column_names).toBe('image_url')
    expect(inputs.label_column_name).toBe('label')
    expect(inputs.instance_type).toBe('Standard_NC4as_T4_v3')
    expect(JSON.parse(inputs.evaluation_config_params).metrics).toContain('accuracy')
    expect(inputs.mlflow_model.path).toBe('azureml://registries/azureml/models/google-vit-base-patch16-224/versions/18')
  })

  it('model: the blob folder of model.yaml, the publish type, and the spec form as written', async () => {
    const current = parse((await generated('current', 'model')).get('model-version.yaml')!)
    const legacy = parse((await generated('legacy', 'model')).get('model-version.yaml')!)
    const blob = 'https://automlcesdkdataresources.blob.core.windows.net/finetuning-image-models/HuggingFace-mlflow/google-vit-base-patch16-224/1714710821/mlflow_model_folder'
    for (const m of [current, legacy]) {
      expect(m.path).toBe(blob)
      expect(m.type).toBe('mlflow_model')
      expect(m.version).toBe(18)
      expect(m.description).toContain('Vision Transformer')
    }
    expect(current.system_metadata.SKU.inferenceMinSkuSpec).toBe('2|0|14|28')
    expect(legacy.system_metadata).toBeUndefined()
    expect(legacy.properties['inference-min-sku-spec']).toBe('2|0|14|28')
  })

  it('printing joins the documents with --- and each stays a valid document', async () => {
    const texts = await generated('current', 'online-endpoint')
    const docs = parseAllDocuments([...texts.values()].join('---\n'))
    expect(Array.isArray(docs) ? docs.map((d) => d.toJS().$schema) : []).toEqual([
      'https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json',
      'https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json',
    ])
  })
})
