import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {renderMarkdown, renderOutcome, renderPlan, renderSummary} from '../cli/apply-render.js'
import {numberFlag} from '../cli/flags.js'
import {AUTH_METHODS} from '../src/azure/auth.js'
import {runApply, type ApplyResult} from '../src/azure/run-apply.js'
import {DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_WAIT_TIMEOUT_MS, formatDuration, parseDuration} from '../src/azure/timeout.js'
import {DEFAULT_BLOCK_SIZE, DEFAULT_UPLOAD_CONCURRENCY} from '../src/azure/upload.js'
import {COMMON_EXIT_CODES, ExitCode, type ExitCodeName} from '../src/core/errors.js'
import {printableLines} from '../src/core/printable.js'

export default class Apply extends BaseCommand {
  static override summary = 'Plan, then create or update Azure ML resources: registry model versions, endpoints, deployments, jobs'
  static override description = [
    'FILE is a YAML written by `vitrine generate` (recognised by its $schema: model, managedOnlineEndpoint, managedOnlineDeployment, batchEndpoint, modelBatchDeployment, pipelineJob) or a `vitrine package` folder (a registry model version with its files). apply reads what exists in Azure, prints per resource create / update (with the field diff) / no change, and then applies it. A change to an existing model version is refused ("bump the version"); applying the same files twice changes nothing the second time.',
    'Target: --subscription (AZURE_SUBSCRIPTION_ID), --resource-group (AZURE_RESOURCE_GROUP), --workspace (AZUREML_WORKSPACE or AZURE_ML_WORKSPACE) for endpoints, deployments and jobs, --registry (AZUREML_REGISTRY or AZURE_ML_REGISTRY) for model versions. Auth: --auth when given, else AZURE_ACCESS_TOKEN when set, else DefaultAzureCredential.',
    'Timeouts: each attempt of each request gets --request-timeout (2 min) and is retried like a network error; --timeout bounds the whole command (none by default, 60 min with --wait); on expiry apply exits 3 and says how to follow what still runs in Azure.',
    'A refused change exits 1; an expired --timeout exits 3.',
  ].join('\n\n')

  static override examples = [
    '<%= config.bin %> apply build/vit-digits --registry my-registry --plan',
    '<%= config.bin %> apply build/vit-digits --registry my-registry',
    '<%= config.bin %> apply out/endpoint.yaml out/deployment.yaml --workspace my-ws --wait',
    '<%= config.bin %> apply out/*.yaml --plan --detailed-exitcode   # CI: exit 2 when something would change',
    '<%= config.bin %> apply out/*.yaml --plan --format markdown >> "$GITHUB_STEP_SUMMARY"   # the plan as a job summary',
  ]

  static override exitCodes: readonly ExitCodeName[] = [...COMMON_EXIT_CODES, 'ChangesPending', 'Remote', 'Interrupted']

  static override strict = false

  static override args = {
    file: Args.string({description: 'YAML files from `vitrine generate` and `vitrine package` folders', required: true}),
  }

