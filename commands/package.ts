import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {checkpointFlags} from '../cli/flags.js'
import {renderPackageResult} from '../cli/package-render.js'
import type {WeightsLocation} from '../src/package/asset-yaml.js'
import {type PackageResult, packageModel} from '../src/package/package.js'

export default class Package extends BaseCommand {
  static override summary = 'Package a checkpoint (ViT, BEiT, SwinV2, DINOv2) as an Azure ML MLflow model folder and model asset, with a manifest'
  static override description = `Writes DIR/mlflow_model_folder (MLmodel, conda.yaml, python_env.yaml, requirements.txt, model/config.json,
model/model.safetensors, components/image_processor/preprocessor_config.json; model.onnx with --onnx),
DIR/asset (asset.yaml, spec.yaml, model.yaml, description.md, MLmodel) and DIR/manifest.json (size and sha256 of
every file), laid out as the registered google/vit-base-patch16-224. SKUs, task, license and publisher default to
that asset's; the same inputs give byte-identical output (MLmodel's utc_time_created comes from --created or
SOURCE_DATE_EPOCH). DIR appears complete or not at all.`

  static override examples = [
    '<%= config.bin %> package examples/models/vit-digits --out build/vit-digits --name vit-digits --version 1',
    '<%= config.bin %> package timm.pth --out pkg --name my-vit --dtype float16 --labels labels.txt',
    '<%= config.bin %> package ./hf-folder --out pkg --name my-vit --version 2 --onnx --storage-name acct --container-name models --container-path my-vit/2/mlflow_model_folder',
  ]

  static override args = {
    src: Args.string({description: 'A checkpoint: a weights file (.safetensors, .bin, .pth, .npz) or a model folder (ViT in any of these forms; BEiT, SwinV2, DINOv2 in Hugging Face form)', required: true}),
  }

  static override flags = {
    out: Flags.string({char: 'o', description: 'The package folder to write (must be new or empty unless --force; replaced atomically)', required: true}),
    force: Flags.boolean({description: 'Replace --out if it exists and is not empty', default: false}),
    name: Flags.string({description: "Model name, as `az ml model create --name` (default: the --spec-template one, else the source's folder name, else its config.json _name_or_path, made a valid Azure name)"}),
    version: Flags.string({description: 'Model version, as `az ml model create --version`: an integer or auto (default: the template one, else 1)'}),
    'spec-template': Flags.string({description: 'A spec.yaml (system_metadata form) to start from instead of the google-vit-base-patch16-224 asset'}),
    task: Flags.string({description: 'Inference task (default: the template one, image-classification)'}),
    license: Flags.string({description: 'License (default: the template one, apache-2.0)'}),
    publisher: Flags.string({description: 'Publisher (default: the template one, Google)'}),
    'hugging-face-id': Flags.string({description: 'The Hugging Face model id the weights come from (system_metadata.huggingFaceModelId)'}),
    'inference-sku': Flags.string({description: 'Inference SKUs (allow list = recommended list; the min-SKU spec is computed), replacing the template ones', multiple: true, delimiter: ','}),
    'evaluation-sku': Flags.string({description: 'Evaluation SKUs, as --inference-sku', multiple: true, delimiter: ','}),
    'finetune-sku': Flags.string({description: 'Finetune SKUs, as --inference-sku', multiple: true, delimiter: ','}),
    'sku-catalog': Flags.string({description: 'SKU catalog for the min-SKU figures (default: the bundled one; `vitrine skus refresh` writes one)'}),
    'storage-name': Flags.string({description: 'Azure storage account that will hold mlflow_model_folder (model.yaml azureblob path)', dependsOn: ['container-name', 'container-path']}),
    'container-name': Flags.string({description: 'Blob container of the weights', dependsOn: ['storage-name', 'container-path']}),
    'container-path': Flags.string({description: 'Path of mlflow_model_folder in the container', dependsOn: ['storage-name', 'container-name']}),
    'local-path': Flags.string({description: 'model.yaml local path of the weights, relative to DIR/asset (default: ../mlflow_model_folder)', exclusive: ['storage-name']}),
    ...checkpointFlags,
    onnx: Flags.boolean({description: 'Also write mlflow_model_folder/model.onnx for any family (opset 17, input pixel_values at the served image size, output logits, dynamic batch)', default: false}),
    created: Flags.string({description: "MLmodel utc_time_created: 'now' or an ISO-8601 time (default: SOURCE_DATE_EPOCH, else 1970-01-01, for reproducible output)"}),
  }

  async run(): Promise<PackageResult> {
    const {args, flags} = await this.parse(Package)
    let location: WeightsLocation | undefined
    if (flags['storage-name'] && flags['container-name'] && flags['container-path']) {
      location = {type: 'azureblob', storageName: flags['storage-name'], containerName: flags['container-name'], containerPath: flags['container-path']}
    } else if (flags['local-path']) {
      location = {type: 'local', uri: flags['local-path']}
    }
    const result = await packageModel(
      args.src,
      flags.out,
      {
        name: flags.name,
        version: flags.version,
        specTemplate: flags['spec-template'],
        task: flags.task,
        license: flags.license,
        publisher: flags.publisher,
        huggingFaceModelId: flags['hugging-face-id'],
        location,
        onnx: flags.onnx,
        created: flags.created,
        skuNames: {inference: flags['inference-sku'], evaluation: flags['evaluation-sku'], finetune: flags['finetune-sku']},
        skuCatalog: flags['sku-catalog'],
        force: flags.force,
        convert: {
          from: flags.from,
          dtype: flags.dtype,
          numHeads: flags['num-heads'],
          labelsFile: flags.labels,
        },
      },
      this.progress(),
    )
    if (!this.jsonEnabled()) this.log(renderPackageResult(result))
    return result
  }
}
