/**
 * `vitrine evaluate` as a user runs it (the built CLI): the digits evaluation against PyTorch's results in
 * expected.json, bad rows, --strict, the --json schema, and the generate -> evaluate --job round trip.
 * Run `npm run build` (or tsc -p tsconfig.build.json && node scripts/manifest.js) first.
 */
import {copyFile, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

interface Expected {
  metrics: {accuracy: number; precision_macro: number; recall_macro: number; f1_score_macro: number; confusion_matrix: number[][]; labels: string[]}
  predictions: Array<{image: string; label: string; predicted: string; probs: number[]}>
}
const expected = JSON.parse(await readFile(new URL('../fixtures/digits-eval/expected.json', import.meta.url), 'utf8')) as Expected
const MODEL = 'examples/models/vit-digits'
const DIGITS = resolve('examples/datasets/digits-eval')
const JSONL = join(DIGITS, 'annotations.jsonl')

interface Result {
  ok: boolean
  metrics: {rows_scored: number; rows_skipped: number; metrics: Record<string, unknown>; per_class: Array<{label: string; support: number}>; not_computed: Array<{metric: string}>}
  skipped: Array<{source: string; line?: number; reason: string}>
  job?: {notes: string[]}
  outputs?: {metrics: string; predictions: string; report: string}
}

/** oclif wraps long error messages at the terminal width, with a ' ›' margin: undo that before matching. */
const unwrap = (stderr: string): string => stderr.replace(/\s*\n\s*›\s*/g, ' ')

function checkSchemas(result: Result): void {
  const r = validateWithSchema('evaluate-result.schema.json', result)
  expect(r.state === 'error' ? r.issues : []).toEqual([])
  const m = validateWithSchema('metrics.schema.json', result.metrics)
  expect(m.state === 'error' ? m.issues : []).toEqual([])
}

/** The macro figures of expected.json, compared at float64 precision (they are ratios of the same counts). */
function expectDigitMetrics(metrics: Record<string, unknown>): void {
  expect(metrics.accuracy).toBeCloseTo(expected.metrics.accuracy, 12)
  expect(metrics.precision_score_macro).toBeCloseTo(expected.metrics.precision_macro, 12)
  expect(metrics.recall_score_macro).toBeCloseTo(expected.metrics.recall_macro, 12)
  expect(metrics.f1_score_macro).toBeCloseTo(expected.metrics.f1_score_macro, 12)
  expect((metrics.confusion_matrix as {data: {matrix: number[][]}}).data.matrix).toEqual(expected.metrics.confusion_matrix)
}

describe('vitrine evaluate', () => {
  it("digits JSONL: PyTorch's 300 predictions and its accuracy / macro P, R, F1; metrics.json, predictions.jsonl, report.html", async () => {
    const out = await tempDir()
    const run = await runCli(['evaluate', '-m', MODEL, '--data', JSONL, '--out', out, '--json'], {timeout: 180_000})
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const result = JSON.parse(run.stdout) as Result
    checkSchemas(result)
    expect(result.metrics.rows_scored).toBe(300)
    expect(result.skipped).toEqual([])
    expectDigitMetrics(result.metrics.metrics)

    const fileMetrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as Result['metrics']
    expect(fileMetrics).toEqual(result.metrics)
    const rows = (await readFile(join(out, 'predictions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {image: string; label: string; prediction: string; probabilities: number[]; line: number})
    expect(rows).toHaveLength(300)
    rows.forEach((row, i) => {
      const e = expected.predictions[i]
      expect([row.image, row.label, row.prediction, row.line]).toEqual([e.image, e.label, e.predicted, i + 1])
      // float32 engine vs PyTorch: probabilities agree to ~1e-6 (the engine's own tests bound the logits)
      row.probabilities.forEach((p, c) => expect(Math.abs(p - e.probs[c])).toBeLessThan(1e-4))
    })
    const html = await readFile(join(out, 'report.html'), 'utf8')
    expect(html).not.toMatch(/(src|href)="https?:/)
    expect(html).toContain('class="cm-cell"')
  })

  it('a folder per class gives the same metrics', async () => {
    const run = await runCli(['evaluate', '-m', MODEL, '--data', join(DIGITS, 'images'), '--json'], {timeout: 180_000})
    expect(run.exitCode).toBe(0)
    const result = JSON.parse(run.stdout) as Result
    checkSchemas(result)
    expectDigitMetrics(result.metrics.metrics)
  })

  it('bad rows are reported with their lines and skipped; --strict fails on the first', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'img'))
    const good = expected.predictions.slice(0, 3)
    for (const [i, p] of good.entries()) await copyFile(join(DIGITS, p.image), join(dir, 'img', `${i}.png`))
    await writeFile(join(dir, 'img', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really a png'))
    const lines = [
      JSON.stringify({image_url: 'img/0.png', label: good[0].label}),
      JSON.stringify({image_url: 'img/missing.png', label: '3'}),
      JSON.stringify({image_url: 'img/1.png', label: good[1].label}),
      JSON.stringify({image_url: 'img/broken.png', label: '4'}),
      JSON.stringify({image_url: 'img/2.png', label: 'eleven'}),
      '{"image_url": "img/2.png", "label": ',
      JSON.stringify({image_url: 'img/2.png', label: good[2].label}),
    ]
    await writeFile(join(dir, 'data.jsonl'), lines.join('\n') + '\n')
    const run = await runCli(['evaluate', '-m', MODEL, '--data', join(dir, 'data.jsonl'), '--json'], {timeout: 120_000})
    expect(run.exitCode).toBe(0)
    const result = JSON.parse(run.stdout) as Result
    checkSchemas(result)
    expect(result.metrics.rows_scored).toBe(3)
    expect(result.skipped.map((b) => b.line)).toEqual([2, 4, 5, 6])
    const reason = (line: number): string => result.skipped.find((b) => b.line === line)?.reason ?? ''
    expect(reason(2)).toMatch(/no such file/)
    expect(reason(4)).toMatch(/broken\.png/)
    expect(reason(5)).toMatch(/label "eleven" is not one of the model's labels/)
    expect(reason(6)).toMatch(/not valid JSON/)
    expect(result.skipped[0].source).toMatch(/data\.jsonl:2$/)

    const human = await runCli(['evaluate', '-m', MODEL, '--data', join(dir, 'data.jsonl')], {timeout: 120_000})
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toMatch(/Skipped 4 bad row\(s\)/)
    expect(human.stdout).toMatch(/data\.jsonl:5: label "eleven"/)

    const strict = await runCli(['evaluate', '-m', MODEL, '--data', join(dir, 'data.jsonl'), '--strict'], {timeout: 120_000})
    expect(strict.exitCode).toBe(1)
    expect(unwrap(strict.stderr)).toMatch(/data\.jsonl:6: not valid JSON/)
    expect(strict.stderr).not.toMatch(/\n\s+at /)
  })

  it('vitrine generate evaluation, then vitrine evaluate --job: the same metrics, the config\'s metric list, and what differs from Azure', async () => {
    const out = await tempDir()
    const gen = await runCli(['generate', 'evaluation', '--asset', 'examples/assets/google-vit-base-patch16-224', '--test-data', JSONL, '--out', join(out, 'job')])
    expect(gen.exitCode).toBe(0)
    const yamlPath = join(out, 'job', 'evaluation-pipeline.yaml')
    const run = await runCli(['evaluate', '--job', yamlPath, '-m', MODEL, '--out', join(out, 'eval'), '--json'], {timeout: 180_000})
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    const result = JSON.parse(run.stdout) as Result
    checkSchemas(result)
    expect(result.metrics.rows_scored).toBe(300)
    expectDigitMetrics(result.metrics.metrics)
    // The metric names are exactly the job's evaluation_config_params list (read here from the YAML text).
    const yamlText = await readFile(yamlPath, 'utf8')
    const configured = [...yamlText.matchAll(/^\s+"([A-Za-z0-9_]+)",?$/gm)].map((m) => m[1])
    expect(configured.length).toBeGreaterThan(10)
    expect([...Object.keys(result.metrics.metrics), ...result.metrics.not_computed.map((n) => n.metric)].sort()).toEqual([...configured].sort())
    const notes = result.job?.notes.join('\n') ?? ''
    expect(notes).toMatch(/compute gpu-cluster: not used/)
    expect(notes).toMatch(/mlflow_model azureml:\/\/registries\/azureml\/models\/google-vit-base-patch16-224\/versions\/\d+: replaced by --model/)

    // Without --model, a registry model cannot run here: a usage error that says so.
    const noModel = await runCli(['evaluate', '--job', yamlPath])
    expect(noModel.exitCode).toBe(2)
    expect(unwrap(noModel.stderr)).toMatch(/--model is required \(the job's mlflow_model azureml:\/\/registries\/.* is not local\)/)
  })

  it("an MLTable folder from generate finetune --train-data, through generate evaluation and --job: expected.json's predictions for its images", async () => {
    const out = await tempDir()
    const ft = await runCli(['generate', 'finetune', '--asset', 'examples/assets/google-vit-base-patch16-224', '--train-data', join(DIGITS, 'images'), '--out', join(out, 'ft')])
    expect(ft.exitCode).toBe(0)
    const table = join(out, 'ft', 'data', 'validation-mltable-folder')
    const gen = await runCli(['generate', 'evaluation', '--asset', 'examples/assets/google-vit-base-patch16-224', '--test-data', table, '--out', join(out, 'job')])
    expect(gen.exitCode).toBe(0)
    // The evaluation component declares test_data as uri_folder: the data folder holds the MLTable, its JSONL and the images.
    expect(await readFile(join(out, 'job', 'evaluation-pipeline.yaml'), 'utf8')).toMatch(/path: .\/data\/test-data-folder\n\s+type: uri_folder/)
    const run = await runCli(['evaluate', '--job', join(out, 'job', 'evaluation-pipeline.yaml'), '-m', MODEL, '--out', join(out, 'eval'), '--json'], {timeout: 180_000})
    expect(run.exitCode).toBe(0)
    const result = JSON.parse(run.stdout) as Result & {data: {format: string}}
    checkSchemas(result)
    expect(result.data.format).toBe('mltable')
    const rows = (await readFile(join(out, 'eval', 'predictions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {image: string; prediction: string})
    expect(rows.length).toBe(result.metrics.rows_scored)
    expect(rows.length).toBeGreaterThan(20)
    const byImage = new Map(expected.predictions.map((p) => [p.image.replace(/^images\//, ''), p]))
    let correct = 0
    for (const row of rows) {
      // The data folder names each image by its path inside it (<label>/<name>), as copied from the class folders.
      const key = /(?:^|\/)(\d\/\d+\.png)$/.exec(row.image)?.[1] as string
      const e = byImage.get(key)
      expect(e, row.image).toBeDefined()
      expect(row.prediction).toBe(e?.predicted)
      if (e?.predicted === e?.label) correct++
    }
    expect(result.metrics.metrics.accuracy).toBeCloseTo(correct / rows.length, 12)
  })

  it('usage errors: no data, a missing path, a task it cannot run', async () => {
    const noData = await runCli(['evaluate', '-m', MODEL])
    expect(noData.exitCode).toBe(2)
    expect(unwrap(noData.stderr)).toMatch(/--data is required/)
    const missing = await runCli(['evaluate', '-m', MODEL, '--data', 'no/such.jsonl'])
    expect(missing.exitCode).toBe(2)
    expect(unwrap(missing.stderr)).toMatch(/no\/such\.jsonl: no such file or directory/)
    const dir = await tempDir()
    await writeFile(join(dir, 'job.yaml'), 'type: pipeline\njobs:\n  e:\n    type: pipeline\n    component: azureml://registries/azureml/components/model_evaluation_pipeline/labels/latest\n    inputs:\n      task: text-classification\n')
    const task = await runCli(['evaluate', '-m', MODEL, '--job', join(dir, 'job.yaml')])
    expect(task.exitCode).toBe(1)
    expect(unwrap(task.stderr)).toMatch(/jobs\.e\.inputs\.task: 'text-classification' cannot run locally/)
  })
})
