/**
 * The README's examples, run in order on a copy of `examples/` as a user would type them, with their output
 * normalised (timings, absolute paths, ports) so that two runs of the same code give the same record.
 *
 * Recorded once on the code before issue 17's restructuring (`record.ts`) into
 * recorded.json; readme.test.ts runs the same examples on the current code and compares. A difference that a later,
 * intended change makes is listed by name, with its reason, in `changes.ts` — never a silent re-record.
 */
import {createHash} from 'node:crypto'
import {cp, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'

import {FakeArm} from '../../azure/fake-arm.js'
import {startFakeArm, SUBSCRIPTION as SKU_SUBSCRIPTION} from '../../skus/fake-vmsizes.js'

export interface CliRun {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs `vitrine ARGS` in CWD with ENV added to the environment. */
export type Runner = (args: string[], options: {cwd: string; env: Record<string, string>}) => Promise<CliRun>

export interface Example {
  /** Stable name of the example (file-name safe). */
  id: string
  /** The README line it stands for, verbatim after `vitrine ` (so the README and this list cannot drift apart). */
  readme: string
  /** The arguments actually run; the same as `readme` unless `adapted` says why not. */
  args: string[]
  adapted?: string
  /** Which fake server the example talks to, its URL given through AZURE_ARM_ENDPOINT as the README says. */
  azure?: 'arm' | 'vmsizes'
}

export interface ExampleRecord {
  id: string
  args: string[]
  exitCode: number
  stdout: string
  stderr: string
  /** Files under build/ (and skus-eastus.json) the example wrote or changed: path -> normalised text or sha256. */
  files: Record<string, string>
}

const VIT = 'examples/assets/google-vit-base-patch16-224'

function ex(id: string, readme: string, more: Partial<Example> = {}): Example {
  return {id, readme, args: splitArgs(readme), ...more}
}

/** Shell-like split of a README line (no quotes or variables are needed by the examples that run). */
function splitArgs(line: string): string[] {
  return line.trim().split(/\s+/)
}

/**
 * Every README example that runs on this machine, in README order (later ones use what earlier ones wrote).
 * The apply and skus examples run against the repository's fake ARM server on 127.0.0.1 with a fake token.
 */
export const EXAMPLES: Example[] = [
  ex('validate-tree', 'validate examples/assets'),
  ex('validate-json', 'validate examples/assets --json'),
  ex('validate-sarif', 'validate assets --changed-since origin/main --format sarif', {
    args: ['validate', 'examples/assets', '--format', 'sarif'],
    adapted: 'the README names a user\'s own assets tree and git branch: run on examples/assets without --changed-since (the work copy is not a git checkout)',
  }),
  ex('validate-fix', 'validate assets --fix', {args: ['validate', 'examples/assets', '--fix'], adapted: 'examples/assets stands for the user\'s assets tree'}),
  ex('skus-refresh', 'skus refresh --subscription $AZURE_SUBSCRIPTION_ID --region eastus -o skus-eastus.json', {
    args: ['skus', 'refresh', '--subscription', SKU_SUBSCRIPTION, '--region', 'eastus', '-o', 'skus-eastus.json'],
    adapted: '$AZURE_SUBSCRIPTION_ID expanded to the fake vmSizes server\'s subscription',
    azure: 'vmsizes',
  }),
  ex('validate-sku-catalog', 'validate assets --sku-catalog skus-eastus.json', {
    args: ['validate', 'examples/assets', '--sku-catalog', 'skus-eastus.json'],
    adapted: 'examples/assets stands for the user\'s assets tree',
  }),
  ex('convert', 'convert examples/models/vit-digits --out build/vit-digits-hf'),
  ex('package', 'package examples/models/vit-digits --out build/vit-digits --name vit-digits --version 1 --onnx'),
  ex('verify', 'verify build/vit-digits'),
  ex('validate-package', 'validate build/vit-digits/asset'),
  ex('generate-online', `generate online-endpoint --asset ${VIT} --out build/online`),
  ex('generate-online-set', `generate online-endpoint --asset ${VIT} --set instance_count=2`),
  ex('generate-batch', `generate batch-endpoint --asset ${VIT} --out build/batch`),
  ex('generate-finetune', `generate finetune --asset ${VIT} --train-data examples/datasets/digits-eval/images --out build/ft`),
  ex('generate-evaluation', `generate evaluation --asset ${VIT} --test-data examples/datasets/digits-eval/annotations.jsonl --out build/eval-job`),
  ex('generate-model', `generate model --asset ${VIT} --out build/register`),
  ex('validate-yaml', 'validate build/online/online-deployment.yaml'),
  ex('apply-plan', 'apply build/vit-digits --plan', {azure: 'arm'}),
  ex('apply-package', 'apply build/vit-digits', {azure: 'arm'}),
  ex('generate-online-registry', 'generate online-endpoint --asset build/vit-digits/asset --registry $AZUREML_REGISTRY --out build/online', {
    args: ['generate', 'online-endpoint', '--asset', 'build/vit-digits/asset', '--registry', 'vitrine-test', '--out', 'build/online'],
    adapted: '$AZUREML_REGISTRY expanded to the fake server\'s registry',
  }),
  ex('apply-online', 'apply build/online/*.yaml --all-traffic --wait', {
    args: ['apply', 'build/online/online-endpoint.yaml', 'build/online/online-deployment.yaml', '--all-traffic', '--wait', '--poll-interval', '0.01'],
    adapted: 'the shell expands build/online/*.yaml; --poll-interval 0.01 so the fake\'s operations are followed in milliseconds',
    azure: 'arm',
  }),
  ex('apply-plan-detailed', 'apply build/online/*.yaml --plan --detailed-exitcode', {
    args: ['apply', 'build/online/online-endpoint.yaml', 'build/online/online-deployment.yaml', '--plan', '--detailed-exitcode'],
    adapted: 'the shell expands build/online/*.yaml',
    azure: 'arm',
  }),
  ex('score-folder', 'score --model examples/models/vit-digits examples/images/digits'),
  ex('score-json', 'score -m examples/models/vit-digits examples/images/digits/digit-7-0182.png --json'),
  ex('score-request', 'score -m examples/models/vit-digits --request request.json'),
  ex('batch', 'batch examples/images/digits --model examples/models/vit-digits --out build/digits.csv'),
  ex('evaluate', 'evaluate -m examples/models/vit-digits -d examples/datasets/digits-eval/annotations.jsonl --out build/eval'),
  ex('evaluate-job', 'evaluate -m examples/models/vit-digits --job build/eval-job/evaluation-pipeline.yaml --out build/eval --force'),
]

/** README example lines that are not run, and why. */
export const NOT_RUN: ReadonlyArray<readonly [readme: string, why: string]> = [
  ['convert ViT-B_16.npz --out vit-b16 --dtype float16', 'needs Google\'s 346 MB JAX checkpoint, which examples/ does not ship (convert from .npz is covered by test/weights on a fixture)'],
  ['convert vit_small.pth --from timm --num-heads 6 --labels labels.txt --out vit-s', 'needs a timm ViT-S checkpoint, which examples/ does not ship (timm conversion is covered by test/weights)'],
  ['finetune -m examples/models/vit-digits --train-data examples/datasets/digits-parity/train.jsonl --out build/parity --optimizer sgd --learning-rate 0.05 --epochs 3 --no-augment', 'new with issue 14, after the recording: run (and its accuracy checked) by test/commands/finetune.test.ts'],
  ['evaluate -m build/parity -d examples/datasets/digits-parity/test.jsonl', 'new with issue 14, after the recording: run by test/commands/finetune.test.ts on the fine-tuned model'],
  ['finetune -m examples/models/vit-digits --job build/ft/finetune-pipeline.yaml --out build/parity-job --max-steps 3', 'new with issue 14, after the recording: the --job path is run by test/commands/finetune.test.ts'],
  ['serve --model examples/models/vit-digits', 'a server: run by the end-to-end golden test (test/e2e/readme-serve.test.ts) with the curl request below'],
]

/** A request.json for the `score --request` example: the README's curl body, built from the same image. */
async function writeRequest(work: string): Promise<void> {
  const png = await readFile(join(work, 'examples/images/digits/digit-7-0182.png'))
  await writeFile(join(work, 'request.json'), JSON.stringify({input_data: [png.toString('base64')]}))
}

/** Timings, throughputs and absolute paths: the parts of an output that differ between two runs of the same code. */
export function normalise(text: string, work: string, urls: string[] = []): string {
  let s = text
  for (const u of urls) s = s.split(u).join('<ARM>')
  s = s.split(work).join('<WORK>')
  s = s.replace(/\b\d+(\.\d+)? ?(ms|s)\b/g, '<T>')
  s = s.replace(/\b\d+(\.\d+)? images\/s\b/g, '<N> images/s')
  s = s.replace(/"latency_ms":\s*[\d.]+/g, '"latency_ms":<T>')
  s = s.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<DATE>')
  s = s.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<PORT>')
  s = s.replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<UUID>')
  s = s.replace(/x \d+ threads?\b/g, 'x <N> threads')
  return s
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  let entries
  try {
    entries = await readdir(dir, {withFileTypes: true})
  } catch {
    return out
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await listFiles(p)))
    else out.push(p)
  }
  return out
}

