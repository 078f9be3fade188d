/**
 * `vitrine finetune` end to end through the CLI: the PyTorch training references of ViT, DINOv2 and BEiT reproduced
 * from the images themselves (the CLI's own decoding and preprocessing), the outputs scored, the --json result against
 * its schema, bad rows, the --job path, and an interrupted run resumed to the same result.
 */
import {copyFile, mkdir, readFile, truncate, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {validateWithSchema} from '../../src/core/json-schema.js'
import {createTsBackend} from '../../src/engine/backend-ts.js'
import {loadModel} from '../../src/engine/classifier.js'
import {loadSafetensors, serializeSafetensorsHeader, tensorBytes, tensorToFloat32} from '../../src/weights/safetensors.js'
import {parseVitConfig} from '../../src/models/vit/config.js'
import {allocVitParameters} from '../../src/models/vit/parameters.js'
import {FIXTURES, readF32} from '../engine/fixtures.js'
import {FINAL_LOGITS_TOL, GRAD_NORM_REL_TOL, LOSS_TOL, TRAIN_CASES, WEIGHT_TOL, readFinalWeights, readTrainCase} from '../engine/train/train-fixtures.js'
import {checkTensor} from '../helpers/check-tensor.js'
import {runCli} from '../helpers/cli.js'
import {tempDir} from '../helpers/tmp.js'

const IMAGES = join(FIXTURES, 'images')

interface Result {
  status: string
  backend: string
  threads: number
  labels: string[]
  newHead: boolean
  skipped: Array<{source: string; line?: number; reason: string}>
  steps: Array<{step: number; lr: number; loss: number; grad_norm: number}>
  metrics: Array<{epoch: number; train_loss: number; validation_accuracy?: number}>
  notes: string[]
}

async function jsonl(file: string, rows: Array<{image_url: string; label: string}>): Promise<string> {
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  return file
}

async function weightsOf(file: string): Promise<Map<string, Float32Array>> {
  const st = await loadSafetensors(file)
  return new Map(st.header.tensors.map((t) => [t.name, tensorToFloat32(tensorBytes(st, t), t.dtype, t.name, file)]))
}

// Both backends: the TypeScript kernels, and the WebAssembly SIMD kernels on 2 threads.
const BACKENDS = [
  {flags: ['--backend', 'ts'], backend: /^ts$/, threads: 1},
  {flags: ['--backend', 'wasm', '--threads', '2'], backend: /^wasm-/, threads: 2},
]

describe('vitrine finetune reproduces the PyTorch training references from the images', () => {
  for (const [fixture, name] of TRAIN_CASES) for (const be of BACKENDS) {
    it(`${fixture}/${name} (${be.flags.join(' ')})`, async () => {
      const tc = readTrainCase(fixture, name)
      const h = tc.hyperparameters
      const dir = await tempDir()
      const data = await jsonl(
        join(dir, 'train.jsonl'),
        tc.data.images.map((image, i) => ({image_url: join(IMAGES, image), label: tc.data.label_names[i]})),
      )
      // The case's hyperparameters as flags: `steps` is epochs x (8 images / batch / accum).
      const args = ['finetune', '-m', join(FIXTURES, fixture), '--train-data', data, '--out', join(dir, 'out'), '--no-shuffle', '--no-augment']
      args.push('--batch-size', String(h.batch), '--gradient-accumulation', String(h.accum), '--epochs', String(tc.data.epochs))
      args.push('--learning-rate', String(h.lr), '--warmup-steps', String(h.warmup), '--scheduler', h.schedule === 'linear' ? 'warmup_linear' : 'warmup_cosine')
      args.push('--weight-decay', String(h.weight_decay), '--max-grad-norm', String(h.max_grad_norm), '--label-smoothing', String(h.label_smoothing), '--json')
      const r = await runCli([...args, ...be.flags], {timeout: 300_000})
      expect(r.exitCode, r.stderr).toBe(0)
      const result = JSON.parse(r.stdout) as Result
      expect(validateWithSchema('finetune-result.schema.json', result).state).toBe('ok')
      expect(result.backend).toMatch(be.backend)
      expect(result.threads).toBe(be.threads)
      expect(result.newHead).toBe(false)
      // beit-tiny's config has drop_path_rate 0.1: left out of the deterministic local steps, with a note
      expect(result.notes.some((n) => n.includes('drop_path_rate 0.1'))).toBe(fixture === 'beit-tiny')
      expect(result.steps.length).toBe(tc.steps.length)
      for (const [i, want] of tc.steps.entries()) {
        const got = result.steps[i]
        expect(got.step).toBe(want.step)
        expect(got.lr, `step ${want.step} lr`).toBe(want.lr)
        expect(Math.abs(got.loss - want.loss), `step ${want.step} loss ${got.loss} vs ${want.loss}`).toBeLessThanOrEqual(LOSS_TOL)
        expect(Math.abs(got.grad_norm - want.grad_norm) / want.grad_norm, `step ${want.step} grad_norm`).toBeLessThanOrEqual(GRAD_NORM_REL_TOL)
      }
      const final = await readFinalWeights(fixture, name)
      const ours = await weightsOf(join(dir, 'out', 'pytorch_model_folder', 'model.safetensors'))
      expect([...ours.keys()].sort()).toEqual([...final.keys()].sort())
      for (const [tensor, want] of final) checkTensor(ours.get(tensor) as Float32Array, want, tensor, WEIGHT_TOL)
      // the MLflow folder carries the same weights
      const mlflow = await weightsOf(join(dir, 'out', 'mlflow_model_folder', 'model', 'model.safetensors'))
      checkTensor(mlflow.get('classifier.weight') as Float32Array, final.get('classifier.weight') as Float32Array, 'mlflow classifier.weight', WEIGHT_TOL)
      const steps = (await readFile(join(dir, 'out', 'steps.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {step: number})
      expect(steps.map((s) => s.step)).toEqual(tc.steps.map((s) => s.step))
      // both outputs serve the trained model: the engine's logits of inputs.f32 from the Hugging Face folder are
      // PyTorch's after training, and `vitrine score` answers alike from it and from the MLflow folder
      const trained = await loadModel(join(dir, 'out', 'pytorch_model_folder'), {backend: createTsBackend(), maxBatch: 2})
      try {
        const logits = trained.forward(readF32(join(FIXTURES, fixture, 'inputs.f32')), 2)
        checkTensor(logits, new Float32Array(tc.final_logits_on_inputs.flat()), 'final logits on inputs.f32', FINAL_LOGITS_TOL)
      } finally {
        trained.dispose()
      }
      const scored = await Promise.all(
        ['pytorch_model_folder', 'mlflow_model_folder'].map((folder) => runCli(['score', '-m', join(dir, 'out', folder), join(IMAGES, 'horse.png'), '--backend', 'ts', '--json'])),
      )
      for (const r of scored) expect(r.exitCode, r.stderr).toBe(0)
      expect(JSON.parse(scored[1].stdout)).toEqual(JSON.parse(scored[0].stdout))
    }, 300_000)
  }
})

describe('vitrine finetune --task image-classification-multilabel', () => {
  it('trains a sigmoid head with binary cross-entropy on label lists; `evaluate` finds every label set of the training rows', async () => {
    const dir = await tempDir()
    // six images, each with a set of labels (one of them a single label, one with three)
    const rows: Array<[string, string[]]> = [
      ['block.png', ['geometric', 'gray']],
      ['camera.png', ['gray', 'photo']],
      ['chelsea.png', ['animal', 'photo']],
      ['coffee.png', ['photo']],
      ['horse.png', ['animal', 'gray', 'photo']],
      ['checker_bilevel.png', ['geometric']],
    ]
    const data = join(dir, 'train.jsonl')
    await writeFile(data, rows.map(([image, label]) => JSON.stringify({image_url: join(IMAGES, image), label})).join('\n') + '\n')
    const out = join(dir, 'out')
    const r = await runCli(
      ['finetune', '-m', join(FIXTURES, 'vit-geom'), '--train-data', data, '--out', out, '--task', 'image-classification-multilabel', '--batch-size', '3', '--epochs', '40', '--learning-rate', '1e-2', '--no-augment', '--json'],
      {timeout: 300_000},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as Result & {task: string}
    expect(validateWithSchema('finetune-result.schema.json', result).state).toBe('ok')
    expect(result.task).toBe('image-classification-multilabel')
    expect(result.newHead).toBe(true)
    expect(result.labels).toEqual(['animal', 'geometric', 'gray', 'photo'])
    expect(result.steps.length).toBe(80)
    // binary cross-entropy of a fresh head starts near ln 2 per label (small initial logits); training brings it down
    expect(result.steps[0].loss).toBeGreaterThan(0.6)
    expect(result.steps[0].loss).toBeLessThan(0.8)
    expect(result.steps.at(-1)!.loss).toBeLessThan(0.1)
    const config = JSON.parse(await readFile(join(out, 'pytorch_model_folder', 'config.json'), 'utf8')) as {problem_type: string; id2label: Record<string, string>}
    expect(config.problem_type).toBe('multi_label_classification')
    expect(Object.values(config.id2label)).toEqual(result.labels)
    const ev = await runCli(['evaluate', '-m', out, '-d', data, '--task', 'image-classification-multilabel', '--json'], {timeout: 120_000})
    expect(ev.exitCode, ev.stderr).toBe(0)
    const evaluated = JSON.parse(ev.stdout) as {metrics: {rows_scored: number; metrics: {accuracy: number}}}
    expect(evaluated.metrics.rows_scored).toBe(6)
    expect(evaluated.metrics.metrics.accuracy).toBe(1)
  }, 300_000)
})

describe('vitrine finetune: bad input', () => {
  const model = join(FIXTURES, 'vit-geom')
  const good = (label: string, image = 'block.png'): {image_url: string; label: string} => ({image_url: join(IMAGES, image), label})

  it('lists an unreadable image and an unknown validation label with their lines and skips them; --strict fails', async () => {
    const dir = await tempDir()
    const train = await jsonl(join(dir, 'train.jsonl'), [good('a'), good('b', 'camera.png'), good('a', 'truncated.jpg'), good('b', 'coffee.png')])
    const val = await jsonl(join(dir, 'val.jsonl'), [good('a', 'horse.png'), good('zebra', 'chelsea.png')])
    const base = ['finetune', '-m', model, '--train-data', train, '--validation-data', val, '--batch-size', '2', '--max-steps', '2', '--no-augment']
    const r = await runCli([...base, '--out', join(dir, 'out'), '--json'], {timeout: 120_000})
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as Result
    expect(result.newHead).toBe(true)
    expect(result.labels).toEqual(['a', 'b'])
    expect(result.skipped.map((b) => b.source)).toEqual([`${dir}/train.jsonl:3`, `${dir}/val.jsonl:2`])
    expect(result.skipped[0].reason).toContain('truncated.jpg')
    expect(result.skipped[1].reason).toContain('"zebra"')
    const strict = await runCli([...base, '--out', join(dir, 'strict'), '--strict'], {timeout: 120_000})
    expect(strict.exitCode).toBe(1)
    expect(strict.stderr).toContain('train.jsonl:3')
  }, 240_000)

  it('refuses empty data, a batch larger than the data, and a non-empty --out', async () => {
    const dir = await tempDir()
    const empty = join(dir, 'empty.jsonl')
    await writeFile(empty, '')
    const e = await runCli(['finetune', '-m', model, '--train-data', empty, '--out', join(dir, 'o1')])
    expect(e.exitCode).toBe(1)
    expect(e.stderr).toMatch(/no (labelled|usable)/)
    const two = await jsonl(join(dir, 'two.jsonl'), [good('a'), good('b', 'camera.png')])
    const big = await runCli(['finetune', '-m', model, '--train-data', two, '--out', join(dir, 'o2'), '--batch-size', '3'])
    expect(big.exitCode).toBe(2)
    expect(big.stderr).toContain('--batch-size 3 is larger than the 2 usable training images')
    const busy = await runCli(['finetune', '-m', model, '--train-data', two, '--out', dir, '--batch-size', '2'])
    expect(busy.exitCode).toBe(2)
    expect(busy.stderr).toContain('--force')
  }, 120_000)

  it('refuses a model whose training state does not fit the WebAssembly memory (4 GiB) with a usage error', async () => {
    const dir = await tempDir()
    // vit-geom's folder re-declared as ViT-L/16 at 384: ~300M parameters, 4.9 GB with gradients and moments
    const big = join(dir, 'vit-large')
    await mkdir(big)
    const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8')) as Record<string, unknown>
    Object.assign(config, {hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, intermediate_size: 4096, image_size: 384, patch_size: 16})
    await writeFile(join(big, 'config.json'), JSON.stringify(config))
    const pre = JSON.parse(await readFile(join(model, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>
    await writeFile(join(big, 'preprocessor_config.json'), JSON.stringify({...pre, size: {height: 384, width: 384}}))
    // a model.safetensors of the right names and shapes, its data a hole (a sparse file: nothing is read before the
    // training state is allocated)
    const {config: vit} = parseVitConfig(config, 'config.json')
    const {tensors} = allocVitParameters(vit, () => new Float32Array(0))
    const {head, offsets} = serializeSafetensorsHeader(tensors.map((t) => ({name: t.name, dtype: 'F32', shape: t.shape})), {format: 'pt'})
    await writeFile(join(big, 'model.safetensors'), head)
    await truncate(join(big, 'model.safetensors'), head.length + (offsets.at(-1)?.[1] ?? 0))
    const two = await jsonl(join(dir, 'two.jsonl'), [good('can'), good('apple', 'camera.png')])
    const r = await runCli(['finetune', '-m', big, '--train-data', two, '--out', join(dir, 'o'), '--batch-size', '2', '--backend', 'wasm', '--json'])
    expect(r.exitCode, r.stderr).toBe(2)
    const {error} = JSON.parse(r.stdout) as {error: {message: string}}
    expect(error.message).toContain("does not fit the WebAssembly kernels' 4 GiB")
    expect(error.message).toContain('--backend ts')
    await expect(readFile(join(dir, 'o', 'metrics.json'))).rejects.toThrow()
  }, 120_000)

  it('refuses a family that does not train yet (SwinV2), naming those that do', async () => {
    const dir = await tempDir()
    const two = await jsonl(join(dir, 'two.jsonl'), [good('a'), good('b', 'camera.png')])
    // --json: the human error is wrapped at the terminal width, at places that move with the temp path's length
    const r = await runCli(['finetune', '-m', join(FIXTURES, 'swinv2-tiny'), '--train-data', two, '--out', join(dir, 'o'), '--batch-size', '2', '--json'])
    expect(r.exitCode).toBe(1)
    const {error} = JSON.parse(r.stdout) as {error: {message: string}}
    expect(error.message).toContain('does not train swinv2 (Swinv2ForImageClassification) yet')
    expect(error.message).toMatch(/vit \(ViTForImageClassification\).*beit \(BeitForImageClassification\).*dinov2 \(Dinov2ForImageClassification\)/s)
  })

  it('stops with a clear error when the loss becomes NaN/Inf', async () => {
    const dir = await tempDir()
    const two = await jsonl(join(dir, 'two.jsonl'), [good('a'), good('b', 'camera.png')])
    const r = await runCli(['finetune', '-m', model, '--train-data', two, '--out', join(dir, 'o'), '--batch-size', '2', '--max-steps', '30', '--learning-rate', '1e30', '--max-grad-norm', '0', '--optimizer', 'sgd', '--no-augment'], {timeout: 120_000})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/loss is (NaN|Infinity|-Infinity) at step \d+/)
    // nothing half-written
    await expect(readFile(join(dir, 'o', 'metrics.json'))).rejects.toThrow()
  }, 120_000)
})

describe('the README worked example and the --job path on the digits', () => {
  it('fine-tunes vit-digits to a new even/odd head on 200 digits; `vitrine evaluate` on the other 100: accuracy >= 0.9', async () => {
    const dir = await tempDir()
    const out = join(dir, 'parity')
    const r = await runCli(
      ['finetune', '-m', 'examples/models/vit-digits', '--train-data', 'examples/datasets/digits-parity/train.jsonl', '--out', out, '--optimizer', 'sgd', '--learning-rate', '0.05', '--epochs', '3', '--no-augment', '--json'],
      {timeout: 600_000},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as Result
    expect(result.newHead).toBe(true)
    expect(result.labels).toEqual(['even', 'odd'])
    expect(result.steps.length).toBe(75)
    const config = JSON.parse(await readFile(join(out, 'pytorch_model_folder', 'config.json'), 'utf8')) as {id2label: Record<string, string>}
    expect(config.id2label).toEqual({0: 'even', 1: 'odd'})
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as {epochs: unknown[]}
    expect(metrics.epochs.length).toBe(3)
    const ev = await runCli(['evaluate', '-m', out, '-d', 'examples/datasets/digits-parity/test.jsonl', '--json'], {timeout: 300_000})
    expect(ev.exitCode, ev.stderr).toBe(0)
    const evaluated = JSON.parse(ev.stdout) as {metrics: {rows_scored: number; metrics: {accuracy: number}}}
    expect(evaluated.metrics.rows_scored).toBe(100)
    expect(evaluated.metrics.metrics.accuracy).toBeGreaterThanOrEqual(0.9)
  }, 900_000)

  it('`generate finetune` then `finetune --job` runs end to end, flags overriding the job with a note', async () => {
    const dir = await tempDir()
    const classes = join(dir, 'train')
    const rows = (await readFile(join('examples/datasets/digits-parity/train.jsonl'), 'utf8')).trim().split('\n').slice(0, 24)
    for (const [i, line] of rows.entries()) {
      const row = JSON.parse(line) as {image_url: string; label: string}
      await mkdir(join(classes, row.label), {recursive: true})
      await copyFile(join('examples/datasets/digits-parity', row.image_url), join(classes, row.label, `${i}.png`))
    }
    const gen = await runCli(['generate', 'finetune', '--asset', 'examples/assets/google-vit-base-patch16-224', '--train-data', classes, '--out', join(dir, 'gen')])
    expect(gen.exitCode, gen.stderr).toBe(0)
    const job = join(dir, 'gen', 'finetune-pipeline.yaml')
    // the job's model is the registry's ViT-B: a local run needs --model
    const noModel = await runCli(['finetune', '--job', job, '--out', join(dir, 'x')])
    expect(noModel.exitCode).toBe(2)
    expect(noModel.stderr).toContain('is not local')
    const r = await runCli(['finetune', '-m', 'examples/models/vit-digits', '--job', job, '--out', join(dir, 'tuned'), '--max-steps', '3', '--batch-size', '4', '--json'], {timeout: 300_000})
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as Result & {hyperparameters: {augment: boolean; seed: number; batchSize: number}; validationData?: {rows: number}}
    expect(result.steps.length).toBe(3)
    expect(result.labels).toEqual(['even', 'odd'])
    expect(result.hyperparameters.augment).toBe(true) // the job's apply_augmentations
    expect(result.hyperparameters.seed).toBe(42) // the job's random_seed
    expect(result.validationData?.rows).toBeGreaterThan(0) // the job's validation MLTable
    expect(result.notes.some((n) => n.startsWith('mlflow_model azureml://'))).toBe(true)
    expect(result.notes.some((n) => n.includes('apply_deepspeed'))).toBe(true)
  }, 600_000)
})
