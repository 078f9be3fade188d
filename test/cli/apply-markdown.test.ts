/** `apply --format markdown`: the plan and outcome as GitHub-flavoured Markdown for job summaries and PR comments. */
import {describe, expect, it} from 'vitest'

import {renderMarkdown} from '../../cli/apply-render.js'
import type {ApplyResult} from '../../src/azure/run-apply.js'

const TARGET = {armEndpoint: 'https://management.azure.com', subscription: 'sub-1', resourceGroup: 'rg', workspace: 'ws', registry: 'reg'}

function plan(extra: Partial<ApplyResult> = {}): ApplyResult {
  return {
    mode: 'plan',
    target: TARGET,
    auth: 'AZURE_ACCESS_TOKEN',
    summary: {create: 1, update: 1, repair: 0, noChange: 1, refused: 0},
    changesPending: true,
    resources: [
      {kind: 'online-endpoint', name: 'vit-ep', file: 'build/online/online-endpoint.yaml', id: '/x/vit-ep', action: 'no-change', changes: [], notes: []},
      {
        kind: 'online-deployment',
        name: 'vit-ep/blue',
        file: 'build/online/online-deployment.yaml',
        id: '/x/vit-ep/blue',
        action: 'update',
        changes: [
          {path: 'properties.instanceType', from: 'Standard_DS3_v2', to: 'Standard_DS4_v2'},
          {path: 'tags.note', from: undefined, to: 'a|b `c`'},
        ],
        notes: ['egress_public_network_access is not sent'],
      },
      {kind: 'registry-model-version', name: 'vit:2', file: 'build/vit', id: '/x/vit/2', action: 'create', changes: [], notes: []},
    ],
    ...extra,
  }
}

describe('renderMarkdown', () => {
  it('a plan: summary, one row per resource, the field changes of each folded with pipes and backticks escaped', () => {
    expect(renderMarkdown(plan())).toBe(
      [
        '### vitrine apply --plan',
        '',
        '**Plan: 1 to create, 1 to update, 1 unchanged.**',
        '',
        'Target: subscription `sub-1`, resource group `rg`, workspace `ws`, registry `reg`; credential: AZURE_ACCESS_TOKEN.',
        '',
        '| action | kind | name | file |',
        '| --- | --- | --- | --- |',
        '| no change | online endpoint | `vit-ep` | `build/online/online-endpoint.yaml` |',
        '| **update** | online deployment | `vit-ep/blue` | `build/online/online-deployment.yaml` |',
        '| **create** | registry model version | `vit:2` | `build/vit` |',
        '',
        '<details><summary>online deployment `vit-ep/blue`: 2 field changes, notes</summary>',
        '',
        '| field | now | after apply |',
        '| --- | --- | --- |',
        '| `properties.instanceType` | `"Standard_DS3_v2"` | `"Standard_DS4_v2"` |',
        '| `tags.note` | (none) | ``"a\\|b `c`"`` |',
        '',
        '- note: egress_public_network_access is not sent',
        '',
        '</details>',
      ].join('\n'),
    )
  })

  it('no changes says so; a refused change and an error are stated', () => {
    const none = renderMarkdown(plan({summary: {create: 0, update: 0, repair: 0, noChange: 1, refused: 0}, changesPending: false, resources: [plan().resources[0]]}))
    expect(none).toContain('**No changes. Plan: 0 to create, 0 to update, 1 unchanged.**')
    expect(none).not.toContain('<details>')
    const refused = renderMarkdown(
      plan({
        summary: {create: 0, update: 0, repair: 0, noChange: 0, refused: 1},
        resources: [{kind: 'registry-model-version', name: 'vit:1', file: 'build/vit', id: '/x', action: 'refused', changes: [{path: 'properties.description', from: 'a', to: 'b'}], reason: 'bump the version', notes: []}],
      }),
    )
    expect(refused).toContain('| **refused** | registry model version | `vit:1` | `build/vit` |')
    expect(refused).toContain('- refused: bump the version')
    expect(refused).toContain('Nothing was applied: the plan holds refused changes.')
    const failed = renderMarkdown(plan({mode: 'apply', applied: [], error: {message: 'Azure said no', exitCode: 3}}))
    expect(failed.startsWith('### vitrine apply\n')).toBe(true)
    expect(failed).toContain('**Apply stopped:** Azure said no')
  })

  it('after apply: the outcome lines and one row per applied resource', () => {
    const md = renderMarkdown(
      plan({
        mode: 'apply',
        applied: [
          {kind: 'online-deployment', name: 'vit-ep/blue', outcome: 'updated', status: 'Succeeded'},
          {kind: 'registry-model-version', name: 'vit:2', outcome: 'created'},
        ],
        stillRunning: [],
        uploaded: {files: 3, bytes: 1200, requests: 3},
      }),
    )
    expect(md).toContain(['#### Applied', '', 'Uploaded 3 files (1200 bytes).', 'Applied: 1 created, 1 updated.'].join('\n'))
    expect(md).toContain('| online deployment | `vit-ep/blue` | updated | Succeeded |')
    expect(md).toContain('| registry model version | `vit:2` | created |  |')
  })
})