/** Text files up to this size are recorded whole (so numbers can be compared); others by their hash. */
const WHOLE_TEXT_BYTES = 256 * 1024

/**
 * The files under build/ (and skus-eastus.json): path -> the normalised text (HTML reports carry timings and paths),
 * or `sha256:...` of a large or binary file.
 */
async function writtenFiles(work: string, urls: string[]): Promise<Record<string, string>> {
  const files = [...(await listFiles(join(work, 'build'))), join(work, 'skus-eastus.json')]
  const out: Record<string, string> = {}
  for (const f of files.sort()) {
    let bytes: Buffer
    try {
      bytes = await readFile(f)
    } catch {
      continue
    }
    const text = bytes.toString('utf8')
    const isText = !text.includes('\u0000') && Buffer.from(text, 'utf8').equals(bytes)
    const content = isText ? normalise(text, work, urls) : bytes
    out[relative(work, f)] = isText && bytes.length <= WHOLE_TEXT_BYTES ? String(content) : `sha256:${createHash('sha256').update(content).digest('hex').slice(0, 16)}`
  }
  return out
}

/** The entries of AFTER that are new or changed since BEFORE, and `(deleted)` for the ones gone. */
function changedFiles(before: Record<string, string>, after: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(after)) if (before[k] !== v) out[k] = v
  for (const k of Object.keys(before)) if (!(k in after)) out[k] = '(deleted)'
  return out
}

