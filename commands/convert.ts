import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {renderConvertResult} from '../cli/convert-render.js'
import {checkpointFlags} from '../cli/flags.js'
import {type ConvertResult, convertCheckpoint} from '../src/weights/convert.js'

export default class Convert extends BaseCommand {
  static override summary = 'Convert a ViT checkpoint (Hugging Face, PyTorch, timm or JAX) into a Hugging Face model folder'
  static override description = `Reads SRC, a weights file or a model folder, in any of these forms, detected from the content (--from forces one):
  safetensors  Hugging Face model.safetensors
  pytorch      torch.save .bin/.pth (zip + pickle) with Hugging Face names
  timm         torch.save .pth with timm names (fused qkv)
  jax          numpy .npz of Google's JAX checkpoint
Pickles are read by a restricted unpickler: any global a state dict does not need is refused by name, nothing runs.

Writes DIR/config.json (the source's config.json if there is one beside the weights, else derived from the tensor
shapes), DIR/preprocessor_config.json and DIR/model.safetensors (Hugging Face names, sorted, --dtype). Every tensor is
checked against the config. Labels come from --labels, the source config, or the bundled ImageNet-1k synsets for a
1000-class head. The same input gives byte-identical output; DIR appears complete or not at all.`

  static override examples = [
    '<%= config.bin %> convert examples/models/vit-digits --out build/vit-digits-hf',
    '<%= config.bin %> convert ViT-B_16.npz --out vit-b16 --dtype float16',
    '<%= config.bin %> convert vit_small.pth --from timm --num-heads 6 --labels labels.txt --out vit-s',
  ]

  static override args = {
    src: Args.string({description: 'A weights file (.safetensors, .bin, .pth, .npz) or a model folder', required: true}),
  }

  static override flags = {
    out: Flags.string({char: 'o', description: 'Output folder (must be new or empty unless --force)', required: true}),
    ...checkpointFlags,
    force: Flags.boolean({description: 'Replace --out if it exists and is not empty', default: false}),
  }

  async run(): Promise<ConvertResult> {
    const {args, flags} = await this.parse(Convert)
    const result = await convertCheckpoint(
      args.src,
      flags.out,
      {
        from: flags.from,
        dtype: flags.dtype,
        numHeads: flags['num-heads'],
        labelsFile: flags.labels,
        overwrite: flags.force,
      },
      this.progress(),
    )
    if (!this.jsonEnabled()) this.log(renderConvertResult(result))
    return result
  }
}
