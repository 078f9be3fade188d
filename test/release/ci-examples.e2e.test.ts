/**
 * The CI files users copy: examples/ci/github/vitrine.yml, examples/ci/azure-devops/azure-pipelines.yml and the
 * composite action action.yml.
 *
 * 1. Each is checked by real parsers from npm: GitHub's own workflow and action parser (@actions/workflow-parser,
 *    the one behind the Actions language service) and @action-validator/core (the published JSON schemas of
 *    workflows and actions). No npm package ships the Azure Pipelines YAML schema (azure-pipelines-language-service
 *    takes it from its client; the schema lives in the VS Code extension), so azure-pipelines.yml is parsed
 *    strictly and its structure checked here against the documented shape of the parts it uses.
 * 2. Every step is then run as its runner would run it, in a model repository laid out from examples/ (a git
 *    repository whose pull-request branch changes one asset), against the fake ARM: the pull-request jobs (validate
 *    --changed-since to SARIF, package, generate, plan as Markdown with --detailed-exitcode), the merge jobs
 *    (package, evaluate gate, apply --wait of the model version, endpoint, deployment and traffic), and the pull-request
 *    job again, whose plan must then be "no changes". Every `vitrine` line of the files must have run, so a flag that
 *    does not exist (or was renamed) fails here.
 */
import {cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

import {validateAction, validateWorkflow} from '@action-validator/core'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse as parseYaml, parseDocument} from 'yaml'

import {FakeArm} from '../azure/fake-arm.js'
import {readCommandFile, runBash, substituteExpressions, vitrineCalls, vitrineLines, writeShims, type Shims, type StepRun} from '../helpers/ci-runner.js'
import {ROOT} from '../helpers/cli.js'
import {loadWorkflowParser} from '../helpers/workflow-parser.js'

const WORKFLOW = join(ROOT, 'examples/ci/github/vitrine.yml')
const PIPELINE = join(ROOT, 'examples/ci/azure-devops/azure-pipelines.yml')
const ACTION = join(ROOT, 'action.yml')
const SUB = '00000000-1111-2222-3333-444444444444'
const RG = 'ml-rg'
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOi.ci-example-token.Zm9vYmFy'
const VERSION = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {version: string}).version

type Json = Record<string, unknown>
interface GithubStep {
  name?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
}
interface GithubJob {
  if?: string
  env?: Record<string, string>
  steps: GithubStep[]
}
interface AdoStep {
  script?: string
  task?: string
  checkout?: string
  displayName?: string
  condition?: string
  fetchDepth?: number
  inputs?: Record<string, unknown>
}

let work: string
let fake: FakeArm
let shims: Shims
/** The model repository the pipelines run in, per runner (each keeps its own build/ folder). */
let repos: {github: string; ado: string}

