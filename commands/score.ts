import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {renderScoreTable, runnerFlags} from '../cli/runner-render.js'
import type {ScoreResponse} from '../src/runner/request.js'
import {COMMON_EXIT_CODES, type ExitCodeName} from '../src/core/errors.js'
import {runScore} from '../src/runner/run-score.js'

export default class Score extends BaseCommand {
  static override summary = 'Score images locally with the answer a managed online endpoint would give'
  static override description = `INPUT is image files and folders of images (searched recursively), or --request FILE with a body in the
endpoint's format: {"input_data": ["<base64>", ...]} or the pandas split form
{"input_data": {"columns": ["image"], "index": [...], "data": [...]}} (- reads stdin).

Prints a table of the top-k labels per image; --json prints the endpoint's raw response,
[[{"label": ..., "score": ...}, ...], ...], one list per image, best first. As on the endpoint, one image that does
not decode fails the call (exit 1) naming every bad image; \`vitrine batch\` records per-image errors instead.`

  static override examples = [
    '<%= config.bin %> score --model examples/models/vit-digits examples/images/digits',
    '<%= config.bin %> score -m examples/models/vit-digits examples/images/digits/digit-7-0182.png --top-k 3 --json',
    '<%= config.bin %> score -m examples/models/vit-digits --request sample_request_data.json',
  ]

  /** --allow-urls: an image URL that cannot be fetched. */
  static override exitCodes: readonly ExitCodeName[] = [...COMMON_EXIT_CODES, 'Remote']

  static override strict = false
  static override args = {
    input: Args.string({description: 'Image files or folders of images', ignoreStdin: true}),
  }

  static override flags = {
    ...runnerFlags,
    request: Flags.string({description: 'A request body file in the endpoint format (- for stdin)'}),
    'allow-urls': Flags.boolean({description: 'Fetch http(s) image URLs named in --request (public addresses only)', default: false}),
    'allow-private-urls': Flags.boolean({description: 'With --allow-urls, also fetch from loopback, private and link-local addresses', default: false, dependsOn: ['allow-urls']}),
  }

  async run(): Promise<ScoreResponse> {
    const {argv, flags} = await this.parse(Score)
    const run = await runScore({
      model: flags.model,
      paths: argv as string[],
      request: flags.request,
      topK: flags['top-k'],
      threads: flags.threads,
      backend: flags.backend,
      allowUrls: flags['allow-urls'],
      urlLimits: {allowPrivate: flags['allow-private-urls']},
    })
    if (!this.jsonEnabled()) this.log(renderScoreTable(run.ids, run.response))
    return run.response
  }
}
