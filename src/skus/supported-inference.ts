/**
 * The global inference allow list of the azureml-assets tooling
 * (scripts/azureml-assets/azureml/assets/config/supported_inference_skus.json, 59 SKUs): every SKU of a model's
 * inference compute allow list must be one of these. No such list exists for finetune or evaluation SKUs.
 */
import {readFileSync} from 'node:fs'

import {InvalidInputError, UsageError, describeFsError} from '../core/errors.js'

export const SUPPORTED_INFERENCE_SKUS: readonly string[] = [
  'Standard_DS1_v2', 'Standard_DS2_v2', 'Standard_D2a_v4', 'Standard_D2as_v4', 'Standard_E2s_v3',
  'Standard_NC4as_T4_v3', 'Standard_DS3_v2', 'Standard_D4a_v4', 'Standard_D4as_v4', 'Standard_F4s_v2',
  'Standard_FX4mds', 'Standard_E4s_v3', 'Standard_NC6s_v2', 'Standard_NC6s_v3', 'Standard_NC8as_T4_v3',
  'Standard_DS4_v2', 'Standard_D8a_v4', 'Standard_D8as_v4', 'Standard_F8s_v2', 'Standard_FX12mds',
  'Standard_E8s_v3', 'Standard_NC12s_v2', 'Standard_NC12s_v3', 'Standard_NC16as_T4_v3', 'Standard_DS5_v2',
  'Standard_D16a_v4', 'Standard_D16as_v4', 'Standard_F16s_v2', 'Standard_E16s_v3', 'Standard_NC24s_v2',
  'Standard_NC24s_v3', 'Standard_NC64as_T4_v3', 'Standard_NC24ads_A100_v4', 'Standard_D32a_v4', 'Standard_D32as_v4',
  'Standard_D48a_v4', 'Standard_D48as_v4', 'Standard_D64a_v4', 'Standard_D64as_v4', 'Standard_D96a_v4',
  'Standard_D96as_v4', 'Standard_F32s_v2', 'Standard_F48s_v2', 'Standard_F64s_v2', 'Standard_F72s_v2',
  'Standard_FX24mds', 'Standard_FX36mds', 'Standard_FX48mds', 'Standard_E32s_v3', 'Standard_E48s_v3',
  'Standard_E64s_v3', 'Standard_NC48ads_A100_v4', 'Standard_NC96ads_A100_v4', 'Standard_NC40ads_H100_v5',
  'Standard_NC80adis_H100_v5', 'Standard_ND96asr_v4', 'Standard_ND96amsr_A100_v4', 'Standard_ND96isr_H100_v5',
  'Standard_ND40rs_v2',
]

/** Reads a supported_inference_skus.json (a JSON array of names), e.g. a newer copy from azureml-assets. */
export function loadSupportedInferenceSkus(file: string): string[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw describeFsError(err, file) ?? new UsageError(`${file}: cannot read (${(err as Error).message})`)
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new InvalidInputError(`${file}: not valid JSON (${(err as Error).message})`, {file})
  }
  if (!Array.isArray(data) || !data.every((x) => typeof x === 'string')) {
    throw new InvalidInputError(`${file}: expected a JSON array of SKU names`, {file})
  }
  return data as string[]
}
