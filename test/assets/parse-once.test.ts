import {cp, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import jsYaml from 'js-yaml'
import {afterEach, describe, expect, it, vi} from 'vitest'

import {validatePaths} from '../../src/assets/validate.js'
import {yamlLib} from '../../src/assets/yaml-file.js'
import {tempDir} from '../helpers/tmp.js'

const FIX = 'test/fixtures/azureml-assets'

afterEach(() => {
  vi.restoreAllMocks()
})

/** Counts the parses `validate` runs: js-yaml's (data) and yaml's positioned Document (for diagnostics' positions). */
function countParses() {
  return {fast: vi.spyOn(jsYaml, 'load'), positioned: vi.spyOn(yamlLib(), 'parseDocument')}
}

describe('validate parses each YAML file once, and positions only where a diagnostic needs one', () => {
  it('a clean tree in both spec forms: one fast parse per file, no positioned parse', async () => {
    const root = await tempDir()
    for (const form of ['current', 'legacy']) await cp(join(FIX, `google-vit-base-patch16-224-${form}`), join(root, form), {recursive: true})
    const legacySpec = join(root, 'legacy', 'spec.yaml')
    await writeFile(legacySpec, (await readFile(legacySpec, 'utf8')).replace('name: google-vit-base-patch16-224', 'name: google-vit-legacy'))
    const parses = countParses()
    const result = await validatePaths([root])
    expect(result.summary).toMatchObject({assets: 2, errors: 0})
    // asset.yaml, spec.yaml and model.yaml of each asset; the legacy form's warning points at a top-level key,
    // found without building the Document.
    expect(parses.fast).toHaveBeenCalledTimes(6)
    expect(result.summary.warnings).toBe(1)
    expect(parses.positioned).not.toHaveBeenCalled()
  })

  it('a nested problem builds the positioned Document of that one file', async () => {
    const root = await tempDir()
    await cp(join(FIX, 'google-vit-base-patch16-224-current'), join(root, 'a'), {recursive: true})
    const spec = join(root, 'a', 'spec.yaml')
    const text = await readFile(spec, 'utf8')
    await writeFile(spec, text.replace(/(inferenceComputes:\s*\n\s*-\s*)Standard_/, '$1Standard_Nope_'))
    const parses = countParses()
    const result = await validatePaths([root])
    expect(result.assets[0].diagnostics.map((d) => d.rule)).toContain('sku-unknown')
    expect(parses.fast).toHaveBeenCalledTimes(3)
    expect(parses.positioned).toHaveBeenCalledTimes(1)
  })
})
