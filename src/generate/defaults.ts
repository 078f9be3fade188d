/**
 * The sample-derived defaults (templates/azureml/defaults.yaml): probe timings, batch settings, the finetune
 * component's hyperparameters, the evaluation metrics. Kept in a template so a reader sees where each comes from.
 */
import {readFileSync} from 'node:fs'

import {parse} from 'yaml'

import {assetPath} from '../core/paths.js'

export interface ProbeDefaults {
  initial_delay: number
  period: number
  failure_threshold: number
  timeout: number
}

export interface GenerateDefaults {
  online: {
    deployment_name: string
    instance_count: number
    request_settings: {request_timeout_ms: number}
    liveness_probe: ProbeDefaults
    readiness_probe: ProbeDefaults
    auth_mode: string
  }
  batch: {
    deployment_name: string
    compute: string
    instance_count: number
    mini_batch_size: number
    output_action: string
    output_file_name: string
    retry_settings: {max_retries: number; timeout: number}
    auth_mode: string
  }
  finetune: {
    component: string
    job_name: string
    compute_model_import: string
    compute_finetune: string
    training_data: string
    validation_data: string
    settings: Record<string, boolean>
    instance_count: number
    model_family: string
    download_from_source: boolean
    inputs: Record<string, string | number | boolean>
    label_column_name: string
    input_column_names: string
    optional: Record<string, string | number | boolean>
    metric_for_best_model: Record<string, string>
  }
  evaluation: {
    component: string
    job_name: string
    compute: string
    test_data: string
    device: string
    label_column_name: string
    input_column_names: string
    settings: Record<string, boolean>
    metrics: Record<string, string[]>
  }
  mltable: {validation_every: number}
}

let cached: GenerateDefaults | undefined

/** templates/azureml/defaults.yaml, read once per process. */
export function generateDefaults(): GenerateDefaults {
  cached ??= parse(readFileSync(assetPath('templates', 'azureml', 'defaults.yaml'), 'utf8')) as GenerateDefaults
  return cached
}
