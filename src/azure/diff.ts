import {isSecretName, redactValue, REDACTED} from '../core/redact.js'
import {isObject, isoDurationToMs} from './rest-bodies.js'
import type {FieldChange, JsonObject} from './types.js'

/**
 * Maps replaced whole by a PUT: a key present in Azure but not in the file is a change (it would be removed).
 * Everything else is compared only on the fields the file sets, because Azure adds read-only and default fields
 * (provisioningState, scoringUri, identity.principalId, ...) that the file never mentions. `properties.properties`
 * and `environmentVariables` are compared on the file's keys only: Azure adds its own there
 * (`AzureAsyncOperationUri`, `azureml.onlineendpointid`), so a key removed from the file is not reported.
 */
const WHOLE_MAPS = new Set(['tags', 'properties.tags', 'properties.traffic'])

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'string' && typeof b === 'string') {
    // Azure may answer `PT1M` for the `PT60S` we sent: compare durations by length of time.
    const da = isoDurationToMs(a)
    const db = isoDurationToMs(b)
    if (da !== undefined && db !== undefined) return da === db
    return false
  }
  if (typeof a === 'number' && typeof b === 'string') return String(a) === b
  if (typeof a === 'string' && typeof b === 'number') return a === String(b)
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return ka.length === kb.length && ka.every((k) => k in b && sameValue(a[k], b[k]))
  }
  return false
}

/** Field changes that a PUT of `desired` would make to `current`; `ignore` lists dotted paths not compared. */
export function diffResource(desired: JsonObject, current: JsonObject | undefined, ignore: string[] = []): FieldChange[] {
  const changes: FieldChange[] = []
  const skip = new Set(ignore)
  const walk = (want: JsonObject, have: unknown, prefix: string) => {
    const h = isObject(have) ? have : {}
    for (const [k, v] of Object.entries(want)) {
      const path = prefix ? `${prefix}.${k}` : k
      if (v === undefined || skip.has(path)) continue
      if (WHOLE_MAPS.has(path) && isObject(v)) {
        const cur = isObject(h[k]) ? (h[k] as JsonObject) : {}
        for (const key of [...new Set([...Object.keys(v), ...Object.keys(cur)])].sort()) {
          if (!sameValue(v[key], cur[key])) changes.push({path: `${path}.${key}`, from: cur[key], to: v[key]})
        }
        continue
      }
      if (isObject(v) && (isObject(h[k]) || h[k] === undefined)) {
        walk(v, h[k], path)
        continue
      }
      if (!sameValue(v, h[k])) changes.push({path, from: h[k], to: v})
    }
  }
  walk(desired, current, '')
  return changes
}

/** Maps whose values are never shown, only which keys changed: Azure returns them on read, and they hold secrets. */
const VALUE_HIDDEN_MAPS = new Set(['environmentVariables', 'environment_variables'])

/**
 * A change as a plan may show it (text and --json): an environment variable's or a secret-named field's change
 * names the key and that it changed, never a value, old or new; any other value has secret-shaped text (a SAS
 * signature, a token, a connection-string key) redacted.
 */
export function shownChange(c: FieldChange): FieldChange {
  const segments = c.path.split('.')
  const last = segments.at(-1) ?? ''
  const inHiddenMap = segments.slice(0, -1).some((s) => VALUE_HIDDEN_MAPS.has(s))
  if (inHiddenMap || isSecretName(last)) return {path: c.path, hidden: true}
  const hideAll = (v: unknown) => (isObject(v) ? Object.fromEntries(Object.keys(v).map((k) => [k, REDACTED])) : v === undefined ? undefined : REDACTED)
  const show = VALUE_HIDDEN_MAPS.has(last) ? hideAll : redactValue
  const out: FieldChange = {path: c.path}
  if (c.from !== undefined) out.from = show(c.from)
  if (c.to !== undefined) out.to = show(c.to)
  return out
}

/** One change as text: `properties.instanceType: "Standard_DS3_v2" -> "Standard_DS4_v2"`. */
export function formatChange(c: FieldChange): string {
  if (c.hidden) return `${c.path}: changed (value not shown)`
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v))
  return `${c.path}: ${show(c.from)} -> ${show(c.to)}`
}
