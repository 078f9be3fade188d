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

/** The recorded output with the intended, named changes of changes.ts applied, and the numeric tolerance they allow. */
export function expected<R extends ExampleRecord | ServeRecord>(id: string, recorded: R): {record: R; numbersWithin: number; ignore: RegExp[]} {
  let record = recorded
  let numbersWithin = 0
  const ignore: RegExp[] = []
  for (const c of CHANGES.filter((x) => x.example === id)) {
    if (c.args) record = {...record, args: c.args}
    if (c.edit) record = c.edit(record)
    if (c.numbersWithin) numbersWithin = Math.max(numbersWithin, c.numbersWithin)
    ignore.push(...(c.ignore ?? []))
  }
  return {record, numbersWithin, ignore}
}

const NUMBER = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi

/** A equals B, except that numbers may differ by `within` relative to the larger (0: exactly equal). */
export function sameText(a: string, b: string, within = 0, ignore: RegExp[] = []): boolean {
  for (const re of ignore) {
    a = a.replace(re, '<IGNORED>')
    b = b.replace(re, '<IGNORED>')
  }
  if (a === b) return true
  if (within === 0) return false
  if (a.replace(NUMBER, '#') !== b.replace(NUMBER, '#')) return false
  const x = a.match(NUMBER) ?? []
  const y = b.match(NUMBER) ?? []
  return x.every((s, i) => {
    const p = Number(s)
    const q = Number(y[i])
    return p === q || Math.abs(p - q) <= within * Math.max(Math.abs(p), Math.abs(q))
  })
}

/** The fields of ACTUAL that differ from EXPECTED (`files[path]` for each file), numbers compared within `within`. */
export function differences<R extends ExampleRecord | ServeRecord>(actual: R, expected: R, within = 0, ignore: RegExp[] = []): string[] {
  const out: string[] = []
  for (const k of Object.keys({...actual, ...expected}) as Array<keyof R>) {
    if (k === 'files') continue
    const a = actual[k]
    const e = expected[k]
    const same = typeof a === 'string' && typeof e === 'string' ? sameText(a, e, within, ignore) : JSON.stringify(a) === JSON.stringify(e)
    if (!same) out.push(String(k))
  }
  if ('files' in actual && 'files' in expected) {
    for (const f of new Set([...Object.keys(actual.files), ...Object.keys(expected.files)])) {
      const a = actual.files[f]
      const e = expected.files[f]
      if (a === undefined || e === undefined || !sameText(a, e, within, ignore)) out.push(`files[${f}]`)
    }
  }
  return out
}
