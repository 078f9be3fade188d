import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {ROOT} from '../../helpers/cli.js'
import {CHANGES} from './changes.js'
import type {ExampleRecord, ServeRecord} from './examples.js'

export interface Recorded {
  recordedOn: string
  examples: ExampleRecord[]
  serve: ServeRecord
}

export async function loadRecorded(): Promise<Recorded> {
  return JSON.parse(await readFile(join(ROOT, 'test/golden/readme/recorded.json'), 'utf8')) as Recorded
}

/** The recorded output with the intended, named changes of changes.ts applied. */
export function expected<R extends ExampleRecord | ServeRecord>(id: string, recorded: R): R {
  let r = recorded
  for (const c of CHANGES.filter((x) => x.example === id)) {
    if (c.args) r = {...r, args: c.args}
    if (c.edit) r = c.edit(r)
  }
  return r
}

