/**
 * Every YAML `vitrine generate` writes for the example asset, loaded by the official Azure ML SDK: azure-ai-ml's
 * load_online_endpoint, load_online_deployment, load_batch_endpoint, load_batch_deployment, load_job and load_model
 * (Debian's python3-azure, azure-ai-ml 1.4.0, installed by scripts/ensure-azure-sdk.sh from `npm test`).
 *
 * That SDK is from January 2023. Fields the current service takes and it does not know are listed below by name;
 * the test requires the SDK to refuse exactly those (so the list cannot go stale) and to load the rest of the file.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {execa} from 'execa'
import {describe, expect, it} from 'vitest'

import {generate, writeGenerated} from '../../src/generate/generate.js'
import {ROOT} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const PYTHON = '/usr/bin/python3'
const SDK = '/usr/lib/python3/dist-packages/azure/ai/ml/__init__.py'
const HERE = join(ROOT, 'test/conformance')
const ASSET = join(ROOT, 'examples/assets/google-vit-base-patch16-224')

/** The loader for each generated file, by its $schema kind. */
const LOADER: Record<string, string> = {
  managedOnlineEndpoint: 'load_online_endpoint',
  managedOnlineDeployment: 'load_online_deployment',
  batchEndpoint: 'load_batch_endpoint',
  modelBatchDeployment: 'load_batch_deployment',
  batchDeployment: 'load_batch_deployment',
  pipelineJob: 'load_job',
  model: 'load_model',
}

/** Newer than azure-ai-ml 1.4.0: the fields it refuses as unknown, by file. */
const NEWER_THAN_SDK: Record<string, string[]> = {
  // Models' system_metadata (azureml-assets' current spec form) came after January 2023.
  'model-version.yaml': ['system_metadata'],
  // modelBatchDeployment nests its run settings under `settings:` (the 1.4.0 schema has them at the top).
  'batch-deployment.yaml': ['settings'],
}

interface LoadRecord {
  file: string
  loader: string
  ok: boolean
  type?: string
  name?: string | null
  unknown?: string[]
  okWithoutUnknown?: boolean
  error?: string
  errorWithoutUnknown?: string
}

const available = existsSync(PYTHON) && existsSync(SDK)
if (!available) console.warn(`SDK conformance: ${SDK} is missing (run scripts/ensure-azure-sdk.sh as root); ${process.env.CI ? 'failing under CI' : 'skipped'}`)

describe('the official Azure ML SDK loads every generated YAML', {timeout: 180_000}, () => {
  it.skipIf(!available && !process.env.CI)('azure-ai-ml 1.4.0 loaders, with the fields it predates named', async () => {
    expect(available, `${SDK} is missing: npm test installs python3-azure (scripts/ensure-azure-sdk.sh)`).toBe(true)
    const out = await tempDir()
    const files: Array<{path: string; kind: string}> = []
    for (const kind of ['online-endpoint', 'batch-endpoint', 'finetune', 'evaluation', 'model']) {
      const {result, texts} = await generate({kind, asset: ASSET, out: join(out, kind), cwd: ROOT})
      await writeGenerated(result, texts, join(out, kind))
      for (const f of result.files) if (f.role !== 'data' && f.role !== 'mltable') files.push({path: f.path, kind: f.kind})
    }
    expect(files.map((f) => LOADER[f.kind])).toEqual([
      'load_online_endpoint',
      'load_online_deployment',
      'load_batch_endpoint',
      'load_batch_deployment',
      'load_job',
      'load_job',
      'load_model',
    ])
    const r = await execa(PYTHON, [join(HERE, 'load_with_sdk.py'), ...files.map((f) => `${LOADER[f.kind]}=${f.path}`)], {
      // Debian packages azure-ai-ml without its pydash dependency: shim/pydash.py has the three functions it calls.
      env: {PYTHONPATH: join(HERE, 'shim'), PYTHONDONTWRITEBYTECODE: '1'},
      reject: false,
    })
    expect(r.exitCode, String(r.stderr)).toBe(0)
    const records = String(r.stdout).trim().split('\n').map((l) => JSON.parse(l) as LoadRecord)
    expect(records).toHaveLength(files.length)
    const gaps: string[] = []
    for (const rec of records) {
      const base = rec.file.split('/').pop()!
      const newer = NEWER_THAN_SDK[base] ?? []
      if (newer.length === 0) {
        expect(rec.ok, `${rec.loader}(${rec.file}): ${rec.error}`).toBe(true)
        continue
      }
      // The SDK refuses exactly the newer fields, and loads everything else in the file.
      expect(rec.ok, `${rec.file} now loads: remove it from NEWER_THAN_SDK`).toBe(false)
      expect(rec.unknown, rec.error).toEqual(newer)
      expect(rec.okWithoutUnknown, rec.errorWithoutUnknown).toBe(true)
      gaps.push(`${base}: ${newer.join(', ')} (unknown to azure-ai-ml 1.4.0; the rest loads with ${rec.loader} as ${rec.type})`)
    }
    console.info(`SDK conformance: ${records.length} YAMLs loaded; fields newer than the SDK:\n  ${gaps.join('\n  ')}`)
    expect(gaps).toHaveLength(Object.keys(NEWER_THAN_SDK).length)
    expect(records.map((x) => x.type)).toEqual([
      'ManagedOnlineEndpoint',
      'ManagedOnlineDeployment',
      'BatchEndpoint',
      'BatchDeployment',
      'PipelineJob',
      'PipelineJob',
      'Model',
    ])
  })
})
