import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {renderVerifyResult} from '../cli/package-render.js'
import {ExitCode} from '../src/core/errors.js'
import {type VerifyResult, verifyPackage} from '../src/package/verify.js'

export default class Verify extends BaseCommand {
  static override summary = 'Check a package folder against its manifest: every file, size, sha256, and the tensor shapes'
  static override description = `Re-hashes every file listed in DIR/manifest.json, reports missing, changed and unlisted files, and checks that
mlflow_model_folder/model/model.safetensors holds exactly the tensors config.json implies, with their shapes, and
that MLmodel model_size_bytes is still true to the files.
A bad file is named, and the exit code is 1.`

  static override examples = ['<%= config.bin %> verify build/vit-digits', '<%= config.bin %> verify build/vit-digits --json']

  static override args = {
    dir: Args.string({description: 'A folder written by vitrine package', required: true}),
  }

  async run(): Promise<VerifyResult> {
    const {args} = await this.parse(Verify)
    const result = await verifyPackage(args.dir, this.progress())
    if (!result.ok) process.exitCode = ExitCode.InvalidInput
    if (!this.jsonEnabled()) {
      const text = renderVerifyResult(result)
      if (result.ok) this.log(text)
      else this.logToStderr(text)
    }
    return result
  }
}
