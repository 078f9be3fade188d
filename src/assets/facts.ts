/**
 * The effective facts of a model asset, after reading asset.yaml, spec.yaml and model.yaml and resolving the
 * current (`system_metadata`) form over the legacy (`tags`/`properties`) form. `vitrine validate` checks the files;
 * `generate`, `package` and `apply` read these facts (through `readModelAssetFacts` in ./asset.ts) instead of
 * parsing spec.yaml again.
 */

export type Scenario = 'inference' | 'evaluation' | 'finetune'
export const SCENARIOS: readonly Scenario[] = ['inference', 'evaluation', 'finetune']

export interface ScenarioSkus {
  /** The compute allow list (system_metadata.supportedComputes.<s>Computes or tags.<s>_compute_allow_list). */
  allowList: string[]
  /** The recommended SKUs (system_metadata.SKU.<s>RecommendedSkus or tags.<s>-recommended-sku). */
  recommended: string[]
  /** The stated min-SKU spec, "vCPUs|GPUs|memoryGiB|diskGiB", when present. */
  minSkuSpec?: string
}

export interface ModelAssetFacts {
  /** The asset folder. */
  dir: string
  /** Which spec form the asset uses. */
  form: 'current' | 'legacy'
  name: string
  /** The version as written (an integer string, or 'auto'). */
  version: string
  description?: string
  task?: string
  license?: string
  publisher?: string
  huggingFaceModelId?: string
  inferenceTasks: string[]
  finetuningTasks: string[]
  /** Per scenario, present only when the spec declares any of that scenario's SKU keys. */
  skus: Partial<Record<Scenario, ScenarioSkus>>
  sharedComputeCapacityEnabled?: boolean
  tags: Record<string, unknown>
  properties: Record<string, unknown>
  /** model.yaml's `path` (where the weights live) and `publish`. */
  modelPath?: {type: string; [key: string]: unknown}
  publishType?: string
}
