/** A worker thread of ./pool.ts: validates its share of asset folders and posts the results back. */
import {parentPort, workerData} from 'node:worker_threads'

import {loadSkuCatalog} from '../skus/catalog.js'
import type {WorkerInput, WorkerMessage} from './pool.js'
import {validateAssetFolder, type AssetValidation} from './validate-asset.js'

const input = workerData as WorkerInput
const post = (m: WorkerMessage) => parentPort!.postMessage(m)
try {
  const ctx = {catalog: loadSkuCatalog(input.skuCatalog), supportedInference: new Set(input.supportedInferenceSkus)}
  const results: AssetValidation[] = []
  let sinceReport = 0
  for (const asset of input.assets) {
    const v = validateAssetFolder(asset.dir, asset.display, ctx)
    results.push(v)
    if (++sinceReport === 25) {
      post({done: sinceReport})
      sinceReport = 0
    }
  }
  if (sinceReport) post({done: sinceReport})
  post({results})
} catch (err) {
  post({error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err)})
}
