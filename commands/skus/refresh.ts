import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {AUTH_METHODS, resolveCredential} from '../../src/azure/auth.js'
import {COMMON_EXIT_CODES, type ExitCodeName} from '../../src/core/errors.js'
import {refreshSkuCatalog, type SkusRefreshResult} from '../../src/skus/refresh.js'
import {printable} from '../../src/core/printable.js'

export default class SkusRefresh extends BaseCommand {
  static override summary = 'Write a SKU catalog from the live Azure ML vmSizes API of a subscription and region'
  static override description = `validate checks min-SKU specs against a bundled SKU catalog (an offline estimate: VM docs figures, with the
vmSizes API's own figures where published specs show they differ). This command asks the vmSizes API itself — the
source azureml-assets' CI uses — and writes the answer as a catalog file for \`vitrine validate --sku-catalog FILE\`.
It also says where the live figures differ from the bundled ones.

Auth: DefaultAzureCredential, or AZURE_ACCESS_TOKEN when set, or --auth. The subscription falls back to
AZURE_SUBSCRIPTION_ID.`

  static override examples = [
    '<%= config.bin %> skus refresh --subscription 00000000-0000-0000-0000-000000000000 --region eastus',
    '<%= config.bin %> skus refresh --region westeurope --out skus-westeurope.json && <%= config.bin %> validate assets --sku-catalog skus-westeurope.json',
  ]

  static override exitCodes: readonly ExitCodeName[] = [...COMMON_EXIT_CODES, 'Remote']

  static override flags = {
    subscription: Flags.string({description: 'Subscription id [env: AZURE_SUBSCRIPTION_ID]'}),
    region: Flags.string({description: 'Azure region (the azureml-assets CI asks eastus)', default: 'eastus'}),
    out: Flags.string({char: 'o', description: 'Catalog file to write (default: sku-catalog-<region>.json)', aliases: ['output']}),
    auth: Flags.option({options: AUTH_METHODS, description: 'Credential to use (default: AZURE_ACCESS_TOKEN when set, else DefaultAzureCredential)'})(),
    'arm-endpoint': Flags.string({description: 'Azure Resource Manager URL, for sovereign clouds; http only for loopback [env: AZURE_ARM_ENDPOINT]'}),
  }

  async run(): Promise<SkusRefreshResult> {
    const {flags} = await this.parse(SkusRefresh)
    const subscription = flags.subscription?.trim() || process.env.AZURE_SUBSCRIPTION_ID?.trim() || ''
    const cred = resolveCredential(flags.auth, process.env)
    const result = await refreshSkuCatalog({
      subscription,
      region: flags.region,
      output: flags.out ?? `sku-catalog-${flags.region}.json`,
      credential: cred.credential,
      credentialSource: cred.source,
      armEndpoint: flags['arm-endpoint'] ?? (process.env.AZURE_ARM_ENDPOINT?.trim() || undefined),
      log: (line) => this.logToStderr(printable(line)),
    })
    if (!this.jsonEnabled()) {
      const d = result.comparedToBundled
      const lines = [`Wrote ${result.file}: ${result.skus} VM sizes of ${result.region} (vmSizes API ${result.apiVersion}, ${result.fetchedAt})`]
      if (result.skipped.length) lines.push(`  skipped ${result.skipped.length} entries without vCPUs/gpus/memoryGB/maxResourceVolumeMB: ${result.skipped.join(', ')}`)
      if (d.differing.length) {
        lines.push(`  ${d.differing.length} differ from the bundled catalog (vCPUs|GPUs|memory|disk):`)
        for (const x of d.differing) lines.push(`    ${x.name}: bundled ${x.bundled}, API ${x.api}`)
      } else lines.push('  every size the bundled catalog knows has the same figures')
      if (d.supportedInferenceMissing.length) lines.push(`  not offered here, though supported for inference: ${d.supportedInferenceMissing.join(', ')}`)
      lines.push(`Next: vitrine validate <assets> --sku-catalog ${result.file}`)
      this.log(lines.map(printable).join('\n'))
    }
    return result
  }
}
