import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {e2eBin} from '../helpers/e2e.js'
import {ROOT} from '../helpers/cli.js'
import {differences, expected, loadRecorded} from '../golden/readme/compare.js'
import {runServeExample} from '../golden/readme/examples.js'

// A process of its own: the example ends with SIGTERM, which must reach a real `vitrine serve`.
describe('README serve example (end-to-end, built CLI)', () => {
  it('answers the curl request and stops on SIGTERM as recorded before the restructuring', {timeout: 120_000}, async () => {
    const recorded = await loadRecorded()
    const now = await runServeExample(await e2eBin(), join(ROOT, 'examples'))
    const want = expected('serve', recorded.serve)
    expect(differences(now, want.record, want.numbersWithin, want.ignore)).toEqual([])
  })
})