/**
 * Runs the examples in a fresh copy of `examples/` (from EXAMPLES_DIR), with fake Azure servers for apply and
 * skus, and returns one normalised record per example.
 */
export async function runExamples(run: Runner, examplesDir: string, only?: (e: Example) => boolean): Promise<ExampleRecord[]> {
  const work = await mkdtemp(join(tmpdir(), 'vitrine-golden-'))
  const arm = await FakeArm.start()
  arm.token = 'golden-test-token'
  arm.workspaces.add('vit-ws')
  const vmsizes = await startFakeArm()
  try {
    await cp(examplesDir, join(work, 'examples'), {recursive: true})
    await writeRequest(work)
    const records: ExampleRecord[] = []
    let files: Record<string, string> = {}
    for (const e of EXAMPLES) {
      if (only && !only(e)) continue
      const env: Record<string, string> = {NO_COLOR: '1', ...noAzureEnv()}
      if (e.azure === 'arm') {
        Object.assign(env, {
          AZURE_ACCESS_TOKEN: arm.token,
          AZURE_SUBSCRIPTION_ID: '00000000-1111-2222-3333-444444444444',
          AZURE_RESOURCE_GROUP: 'vit-rg',
          AZUREML_REGISTRY: 'vitrine-test',
          AZUREML_WORKSPACE: 'vit-ws',
          AZURE_ARM_ENDPOINT: arm.url,
        })
      } else if (e.azure === 'vmsizes') {
        Object.assign(env, {AZURE_ACCESS_TOKEN: 'fake-token', AZURE_ARM_ENDPOINT: vmsizes.url})
      }
      const r = await run(e.args, {cwd: work, env})
      const urls = [arm.url, vmsizes.url]
      const now = await writtenFiles(work, urls)
      records.push({
        id: e.id,
        args: e.args,
        exitCode: r.exitCode,
        stdout: normalise(r.stdout, work, urls),
        stderr: normalise(r.stderr, work, urls),
        files: changedFiles(files, now),
      })
      files = now
    }
    return records
  } finally {
    await arm.close()
    await vmsizes.close()
    await rm(work, {recursive: true, force: true})
  }
}

