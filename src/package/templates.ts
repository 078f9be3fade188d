import {readFile} from 'node:fs/promises'

import {assetPath} from '../core/paths.js'

/**
 * The shipped templates in templates/package/ are plain text with `{{key}}` placeholders. Every placeholder must
 * have a value and every value must be used: a typo in a template or in the code is a bug caught at once, never a
 * literal `{{...}}` in a published model.
 */
export function fillTemplate(text: string, values: Readonly<Record<string, string | number>>, name: string): string {
  const used = new Set<string>()
  const out = text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`template ${name}: no value for {{${key}}}`)
    used.add(key)
    return String(values[key])
  })
  const unused = Object.keys(values).filter((k) => !used.has(k))
  if (unused.length) throw new Error(`template ${name}: values never used: ${unused.join(', ')}`)
  return out
}

/** templates/package/<name> filled with `values`. */
export async function renderPackageTemplate(name: string, values: Readonly<Record<string, string | number>>): Promise<string> {
  const text = await readFile(assetPath('templates', 'package', name), 'utf8')
  return fillTemplate(text, values, name)
}
