/**
 * runEvaluate as a library: progress while scoring, the multilabel task end to end (sigmoid of the real logits,
 * thresholded), and job YAML reading edge cases.
 */
import {writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {describe, expect, it} from 'vitest'

import type {Progress} from '../../src/core/progress.js'
import {runEvaluate} from '../../src/evaluate/evaluate.js'
import {readEvaluationJob} from '../../src/evaluate/job.js'
import {renderReport} from '../../src/evaluate/report.js'
import {tempDir} from '../helpers/tmp.js'

const MODEL = 'examples/models/vit-digits'
const DIGITS = resolve('examples/datasets/digits-eval')

/** The first n digit rows as a JSONL in `dir` (absolute image paths), with labels mapped by `label`. */
async function digitsSubset(dir: string, n: number, label: (digit: string) => unknown): Promise<string> {
  const {readFile} = await import('node:fs/promises')
  const rows = (await readFile(join(DIGITS, 'annotations.jsonl'), 'utf8')).trim().split('\n').slice(0, n)
  const out = rows.map((l) => {
    const r = JSON.parse(l) as {image_url: string; label: string}
    return JSON.stringify({image_url: join(DIGITS, r.image_url), label: label(r.label)})
  })
  const file = join(dir, 'subset.jsonl')
  await writeFile(file, out.join('\n') + '\n')
  return file
}

describe('runEvaluate', () => {
  it('reports progress over every row while scoring', async () => {
    const dir = await tempDir()
    const data = await digitsSubset(dir, 20, (d) => d)
    const events: string[] = []
    let advanced = 0
    const progress: Progress = {
      start: (label, total) => events.push(`start ${label} ${total}`),
      advance: (n) => (advanced += n),
      stop: (m) => events.push(`stop ${m ?? ''}`),
    }
    const {result} = await runEvaluate({model: MODEL, data, progress, threads: 2, batchSize: 8})
    expect(events).toEqual(['start Scoring 20', 'stop 20 scored, 0 skipped'])
    expect(advanced).toBe(20)
    expect(result.metrics.rows_scored).toBe(20)
  })

  it('multilabel: per-label sigmoid of the logits, thresholded; the logit differences match the softmax run', async () => {
    const dir = await tempDir()
    // Each image labelled with its digit and, for even digits, also "0" (a made-up second label).
    const data = await digitsSubset(dir, 24, (d) => (Number(d) % 2 === 0 && d !== '0' ? [d, '0'] : [d]))
    const multi = await runEvaluate({model: MODEL, data, task: 'image-classification-multilabel', threshold: 0.5, threads: 2})
    const single = await runEvaluate({model: MODEL, data: await digitsSubset(dir, 24, (d) => d), threads: 2})
    expect(multi.result.metrics.threshold).toBe(0.5)
    expect(multi.result.metrics.rows_scored).toBe(24)
    multi.predictions.forEach((row, i) => {
      const ps = row.probabilities
      const pm = single.predictions[i].probabilities
      // logit_a - logit_b from the sigmoids equals log(pm_a / pm_b) from the softmax: the same logits underneath.
      const logit = (p: number): number => Math.log(p / (1 - p))
      expect(logit(ps[3]) - logit(ps[7])).toBeCloseTo(Math.log(pm[3] / pm[7]), 2)
      expect(row.prediction).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'].filter((_, c) => ps[c] >= 0.5))
      expect(Array.isArray(row.label)).toBe(true)
    })
    // Subset accuracy counted here from the rows.
    const exact = multi.predictions.filter((r) => {
      const a = [...(r.label as string[])].sort()
      const b = [...(r.prediction as string[])].sort()
      return a.join() === b.join()
    }).length
    expect(multi.result.metrics.metrics.accuracy).toBeCloseTo(exact / 24, 12)
    const html = await renderReport({result: multi.result, predictions: multi.predictions, labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], imagePath: () => undefined})
    expect(html).toContain('data-kind="TP"')
  })

  it('--strict: the first bad row fails the run, naming its line', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'd.jsonl'), `{"image_url": "${join(DIGITS, 'images/2/1081.png')}", "label": "2"}\n{"image_url": "nope.png", "label": "2"}\n`)
    await expect(runEvaluate({model: MODEL, data: join(dir, 'd.jsonl'), strict: true, threads: 1})).rejects.toThrow(/d\.jsonl:2: .*nope\.png: no such file/)
    const {result} = await runEvaluate({model: MODEL, data: join(dir, 'd.jsonl'), threads: 1})
    expect(result.skipped).toMatchObject([{line: 2}])
  })
})

describe('readEvaluationJob', () => {
  it('reads parent inputs, a local evaluation_config file and a local model; remote test data is flagged', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'cfg.json'), '{"metrics": ["accuracy", "f1_score_binary"]}')
    await writeFile(
      join(dir, 'job.yaml'),
      [
        'type: pipeline',
        'inputs:',
        '  data: {path: azureml://datastores/blob/paths/test/, type: mltable}',
        'jobs:',
        '  evaluate:',
        '    type: pipeline',
        '    component: azureml://registries/azureml/components/model_evaluation_pipeline/labels/latest',
        '    inputs:',
        '      task: image-classification-multilabel',
        '      test_data: ${{parent.inputs.data}}',
        '      mlflow_model: {path: ./model, type: mlflow_model}',
        '      label_column_name: tags',
        '      evaluation_config: {path: ./cfg.json, type: uri_file}',
        '      device: gpu',
      ].join('\n'),
    )
    const job = await readEvaluationJob(join(dir, 'job.yaml'))
    expect(job).toMatchObject({
      jobName: 'evaluate',
      task: 'image-classification-multilabel',
      testData: {path: 'azureml://datastores/blob/paths/test/', type: 'mltable', remote: true},
      model: {path: join(dir, 'model'), remote: false},
      labelColumn: 'tags',
      metrics: ['accuracy', 'f1_score_binary'],
    })
    expect(job.notes.join('\n')).toMatch(/device gpu: the local run is CPU only/)
    await expect(runEvaluate({model: MODEL, job: join(dir, 'job.yaml')})).rejects.toThrow(/test_data azureml:\/\/datastores\/blob\/paths\/test\/ is not local; pass --data/)
  })

  it('names the field of a malformed evaluation_config_params', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'job.yaml'), 'jobs:\n  j:\n    inputs:\n      task: image-classification\n      evaluation_config_params: "{metrics: nope"\n')
    await expect(readEvaluationJob(join(dir, 'job.yaml'))).rejects.toThrow(/jobs\.j\.inputs\.evaluation_config_params: not valid JSON/)
  })
})
