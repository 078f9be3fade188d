import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {GENERATE_KINDS, generate, writeGenerated, type GenerateResult} from '../src/generate/generate.js'
import {printable} from '../src/core/printable.js'

export default class Generate extends BaseCommand {
  static override summary = 'Generate Azure ML YAMLs (online/batch endpoint, finetune, evaluation, model version) from a model asset'
  static override description = `KIND is one of ${GENERATE_KINDS.join(', ')}. The asset must pass \`vitrine validate\`.

The instance type is the smallest SKU of the asset's allow list for the scenario (inference, finetune, evaluation)
that meets its min-SKU spec, by the SKU catalog; the reason is printed. --set path=value changes a field (paths
as in the YAML; prefix endpoint./deployment. when both documents have the field); --set instance_type=SKU outside
the allow list is refused unless --allow-sku-outside-list. Every YAML is checked against the bundled Azure ML schemas before it is
written. Without --out the YAML documents go to stdout, separated by ---.`

  static override examples = [
    '<%= config.bin %> generate online-endpoint --asset examples/assets/google-vit-base-patch16-224',
    '<%= config.bin %> generate online-endpoint --asset examples/assets/google-vit-base-patch16-224 --out deploy --set instance_count=2',
    '<%= config.bin %> generate batch-endpoint --asset examples/assets/google-vit-base-patch16-224 --compute cpu-cluster --out deploy',
    '<%= config.bin %> generate finetune --asset examples/assets/google-vit-base-patch16-224 --train-data examples/datasets/digits-eval/images --out ft',
    '<%= config.bin %> generate evaluation --asset examples/assets/google-vit-base-patch16-224 --test-data examples/datasets/digits-eval/annotations.jsonl --out eval',
    '<%= config.bin %> generate model --asset examples/assets/google-vit-base-patch16-224 --out register',
  ]

  static override args = {
    kind: Args.string({description: `What to generate: ${GENERATE_KINDS.join(', ')}`, required: true}),
  }

  static override flags = {
    asset: Flags.string({description: 'The model asset folder (holds asset.yaml)', required: true}),
    registry: Flags.string({description: 'The registry the model is published in', default: 'azureml'}),
    out: Flags.string({char: 'o', description: 'Write the files into this folder (atomically) instead of printing them'}),
    set: Flags.string({description: 'Change a field: path=value (repeatable), e.g. instance_count=2, deployment.name=green', multiple: true}),
    'allow-sku-outside-list': Flags.boolean({description: 'Accept a --set instance_type outside the asset\'s allow list for the scenario (Azure refuses to deploy it)'}),
    multilabel: Flags.boolean({description: 'finetune/evaluation: multilabel classification (image-classification-multilabel)'}),
    compute: Flags.string({description: 'batch-endpoint/finetune/evaluation: the compute cluster to run on'}),
    'train-data': Flags.string({description: 'finetune: a JSONL (relative image paths), an MLTable folder or a folder per class, written with copies of its images as training/validation MLTable folders beside the YAML (needs --out)'}),
    'test-data': Flags.string({description: 'evaluation: a JSONL (relative image paths), an MLTable folder or a folder per class, written with copies of its images as a data folder beside the YAML (needs --out)'}),
    'image-url-prefix': Flags.string({description: 'With --train-data: where the images were uploaded (azureml://datastores/<ds>/paths/<folder>/); image_url is this plus the path inside the data, and no image is copied'}),
    'sku-catalog': Flags.string({description: 'A SKU catalog file (from `vitrine skus refresh`) instead of the bundled one'}),
  }

  async run(): Promise<GenerateResult> {
    const {args, flags} = await this.parse(Generate)
    const {result, texts, copies} = await generate({
      kind: args.kind,
      asset: flags.asset,
      registry: flags.registry,
      out: flags.out,
      set: flags.set,
      allowSkuOutsideList: flags['allow-sku-outside-list'],
      multilabel: flags.multilabel,
      compute: flags.compute,
      trainData: flags['train-data'],
      testData: flags['test-data'],
      imageUrlPrefix: flags['image-url-prefix'],
      skuCatalog: flags['sku-catalog'],
    })
    if (flags.out !== undefined) {
      await writeGenerated(result, texts, flags.out, process.cwd(), copies)
    } else {
      for (const file of result.files) file.content = texts.get(file.path)
    }
    if (this.jsonEnabled()) return result

    // Human output: YAML on stdout when printing (so it pipes), everything else on stderr.
    const notes: string[] = []
    if (result.instanceType) notes.push(`instance type ${result.instanceType.name}: ${result.instanceType.reason}`)
    for (const w of result.warnings) notes.push(`warning: ${w}`)
    if (flags.out === undefined) {
      for (const note of notes) this.logToStderr(printable(note))
      this.log(result.files.map((f) => f.content ?? '').join('---\n').replace(/\n$/, ''))
    } else {
      for (const note of notes) this.log(printable(note))
      // Images copied into the data folders are counted, not listed (a data set has hundreds).
      const images = new Map<string, number>()
      for (const f of result.files) {
        if (f.kind === 'image') images.set(f.status, (images.get(f.status) ?? 0) + 1)
        else this.log(`${f.status.padEnd(9)} ${printable(f.path)}`)
      }
      for (const [status, n] of images) this.log(`${status.padEnd(9)} ${n} image${n === 1 ? '' : 's'} copied into the data folder${n === 1 ? '' : 's'}`)
    }
    return result
  }
}
