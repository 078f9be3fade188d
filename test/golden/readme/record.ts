/**
 * Records the README examples' outputs with a given build of vitrine into recorded.json beside this file.
 *
 *   node --import tsx test/golden/readme/record.ts /tmp/golden-base
 *
 * ROOT is a checkout built with `npm run build` (its bin/run.js is run, in a subprocess, on a copy of its examples/).
 * Run once on the code before issue 17's restructuring; never to make a failing golden test pass (see changes.ts).
 */
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

import {runExamples, runServeExample} from './examples.js'

const root = process.argv[2]
if (!root) throw new Error('usage: record.ts ROOT (a built vitrine checkout)')
const {stdout: commit} = await execa('git', ['-C', root, 'rev-parse', 'HEAD'])
const records = await runExamples(async (args, {cwd, env}) => {
  const r = await execa('node', [join(root, 'bin/run.js'), ...args], {cwd, env, reject: false, stripFinalNewline: false, timeout: 300_000})
  return {exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr)}
}, join(root, 'examples'))
const serve = await runServeExample(join(root, 'bin/run.js'), join(root, 'examples'))
const out = fileURLToPath(new URL('recorded.json', import.meta.url))
await writeFile(out, JSON.stringify({recordedOn: commit.trim(), examples: records, serve}, null, 2) + '\n')
for (const r of records) process.stderr.write(`${r.id}: exit ${r.exitCode}\n`)
process.stderr.write(`wrote ${out}\n`)
