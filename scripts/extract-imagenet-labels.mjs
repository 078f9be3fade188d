#!/usr/bin/env node
/**
 * Regenerates data/imagenet-labels.json: the 1000 ImageNet-1k synset strings in class-index order, the same strings
 * google/vit-base-patch16-224's config.json carries as id2label ("tench, Tinca tinca", ..., "toilet tissue, toilet
 * paper, bathroom tissue").
 *
 * The strings come from the npm package @tensorflow-models/mobilenet, which ships them as data
 * (dist/imagenet_classes.js). It is fetched with `npm pack` into a temp dir and is never a dependency of vitrine.
 *
 *   node scripts/extract-imagenet-labels.mjs [VERSION]     (default 2.1.1)
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const version = process.argv[2] ?? '2.1.1'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tmp = mkdtempSync(join(tmpdir(), 'vitrine-labels-'))
try {
  execFileSync('npm', ['pack', `@tensorflow-models/mobilenet@${version}`, '--silent'], {cwd: tmp, stdio: ['ignore', 'ignore', 'inherit']})
  const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'))
  if (!tgz) throw new Error('npm pack produced no tarball')
  execFileSync('tar', ['xzf', tgz], {cwd: tmp})
  // The file is plain CommonJS data: `exports.IMAGENET_CLASSES = {0: '...', ...}`.
  const {IMAGENET_CLASSES} = createRequire(import.meta.url)(join(tmp, 'package/dist/imagenet_classes.js'))
  const labels = []
  for (let i = 0; i < 1000; i++) {
    const label = IMAGENET_CLASSES[i]
    if (typeof label !== 'string') throw new Error(`class ${i} is missing`)
    labels.push(label)
  }
  if (Object.keys(IMAGENET_CLASSES).length !== 1000) throw new Error(`expected 1000 classes, got ${Object.keys(IMAGENET_CLASSES).length}`)
  // The Hugging Face config's first and last strings: a different list (e.g. the short Keras names) fails here.
  if (labels[0] !== 'tench, Tinca tinca') throw new Error(`class 0 is ${JSON.stringify(labels[0])}, not the Hugging Face "tench, Tinca tinca"`)
  if (labels[999] !== 'toilet tissue, toilet paper, bathroom tissue') throw new Error(`class 999 is ${JSON.stringify(labels[999])}`)
  writeFileSync(join(root, 'data/imagenet-labels.json'), JSON.stringify(labels, null, 1) + '\n')
  process.stdout.write(`wrote data/imagenet-labels.json (${labels.length} labels from @tensorflow-models/mobilenet@${version})\n`)
} finally {
  rmSync(tmp, {recursive: true, force: true})
}
