/**
 * A VM size as the Azure ML `vmSizes` API reports it — the figures the azureml-assets min-SKU rule compares with
 * (vCPUs, GPUs, int(memoryGB), int(maxResourceVolumeMB / 1024)) — and where those figures came from.
 */
export interface SkuSpec {
  name: string
  vcpus: number
  gpus: number
  memoryGiB: number
  diskGiB: number
  /** Provenance: 'vmSizes API (published spec)', 'VM docs', 'vmSizes API <region> <date>', ... */
  source: string
}

export interface SkuCatalog {
  /** Where the catalog was read from (the bundled file or --sku-catalog). */
  origin: string
  get(name: string): SkuSpec | undefined
  names(): string[]
  /** The closest known names to an unknown one, for "did you mean". */
  suggest(name: string): string[]
}