/** A model repository as the pipelines expect it, from examples/, with main pushed and a PR branch changing one asset. */
async function modelRepository(dir: string): Promise<string> {
  await mkdir(dir, {recursive: true})
  await cp(join(ROOT, 'examples/assets'), join(dir, 'assets'), {recursive: true})
  await cp(join(ROOT, 'examples/models/vit-digits'), join(dir, 'models/vit-digits'), {recursive: true})
  await cp(join(ROOT, 'examples/datasets/digits-eval'), join(dir, 'data/digits-eval'), {recursive: true})
  const git = (...args: string[]) => execa('git', args, {cwd: dir, env: {GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com'}})
  await git('init', '-q', '-b', 'main')
  await git('add', '.')
  await git('commit', '-qm', 'base')
  await git('update-ref', 'refs/remotes/origin/main', 'HEAD')
  await git('checkout', '-qb', 'change')
  const description = join(dir, 'assets/google-vit-base-patch16-224/description.md')
  await writeFile(description, (await readFile(description, 'utf8')) + '\nChanged in a pull request.\n')
  await git('commit', '-qam', 'change one asset')
  return dir
}

/** What the runner's machine gives every step: PATH with the shims first, a HOME, the fake cloud's address. */
function machineEnv(): Record<string, string> {
  return {
    PATH: `${shims.dir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: work,
    NO_COLOR: '1',
    CI: 'true',
    // The "cloud" the runner talks to: the one thing a real runner gets from Azure rather than from the pipeline.
    ...(fake ? {AZURE_ARM_ENDPOINT: fake.url} : {}),
  }
}

/** A new, empty Azure for one scenario. */
async function freshAzure(): Promise<void> {
  await fake?.close()
  fake = await FakeArm.start()
  fake.token = TOKEN
  fake.workspaces.add('ml-workspace')
  // Operations finish on their first poll: the pipelines' --wait keeps vitrine's 5 s poll interval.
  fake.pollsBeforeDone = 0
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vitrine-ci-'))
  shims = await writeShims(join(work, 'bin'), {token: TOKEN, subscription: SUB})
  repos = {github: await modelRepository(join(work, 'gh-repo')), ado: await modelRepository(join(work, 'ado-repo'))}
}, 120_000)

afterAll(async () => {
  await fake?.close()
  if (work) await rm(work, {recursive: true, force: true})
})

describe('the CI files parse and match their schemas', () => {
  it('examples/ci/github/vitrine.yml: GitHub workflow parser and action-validator find no error', async () => {
    const text = await readFile(WORKFLOW, 'utf8')
    const parser = await loadWorkflowParser()
    const parsed = parser.parseWorkflow({name: 'vitrine.yml', content: text}, new parser.NoOperationTraceWriter())
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([])
    const template = await parser.convertWorkflowTemplate(parsed.context, parsed.value!)
    expect((template.errors ?? []).map((e: {Message: string}) => e.Message)).toEqual([])
    expect(template.jobs.map((j) => j.id.toString())).toEqual(['pull-request', 'deploy'])
    expect(validateWorkflow(text).errors).toEqual([])
  })

  it('the parsers do fail on a broken workflow (a key that does not exist, a bad expression)', async () => {
    const text = (await readFile(WORKFLOW, 'utf8')).replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    timeout-minute: 5').replace('${{ vars.AZURE_CLIENT_ID }}', '${{ vars.AZURE_CLIENT_ID( }}')
    const parser = await loadWorkflowParser()
    const parsed = parser.parseWorkflow({name: 'vitrine.yml', content: text}, new parser.NoOperationTraceWriter())
    const messages = parsed.context.errors.getErrors().map((e) => e.message)
    expect(messages.some((m) => m.includes("Unexpected value 'timeout-minute'"))).toBe(true)
    expect(messages.some((m) => m.includes('Unexpected symbol'))).toBe(true)
    expect(validateWorkflow(text).errors.length).toBeGreaterThan(0)
  })

  it("action.yml: GitHub's action parser and action-validator find no error; inputs and outputs as documented", async () => {
    const text = await readFile(ACTION, 'utf8')
    const parser = await loadWorkflowParser()
    const trace = new parser.NoOperationTraceWriter()
    const parsed = parser.parseAction({name: 'action.yml', content: text}, trace)
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([])
    const action = parser.convertActionTemplate(parsed.context, parsed.value!)
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([])
    expect(action.runs.using).toBe('composite')
    expect((action.inputs ?? []).map((i) => i.id)).toEqual(['command', 'args', 'package', 'working-directory', 'sarif-file', 'job-summary'])
    expect((action.outputs ?? []).map((o) => o.id)).toEqual(['exit-code', 'sarif', 'changes', 'plan'])
    expect(validateAction(text).errors).toEqual([])
    const broken = parser.parseAction({name: 'action.yml', content: text.replace('using: composite', 'using: compost')}, trace)
    parser.convertActionTemplate(broken.context, broken.value!)
    expect(broken.context.errors.getErrors().length + validateAction(text.replace('using: composite', 'using: compost')).errors.length).toBeGreaterThan(0)
  })

  it('azure-pipelines.yml: strict YAML, and the documented shape of stages, jobs, steps and the tasks it uses', async () => {
    const text = await readFile(PIPELINE, 'utf8')
    const doc = parseDocument(text, {uniqueKeys: true, prettyErrors: true})
    expect(doc.errors.map((e) => e.message)).toEqual([])
    const problems = adoStructureProblems(doc.toJS() as Json)
    expect(problems).toEqual([])
    // The check can fail: a step with two actions, a task without its version, an AzureCLI without a connection.
    const broken = parseYaml(text.replace('task: NodeTool@0', 'task: NodeTool').replace('azureSubscription: $(AZURE_SERVICE_CONNECTION)', 'scriptPath: x.sh')) as Json
    expect(adoStructureProblems(broken).length).toBeGreaterThanOrEqual(2)
  })

  it('the pipelines install the vitrine version of this package.json', async () => {
    for (const file of [WORKFLOW, PIPELINE]) {
      const y = parseYaml(await readFile(file, 'utf8')) as {env?: Json; variables?: Json}
      expect((y.env ?? y.variables)!.VITRINE_VERSION, file).toBe(VERSION)
    }
  })
})

/**
 * The Azure Pipelines YAML reference (learn.microsoft.com/azure/devops/pipelines/yaml-schema), for the parts this
 * pipeline uses: root keys; stages -> jobs -> steps; each step exactly one of script/bash/task/checkout/...;
 * `task: Name@major`; the inputs AzureCLI@2, NodeTool@0 and PublishBuildArtifacts@1 require.
 */
function adoStructureProblems(y: Json): string[] {
  const problems: string[] = []
  const ROOT_KEYS = ['name', 'appendCommitMessageToRunName', 'trigger', 'pr', 'schedules', 'resources', 'parameters', 'variables', 'pool', 'stages', 'jobs', 'steps', 'extends', 'lockBehavior']
  for (const k of Object.keys(y)) if (!ROOT_KEYS.includes(k)) problems.push(`unknown root key ${k}`)
  const STEP_KINDS = ['script', 'bash', 'pwsh', 'powershell', 'task', 'checkout', 'download', 'downloadBuild', 'getPackage', 'publish', 'reviewApp', 'template']
  const STEP_KEYS = [...STEP_KINDS, 'displayName', 'name', 'condition', 'continueOnError', 'enabled', 'env', 'timeoutInMinutes', 'retryCountOnTaskFailure', 'target', 'inputs', 'workingDirectory', 'failOnStderr', 'fetchDepth', 'clean', 'lfs', 'submodules', 'persistCredentials', 'path', 'fetchTags']
  const stages = y.stages as Array<{stage?: string; jobs?: Array<{job?: string; steps?: AdoStep[]}>}> | undefined
  if (!Array.isArray(stages) || !stages.length) return [...problems, 'no stages']
  for (const stage of stages) {
    if (typeof stage.stage !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(stage.stage)) problems.push(`stage name ${String(stage.stage)}`)
    for (const job of stage.jobs ?? []) {
      if (typeof job.job !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(job.job)) problems.push(`job name ${String(job.job)}`)
      for (const step of job.steps ?? []) {
        const kinds = Object.keys(step).filter((k) => STEP_KINDS.includes(k))
        if (kinds.length !== 1) problems.push(`a step with ${kinds.length} actions: ${JSON.stringify(step).slice(0, 60)}`)
        for (const k of Object.keys(step)) if (!STEP_KEYS.includes(k)) problems.push(`unknown step key ${k}`)
        if (step.task === undefined) continue
        if (!/^[A-Za-z][\w.-]*@\d+$/.test(step.task)) problems.push(`task ${step.task} without @major version`)
        const inputs = step.inputs ?? {}
        const need: Record<string, string[]> = {
          'AzureCLI@2': ['azureSubscription', 'scriptType', 'scriptLocation'],
          'NodeTool@0': ['versionSpec'],
          'PublishBuildArtifacts@1': ['PathtoPublish', 'ArtifactName'],
        }
        for (const key of need[step.task] ?? []) if (!(key in inputs)) problems.push(`${step.task} without ${key}`)
        if (step.task === 'AzureCLI@2') {
          if (!['bash', 'ps', 'pscore', 'batch'].includes(String(inputs.scriptType))) problems.push(`AzureCLI@2 scriptType ${String(inputs.scriptType)}`)
          if (inputs.scriptLocation === 'inlineScript' && typeof inputs.inlineScript !== 'string') problems.push('AzureCLI@2 inlineScript missing')
        }
      }
    }
  }
  return problems
}

/** Runs one job of the GitHub workflow; returns the step summary. */
async function runGithubJob(jobId: string, event: 'pull_request' | 'push'): Promise<string> {
  const workflow = parseYaml(await readFile(WORKFLOW, 'utf8')) as {env: Record<string, string>; jobs: Record<string, GithubJob>}
  const job = workflow.jobs[jobId]
  expect(job.if).toBe(`github.event_name == '${event}'`)
  const cwd = repos.github
  const temp = await mkdtemp(join(work, 'runner-'))
  const files = {GITHUB_ENV: join(temp, 'env'), GITHUB_OUTPUT: join(temp, 'output'), GITHUB_STEP_SUMMARY: join(temp, 'summary.md')}
  for (const f of Object.values(files)) await writeFile(f, '')
  const context: Record<string, string> = {
    'vars.AZURE_SUBSCRIPTION_ID': SUB,
    'vars.AZURE_RESOURCE_GROUP': RG,
    'vars.AZUREML_WORKSPACE': 'ml-workspace',
    'vars.AZUREML_REGISTRY': 'ml-registry',
    'vars.AZURE_CLIENT_ID': 'client-id',
    'vars.AZURE_TENANT_ID': 'tenant-id',
    'github.ref': event === 'push' ? 'refs/heads/main' : 'refs/pull/1/merge',
  }
  const expand = (o: Record<string, string> | undefined) => Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, substituteExpressions(String(v), context)]))
  let env: Record<string, string> = {
    ...machineEnv(),
    ...files,
    RUNNER_TEMP: temp,
    GITHUB_EVENT_NAME: event,
    GITHUB_REF: context['github.ref'],
    ...(event === 'pull_request' ? {GITHUB_BASE_REF: 'main', GITHUB_HEAD_REF: 'change'} : {}),
    ...expand(workflow.env),
    ...expand(job.env),
  }
  // A fresh checkout, as each job gets on a new runner: nothing left from the previous job's build/.
  await execa('git', ['clean', '-qfdx'], {cwd})
  await execa('git', ['checkout', '-q', event === 'push' ? 'main' : 'change'], {cwd})
  if (event === 'push') await execa('git', ['merge', '-q', '--ff-only', 'change'], {cwd})
  for (const step of job.steps) {
    const label = step.name ?? step.uses ?? '?'
    if (step.uses) {
      const name = step.uses.split('@')[0]
      const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, substituteExpressions(String(v), context)]))
      if (name === 'actions/checkout') expect(event === 'push' || w['fetch-depth'] === '0', 'fetch-depth 0 for --changed-since').toBe(true)
      else if (name === 'actions/setup-node') expect(w['node-version']).toBe('20')
      else if (name === 'azure/login') expect(Object.keys(w).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']) // OIDC: no secret
      else if (name === 'github/codeql-action/upload-sarif') {
        const sarif = JSON.parse(await readFile(join(cwd, w.sarif_file), 'utf8')) as {version: string; runs: Array<{tool: {driver: {name: string}}}>}
        expect(sarif.version).toBe('2.1.0')
        expect(sarif.runs[0].tool.driver.name).toBe('vitrine')
      } else if (name === 'actions/upload-artifact') expect((await stat(join(cwd, w.path))).isDirectory()).toBe(true)
      else throw new Error(`step ${label}: the test does not know the action ${step.uses}`)
      continue
    }
    const body = substituteExpressions(step.run!, context)
    if (step.name === 'Install vitrine') {
      // The registry is not reachable from tests: the shim stands for the installed package.
      expect(body.trim()).toBe('npm install -g "vitrine@$VITRINE_VERSION"')
      continue
    }
    const r: StepRun = await runBash(body, {cwd, env: {...env, ...expand(step.env)}, flavour: 'github'})
    expect(r.exitCode, `step "${label}" failed:\n${r.stdout}\n${r.stderr}`).toBe(0)
    env = {...env, ...(await readCommandFile(files.GITHUB_ENV))}
  }
  return readFile(files.GITHUB_STEP_SUMMARY, 'utf8')
}

/** Runs one stage of the Azure DevOps pipeline; returns the summaries it uploaded. */
async function runAdoStage(stageName: string, reason: 'PullRequest' | 'IndividualCI'): Promise<string[]> {
  const pipeline = parseYaml(await readFile(PIPELINE, 'utf8')) as {variables: Record<string, string>; stages: Array<{stage: string; condition: string; jobs: Array<{steps: AdoStep[]}>}>}
  const stage = pipeline.stages.find((s) => s.stage === stageName)!
  expect(stage.condition).toContain(`variables['Build.Reason']`)
  const cwd = repos.ado
  const temp = await mkdtemp(join(work, 'agent-'))
  const staging = join(temp, 'a')
  await mkdir(staging)
  // Azure DevOps maps each variable to an environment variable: upper case, '.' -> '_'.
  const variables: Record<string, string> = {
    ...pipeline.variables,
    'Build.Reason': reason,
    'Build.SourceBranch': reason === 'PullRequest' ? 'refs/pull/1/merge' : 'refs/heads/main',
    'Build.ArtifactStagingDirectory': staging,
    'Agent.TempDirectory': temp,
    ...(reason === 'PullRequest' ? {'System.PullRequest.TargetBranch': 'refs/heads/main'} : {}),
  }
  const env: Record<string, string> = {...machineEnv(), RUNNER_TEMP: temp}
  for (const [k, v] of Object.entries(variables)) env[k.toUpperCase().replace(/\./g, '_')] = String(v)
  const macro = (s: string) => s.replace(/\$\(([\w.]+)\)/g, (m, name: string) => (name in variables ? variables[name] : m))
  await execa('git', ['clean', '-qfdx'], {cwd}) // a fresh checkout, as each run's agent job gets
  await execa('git', ['checkout', '-q', reason === 'PullRequest' ? 'change' : 'main'], {cwd})
  if (reason !== 'PullRequest') await execa('git', ['merge', '-q', '--ff-only', 'change'], {cwd})
  const summaries: string[] = []
  for (const step of stage.jobs.flatMap((j) => j.steps)) {
    const label = step.displayName ?? step.task ?? step.checkout ?? '?'
    let body: string | undefined
    if (step.checkout !== undefined) {
      expect(step.checkout).toBe('self')
      if (reason === 'PullRequest') expect(step.fetchDepth, 'fetchDepth 0 for --changed-since').toBe(0)
    } else if (step.task === 'NodeTool@0') {
      expect(step.inputs!.versionSpec).toBe('20.x')
    } else if (step.task === 'PublishBuildArtifacts@1') {
      expect((await stat(resolve(cwd, macro(String(step.inputs!.PathtoPublish))))).isDirectory(), label).toBe(true)
    } else if (step.task === 'AzureCLI@2') {
      expect(step.inputs).toMatchObject({azureSubscription: '$(AZURE_SERVICE_CONNECTION)', scriptType: 'bash', scriptLocation: 'inlineScript'})
      body = String(step.inputs!.inlineScript)
    } else if (step.script !== undefined) {
      if (step.displayName === 'Install vitrine') {
        expect(step.script.trim()).toBe('npm install -g "vitrine@$VITRINE_VERSION"')
      } else body = step.script
    } else throw new Error(`step ${label}: the test does not know it`)
    if (body === undefined) continue
    const r = await runBash(macro(body), {cwd, env, flavour: 'azure-devops'})
    expect(r.exitCode, `step "${label}" failed:\n${r.stdout}\n${r.stderr}`).toBe(0)
    for (const m of r.stdout.matchAll(/^##vso\[task\.uploadsummary\](.+)$/gm)) summaries.push(await readFile(m[1], 'utf8'))
  }
  return summaries
}

/** The merge jobs' result in the fake Azure: the model version, one endpoint whose traffic all goes to its deployment. */
function expectDeployedWithAllTraffic(): void {
  const ws = `/subscriptions/${SUB}/resourcegroups/${RG}/providers/microsoft.machinelearningservices/workspaces/ml-workspace/`.toLowerCase()
  const reg = `/subscriptions/${SUB}/resourcegroups/${RG}/providers/microsoft.machinelearningservices/registries/ml-registry/`.toLowerCase()
  const paths = [...fake.resources.keys()]
  expect(paths.filter((p) => p.startsWith(reg))).toEqual([`${reg}models/vit-digits/versions/1`])
  const endpoints = paths.filter((p) => p.startsWith(`${ws}onlineendpoints/`) && !p.includes('/deployments/'))
  expect(endpoints).toHaveLength(1)
  const deployments = paths.filter((p) => p.startsWith(`${endpoints[0]}/deployments/`))
  expect(deployments).toHaveLength(1)
  const traffic = (fake.resources.get(endpoints[0])!.properties as {traffic: Record<string, number>}).traffic
  expect(traffic).toEqual({[deployments[0].split('/').pop()!]: 100})
}

describe('every step of the example pipelines runs against examples/ and the fake ARM', () => {
  it('GitHub: pull request (validate to SARIF, package, generate, plan as the job summary), merge (gate, publish, deploy, traffic), then a pull request with nothing to change', async () => {
    await freshAzure()
    const before = (await vitrineCalls(shims)).length
    const prSummary = await runGithubJob('pull-request', 'pull_request')
    expect(prSummary).toContain('### vitrine apply --plan')
    expect(prSummary).toMatch(/\*\*Plan: 3 to create, 0 to update, 0 unchanged\.\*\*/)
    expect(prSummary).toMatch(/\| \*\*create\*\* \| registry model version \| `vit-digits:1` \|/)

    const deploySummary = await runGithubJob('deploy', 'push')
    expect(deploySummary).toMatch(/### vitrine apply\n/)
    expectDeployedWithAllTraffic()

    const again = await runGithubJob('pull-request', 'pull_request')
    expect(again).toContain('**No changes. Plan: 0 to create, 0 to update, 3 unchanged.**')

    // Every vitrine line of the workflow ran, each of the three times its job ran.
    const workflow = parseYaml(await readFile(WORKFLOW, 'utf8')) as {jobs: Record<string, GithubJob>}
    const lines = (id: string) => workflow.jobs[id].steps.flatMap((s) => vitrineLines(s.run ?? ''))
    const calls = (await vitrineCalls(shims)).slice(before)
    expect(calls.length).toBe(2 * lines('pull-request').length + lines('deploy').length)
    expect(calls.map((c) => c[0])).toEqual([...lines('pull-request'), ...lines('deploy'), ...lines('pull-request')].map((l) => l.split(/\s+/)[1]))
  }, 600_000)

  it('Azure DevOps: pull-request stage (SARIF artifact, plan summary), main stage (gate, publish, deploy, traffic), then nothing to change', async () => {
    await freshAzure()
    const before = (await vitrineCalls(shims)).length
    const pr = await runAdoStage('PullRequest', 'PullRequest')
    expect(pr).toHaveLength(1)
    expect(pr[0]).toMatch(/\*\*Plan: 3 to create, 0 to update, 0 unchanged\.\*\*/)
    const deploy = await runAdoStage('Deploy', 'IndividualCI')
    expect(deploy).toHaveLength(2)
    expect(deploy[1]).toMatch(/#### Applied/)
    expectDeployedWithAllTraffic()
    const again = await runAdoStage('PullRequest', 'PullRequest')
    expect(again[0]).toContain('**No changes. Plan: 0 to create, 0 to update, 3 unchanged.**')

    const pipeline = parseYaml(await readFile(PIPELINE, 'utf8')) as {stages: Array<{stage: string; jobs: Array<{steps: AdoStep[]}>}>}
    const lines = (name: string) =>
      pipeline.stages.find((s) => s.stage === name)!.jobs.flatMap((j) => j.steps).flatMap((s) => vitrineLines(s.script ?? String(s.inputs?.inlineScript ?? '')))
    const calls = (await vitrineCalls(shims)).slice(before)
    expect(calls.map((c) => c[0])).toEqual([...lines('PullRequest'), ...lines('Deploy'), ...lines('PullRequest')].map((l) => l.split(/\s+/)[1]))
  }, 600_000)
})

interface ActionRun {
  status: number
  outputs: Record<string, string>
  stdout: string
  summary: string
}

/** Runs action.yml's composite steps as the runner does (bash -e, inputs with their defaults, GITHUB_OUTPUT). */
async function runAction(inputs: Record<string, string>, cwd: string, extraEnv: Record<string, string> = {}): Promise<ActionRun> {
  const action = parseYaml(await readFile(ACTION, 'utf8')) as {
    inputs: Record<string, {default?: string; required?: boolean}>
    outputs: Record<string, {value: string}>
    runs: {steps: Array<{id?: string; name: string; shell: string; run: string; env?: Record<string, string>; 'working-directory'?: string}>}
  }
  const temp = await mkdtemp(join(work, 'action-'))
  const context: Record<string, string> = {}
  for (const [k, def] of Object.entries(action.inputs)) {
    if (def.required) expect(inputs[k], `input ${k} is required`).toBeDefined()
    context[`inputs.${k}`] = inputs[k] ?? def.default ?? ''
  }
  const summaryFile = join(temp, 'summary.md')
  await writeFile(summaryFile, '')
  let stdout = ''
  let status = 0
  for (const step of action.runs.steps) {
    const output = join(temp, `output-${step.id ?? 'x'}`)
    await writeFile(output, '')
    expect(step.shell).toBe('bash')
    const env = {
      ...machineEnv(),
      ...extraEnv,
      RUNNER_TEMP: temp,
      GITHUB_ACTION_PATH: ROOT,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_RUN_ID: '7',
      GITHUB_JOB: 'test',
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, substituteExpressions(v, context)])),
    }
    const dir = resolve(cwd, substituteExpressions(step['working-directory'] ?? '.', context))
    const r = await runBash(step.run, {cwd: dir, env, flavour: 'github'})
    stdout += `${r.stdout}\n${r.stderr}\n`
    if (step.id) for (const [k, v] of Object.entries(await readCommandFile(output))) context[`steps.${step.id}.outputs.${k}`] = v
    if (r.exitCode !== 0) {
      status = r.exitCode
      break
    }
  }
  const outputs: Record<string, string> = {}
  for (const [k, o] of Object.entries(action.outputs)) {
    const expr = /^\$\{\{\s*(.+?)\s*\}\}$/.exec(o.value)![1]
    if (expr in context) outputs[k] = context[expr]
  }
  return {status, outputs, stdout, summary: await readFile(summaryFile, 'utf8')}
}

describe('action.yml runs the CLI with its inputs and sets its outputs', () => {
  let repo: string
  const azure = () => ({AZURE_ACCESS_TOKEN: TOKEN, AZURE_SUBSCRIPTION_ID: SUB, AZURE_RESOURCE_GROUP: RG, AZUREML_WORKSPACE: 'ml-workspace', AZUREML_REGISTRY: 'ml-registry'})
  beforeAll(async () => {
    repo = await modelRepository(join(work, 'action-repo'))
  }, 60_000)

  it('validate: SARIF written, its path in `sarif`, exit code 0; a broken asset fails the step with annotations, `sarif` still set', async () => {
    const ok = await runAction({command: 'validate', args: 'assets --changed-since origin/main', package: 'none'}, repo)
    expect(ok.status, ok.stdout).toBe(0)
    expect(ok.outputs).toEqual({'exit-code': '0', sarif: join(repo, 'vitrine.sarif')})
    expect((JSON.parse(await readFile(join(repo, 'vitrine.sarif'), 'utf8')) as {version: string}).version).toBe('2.1.0')
    expect(ok.stdout).toContain(`vitrine validate: 0 finding(s), SARIF in ${join(repo, 'vitrine.sarif')}`)

    const spec = join(repo, 'assets/google-vit-base-patch16-224/spec.yaml')
    const good = await readFile(spec, 'utf8')
    await writeFile(spec, good.replace(/^name: .*$/m, 'name: Not A Valid Name!'))
    try {
      const bad = await runAction({command: 'validate', args: "'assets'", package: 'none', 'sarif-file': 'out.sarif'}, repo)
      expect(bad.status).toBe(1)
      expect(bad.outputs).toEqual({'exit-code': '1', sarif: join(repo, 'out.sarif')})
      expect(bad.stdout, bad.stdout).toMatch(/^::error file=.*spec\.yaml,line=\d+,col=\d+,title=vitrine [\w-]+::/m)
    } finally {
      await writeFile(spec, good)
    }
  })

  it('package, generate (a quoted argument with a space), then apply --plan: `changes` true, the plan in the job summary and in `plan`', async () => {
    await freshAzure()
    const pkg = await runAction({command: 'package', args: 'models/vit-digits --out build/model --name vit-digits --version 1', package: 'none'}, repo)
    expect(pkg.status, pkg.stdout).toBe(0)
    const gen = await runAction({command: 'generate online-endpoint', args: '--asset build/model/asset\n--registry ml-registry --out "build/on line"', package: 'none'}, repo)
    expect(gen.status, gen.stdout).toBe(0)
    expect(gen.outputs).toEqual({'exit-code': '0'})
    const yamls = (await readdir(join(repo, 'build/on line'))).filter((f) => f.endsWith('.yaml')).map((f) => `'build/on line/${f}'`)
    const plan = await runAction({command: 'apply', args: `build/model ${yamls.join(' ')} --plan`, package: 'none'}, repo, azure())
    expect(plan.status, plan.stdout).toBe(0)
    expect(plan.outputs['exit-code']).toBe('2')
    expect(plan.outputs.changes).toBe('true')
    expect(plan.summary).toContain('**Plan: 3 to create, 0 to update, 0 unchanged.**')
    expect(await readFile(plan.outputs.plan, 'utf8')).toBe(plan.summary.trimEnd() + '\n')
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([])
  })

  it('apply: a usage error is a failure, not "changes pending"; --json and --format are refused', async () => {
    const bad = await runAction({command: 'apply', args: 'build/model --plan --no-such-flag', package: 'none'}, repo, azure())
    expect(bad.status).toBe(2)
    expect(bad.outputs.changes).toBeUndefined()
    expect(bad.outputs['exit-code']).toBe('2')
    const json = await runAction({command: 'apply', args: 'build/model --plan --json', package: 'none'}, repo, azure())
    expect(json.status).toBe(2)
    expect(json.stdout).toContain('leave --format and --json out of args')
    const quote = await runAction({command: 'score', args: "-m 'models/vit-digits", package: 'none'}, repo)
    expect(quote.status).toBe(2)
    expect(quote.stdout).toContain('unmatched quote')
  })

  it('package: none without vitrine on PATH stops at the install step', async () => {
    const r = await runAction({command: 'validate', package: 'none'}, repo, {PATH: '/usr/bin:/bin'})
    expect(r.status).toBe(2)
    expect(r.stdout).toContain('vitrine is not on PATH')
  })
})