/** Nothing of this machine's Azure settings reaches the examples. */
function noAzureEnv(): Record<string, string> {
  const names = [
    'AZURE_ACCESS_TOKEN', 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP', 'AZUREML_WORKSPACE', 'AZURE_ML_WORKSPACE',
    'AZUREML_REGISTRY', 'AZURE_ML_REGISTRY', 'AZURE_ARM_ENDPOINT', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID',
    'AZURE_CLIENT_SECRET', 'AZURE_FEDERATED_TOKEN_FILE', 'AZUREML_REGISTRY_RESOURCE_GROUP',
  ]
  return Object.fromEntries(names.map((n) => [n, '']))
}

export interface ServeRecord {
  args: string[]
  status: number
  body: string
  exitCode: number
  stdout: string
  stderr: string
}

/** The serve example: README's `vitrine serve --model ...` and its curl request, then SIGTERM as the README says. */
export const SERVE_EXAMPLE = {
  readme: 'serve --model examples/models/vit-digits',
  args: ['serve', '--model', 'examples/models/vit-digits', '--port', '0'],
  adapted: '--port 0 (a free port) instead of the default 5001, which another program may hold on a shared machine',
}

/**
 * Starts `node BIN serve ...` in a copy of examples/, waits until ready, posts the README's curl body, stops it with
 * SIGTERM and returns the normalised record. A real process: SIGTERM is part of the example.
 */
export async function runServeExample(bin: string, examplesDir: string): Promise<ServeRecord> {
  const {execa} = await import('execa')
  const work = await mkdtemp(join(tmpdir(), 'vitrine-golden-serve-'))
  try {
    await cp(examplesDir, join(work, 'examples'), {recursive: true})
    const child = execa('node', [bin, ...SERVE_EXAMPLE.args], {cwd: work, env: {NO_COLOR: '1'}, reject: false, stripFinalNewline: false})
    let stderr = ''
    const ready = new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString('utf8')
        const m = /listening on (http:\/\/\S+)/.exec(stderr)
        if (m && /vitrine serve: ready/.test(stderr)) resolve(m[1])
      })
      void child.then(() => reject(new Error(`serve exited before ready: ${stderr}`)))
    })
    const url = await ready
    const png = await readFile(join(work, 'examples/images/digits/digit-7-0182.png'))
    const res = await fetch(`${url}/score`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({input_data: [png.toString('base64')]})})
    const body = await res.text()
    child.kill('SIGTERM')
    const r = await child
    return {
      args: SERVE_EXAMPLE.args,
      status: res.status,
      body,
      exitCode: r.exitCode ?? -1,
      stdout: normalise(String(r.stdout), work),
      stderr: normalise(String(r.stderr), work),
    }
  } finally {
    await rm(work, {recursive: true, force: true})
  }
}
