// npm's pack/publish hooks (`npm pack` runs prepack, then prepare, then lists the files, then postpack).
//   node scripts/pack.js prepack   a clean build: no stale files from renamed sources in dist/
//   node scripts/pack.js prepare   the build (`npm ci` in a clone), except inside `npm pack`/`npm publish`,
//                                  where prepack has just built it
// No npm-shrinkwrap.json is shipped: npm ignores it for global installs of a local tarball (npm/cli#5325) and has
// installed the dev entries of a dependency's shrinkwrap (npm/cli#4323), which would pull onnxruntime-node in.
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'

const PACKING = ['pack', 'publish'].includes(process.env.npm_command ?? '')

function build() {
  const npmCli = process.env.npm_execpath
  if (npmCli) execFileSync(process.execPath, [npmCli, 'run', 'build'], {stdio: 'inherit'})
  else execFileSync('npm', ['run', 'build'], {stdio: 'inherit'})
}

const step = process.argv[2]
if (step === 'prepack') {
  rmSync('dist', {recursive: true, force: true})
  build()
} else if (step === 'prepare') {
  if (!PACKING) build()
} else {
  console.error('usage: node scripts/pack.js prepack|prepare')
  process.exit(2)
}