  static override flags = {
    plan: Flags.boolean({description: 'Only show what would change; change nothing'}),
    wait: Flags.boolean({description: 'Follow operations and jobs to a terminal state, with status lines'}),
    'all-traffic': Flags.boolean({
      description: 'Each online deployment in the files takes 100% of its endpoint\'s traffic; each batch deployment becomes its endpoint\'s default (az ml --all-traffic / --set-default)',
    }),
    format: Flags.option({
      options: ['text', 'markdown'] as const,
      default: 'text' as const,
      description: 'Output format (--json overrides): markdown prints the plan, and after apply the outcome, for a CI job summary or a pull-request comment',
    })(),
    'detailed-exitcode': Flags.boolean({description: 'With --plan: exit 2 when changes are pending, 0 when none', dependsOn: ['plan']}),
    subscription: Flags.string({description: 'Subscription id [env: AZURE_SUBSCRIPTION_ID]'}),
    'resource-group': Flags.string({char: 'g', description: 'Resource group [env: AZURE_RESOURCE_GROUP]'}),
    workspace: Flags.string({char: 'w', description: 'Workspace, for endpoints, deployments and jobs [env: AZUREML_WORKSPACE, AZURE_ML_WORKSPACE]'}),
    registry: Flags.string({char: 'r', description: "Registry, for model versions: a name, or its full ARM id (which names its subscription and resource group) [env: AZUREML_REGISTRY, AZURE_ML_REGISTRY]"}),
    'registry-resource-group': Flags.string({description: "The registry's resource group when not --resource-group [env: AZUREML_REGISTRY_RESOURCE_GROUP]"}),
    'registry-subscription': Flags.string({description: "The registry's subscription when not --subscription [env: AZUREML_REGISTRY_SUBSCRIPTION]"}),
    auth: Flags.option({options: AUTH_METHODS, description: 'Credential to use (default: AZURE_ACCESS_TOKEN when set, else DefaultAzureCredential)'})(),
    'arm-endpoint': Flags.string({description: 'Azure Resource Manager URL, for sovereign clouds; http only for loopback [env: AZURE_ARM_ENDPOINT]'}),
    'poll-interval': numberFlag({min: 0})({description: 'Seconds between status polls when Azure gives no Retry-After', default: 5}),
    'max-retries': Flags.integer({description: 'Retries of a request after 408/429/5xx or a network error', default: 4, min: 0, max: 20}),
    'upload-block-size': Flags.integer({description: `Bytes per block; bigger files go up as parallel blocks (default ${DEFAULT_BLOCK_SIZE})`, min: 1, max: 4000 * 1024 * 1024}),
    'upload-concurrency': Flags.integer({description: `Blob requests in flight (default ${DEFAULT_UPLOAD_CONCURRENCY})`, min: 1, max: 64}),
    timeout: Flags.string({
      description: `Bound on the whole command, --wait included (e.g. 30m, 2h, 90s); on expiry exit 3 with how to follow what still runs (default: none, ${formatDuration(DEFAULT_WAIT_TIMEOUT_MS)} with --wait)`,
    }),
    'request-timeout': Flags.string({
      description: `Bound on one attempt of one request to ARM or storage; a timed-out attempt is retried like a network error (default ${formatDuration(DEFAULT_REQUEST_TIMEOUT_MS)})`,
    }),
  }

  async run(): Promise<ApplyResult> {
    const {flags, argv} = await this.parse(Apply)
    const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout, '--timeout')
    const requestTimeoutMs = flags['request-timeout'] === undefined ? undefined : parseDuration(flags['request-timeout'], '--request-timeout')
    const human = !this.jsonEnabled() && flags.format === 'text'
    const markdown = !this.jsonEnabled() && flags.format === 'markdown'
    const controller = new AbortController()
    let interrupts = 0
    const onSigint = () => {
      interrupts++
      if (interrupts > 1) process.exit(ExitCode.Interrupted)
      this.logToStderr('Ctrl-C: stopping (operations already sent keep running in Azure; Ctrl-C again to quit at once)')
      controller.abort()
    }
    process.on('SIGINT', onSigint)
    let result: ApplyResult
    try {
      result = await runApply({
        files: argv as string[],
        planOnly: flags.plan,
        wait: flags.wait,
        allTraffic: flags['all-traffic'],
        target: {
          subscription: flags.subscription,
          resourceGroup: flags['resource-group'],
          workspace: flags.workspace,
          registry: flags.registry,
          registryResourceGroup: flags['registry-resource-group'],
          registrySubscription: flags['registry-subscription'],
          armEndpoint: flags['arm-endpoint'],
        },
        auth: flags.auth,
        env: process.env,
        pollIntervalMs: Math.round(flags['poll-interval'] * 1000),
        maxRetries: flags['max-retries'],
        blockSize: flags['upload-block-size'],
        concurrency: flags['upload-concurrency'],
        timeoutMs,
        requestTimeoutMs,
        signal: controller.signal,
        log: (line) => this.logToStderr(printableLines(line)),
        progress: this.progress(),
        onPlan: (plan) => {
          if (human) this.log(`${renderPlan(plan.resources)}\n\n${renderSummary(plan)}`)
        },
      })
    } finally {
      process.off('SIGINT', onSigint)
    }
    if (human) {
      if (result.mode === 'apply' && result.applied) this.log(renderOutcome(result))
      if (result.summary.refused) this.logToStderr('Nothing was applied: the plan holds refused changes.')
    }
    if (markdown) this.log(renderMarkdown(result))
    // Also under --json (where oclif's logToStderr is silent): a failed apply must say why on stderr.
    if (result.error) process.stderr.write(`Error: ${printableLines(result.error.message)}\n`)
    if (result.summary.refused) process.exitCode = ExitCode.InvalidInput
    else if (result.error) process.exitCode = result.error.exitCode
    else if (result.interrupted) process.exitCode = ExitCode.Interrupted
    else if (result.mode === 'plan' && flags['detailed-exitcode'] && result.changesPending) process.exitCode = ExitCode.ChangesPending
    return result
  }
}
