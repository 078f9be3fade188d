import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {renderValidateResult} from '../cli/validate-render.js'
import {RULE_IDS, type ValidateResult} from '../src/assets/diagnostic.js'
import {toSarif} from '../src/assets/sarif.js'
import {validatePaths} from '../src/assets/validate.js'
import {ExitCode} from '../src/core/errors.js'

export default class Validate extends BaseCommand {
  static override summary = 'Check model asset folders the way the azureml-assets CI does, offline, pointing at the line to fix'
  static override description = `A PATH is an asset folder (holding asset.yaml), a tree searched for asset.yaml, or an Azure ML YAML file
(as \`vitrine generate\` writes, recognised by its $schema). Reads asset.yaml, the spec, the extra_config (model.yaml)
and the description; checks the JSON Schemas (legacy tags/properties and current system_metadata forms) and every
rule of the azureml-assets tooling, including the min-SKU spec against a bundled SKU catalog (no Azure needed;
--sku-catalog replaces it with \`vitrine skus refresh\` output).

Rule ids: ${RULE_IDS.join(', ')}.

Exits 0 when there are no errors (warnings allowed), 1 on validation errors.`

  static override examples = [
    '<%= config.bin %> validate examples/assets/google-vit-base-patch16-224',
    '<%= config.bin %> validate assets --changed-since origin/main --format sarif > vitrine.sarif',
    '<%= config.bin %> validate assets --fix',
    '<%= config.bin %> validate assets --sku-catalog skus-eastus.json --json',
  ]

  static override strict = false

  static override args = {
    path: Args.string({description: 'Asset folders, trees of them, or Azure ML YAML files (default: .)'}),
  }

  static override flags = {
    'changed-since': Flags.string({description: 'Validate only assets with files changed since this git ref (e.g. origin/main)'}),
    fix: Flags.boolean({description: 'Rewrite min-SKU specs and recommended-SKU lists in place (comments and order kept) and report the changes'}),
    format: Flags.option({options: ['text', 'sarif'] as const, default: 'text' as const, description: 'Output format (--json overrides)'})(),
    'sku-catalog': Flags.string({description: 'SKU catalog JSON replacing the bundled one (see `vitrine skus refresh`)'}),
    threads: Flags.integer({description: 'Validate on this many worker threads (for big trees on machines with cores to spare) [env: VITRINE_WORKERS]', min: 1, max: 64, aliases: ['jobs']}),
    'supported-skus': Flags.string({description: 'supported_inference_skus.json replacing the bundled list of 59 inference SKUs'}),
  }

  /** Plain JSON when piped (CI): oclif's colouring tokenizer costs more than the validation of a small tree. */
  protected override logJson(json: unknown): void {
    if (process.stdout.isTTY) super.logJson(json)
    else process.stdout.write(JSON.stringify(json, null, 2) + '\n')
  }

  async run(): Promise<ValidateResult> {
    const {flags, argv} = await this.parse(Validate)
    const result = await validatePaths(argv as string[], {
      changedSince: flags['changed-since'],
      fix: flags.fix,
      skuCatalog: flags['sku-catalog'],
      supportedInferenceSkus: flags['supported-skus'],
      progress: this.progress(),
      workers: flags.threads,
    })
    if (!result.ok) process.exitCode = ExitCode.InvalidInput
    if (!this.jsonEnabled()) {
      if (flags.format === 'sarif') this.log(JSON.stringify(toSarif(result, this.config.version), null, 2))
      else this.log(renderValidateResult(result, this.color))
    }
    return result
  }
}
