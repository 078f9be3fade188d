/**
 * The npm package as users get it: `npm pack` (its prepack build included) of a copy of the repository without
 * tests, benches, examples or node_modules, the tarball installed into an empty prefix with production dependencies
 * only and no install scripts, then the installed `vitrine` run on examples/.
 *
 * Offline: `npm ci --offline` takes every tarball from the npm cache that the repository's own `npm ci` filled. A
 * plain `npm install TARBALL --offline` would need the registry's package documents to resolve version ranges,
 * which that cache does not hold; so the empty prefix gets a lockfile made of this repository's lock (the versions
 * the tests run on) less its dev-only packages, with the tarball as its one direct dependency.
 */
import {cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ROOT} from '../helpers/cli.js'

const MAX_PACKED_BYTES = 5 * 1024 * 1024
/** What a checkout has that the package must not carry, and must not need to build. */
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', 'test', 'bench', 'examples', 'build', 'coverage'])

interface LockEntry {
  dev?: boolean
  [key: string]: unknown
}
interface Lock {
  packages: Record<string, LockEntry>
  [key: string]: unknown
}
interface PackInfo {
  filename: string
  size: number
  unpackedSize: number
  files: Array<{path: string}>
}

let work: string
let pack: PackInfo
let tarball: string
let bin: string
let installSeconds: number

/** The environment of a user's shell: nothing from this repository (no NODE_PATH, no npm_* of the test run). */
function userEnv(home: string): Record<string, string> {
  return {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, NO_COLOR: '1', CI: 'true'}
}

/** An npm lockfile for a project whose one dependency is TARBALL, holding the production part of this repo's lock. */
function lockForTarball(repoLock: Lock, manifest: Record<string, unknown>, tarballSpec: string): Lock {
  const packages: Record<string, LockEntry> = {'': {dependencies: {vitrine: tarballSpec}}}
  packages['node_modules/vitrine'] = {
    version: manifest.version,
    resolved: tarballSpec,
    license: manifest.license,
    dependencies: manifest.dependencies,
    bin: manifest.bin,
    engines: manifest.engines,
  }
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path !== '' && !entry.dev) packages[path] = entry
  }
  return {name: 'empty-prefix', lockfileVersion: 3, requires: true, packages}
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vitrine-packed-'))
  const checkout = join(work, 'checkout')
  await cp(ROOT, checkout, {
    recursive: true,
    filter: (src) => !NOT_COPIED.has(relative(ROOT, src)) && !src.endsWith('.tgz'),
  })
  // The build (prepack) needs the dev tools; the link keeps the copy cheap.
  await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir')
  const packed = await execa('npm', ['pack', '--json', '--pack-destination', work], {cwd: checkout, env: {CI: 'true'}, timeout: 240_000})
  pack = (JSON.parse(packed.stdout) as PackInfo[])[0]
  tarball = join(work, pack.filename)

  const prefix = join(work, 'prefix')
  await mkdir(prefix)
  const manifest = JSON.parse(await readFile(join(checkout, 'package.json'), 'utf8')) as Record<string, unknown>
  const repoLock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as Lock
  const spec = `file:${tarball}`
  await writeFile(join(prefix, 'package.json'), JSON.stringify({name: 'empty-prefix', private: true, dependencies: {vitrine: spec}}))
  await writeFile(join(prefix, 'package-lock.json'), JSON.stringify(lockForTarball(repoLock, manifest, spec), null, 2))
  const started = performance.now()
  await execa('npm', ['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: prefix,
    // The user's npm settings (cache location included), none of this test run's npm_* variables.
    env: {...userEnv(process.env.HOME ?? work), ...(process.env.npm_config_cache ? {npm_config_cache: process.env.npm_config_cache} : {})},
    extendEnv: false,
    timeout: 240_000,
  })
  installSeconds = (performance.now() - started) / 1000
  bin = join(prefix, 'node_modules/.bin/vitrine')
  console.log(`packed ${pack.filename}: ${pack.size} bytes (${(pack.size / 1024 / 1024).toFixed(2)} MB), unpacked ${pack.unpackedSize} bytes, ${pack.files.length} files; offline install of the production dependencies ${installSeconds.toFixed(1)} s`)
}, 600_000)

afterAll(async () => {
  if (work) await rm(work, {recursive: true, force: true})
})

async function vitrine(args: string[], cwd: string) {
  return execa(bin, args, {cwd, env: userEnv(cwd), extendEnv: false, reject: false, timeout: 120_000})
}

describe('the packed npm package', () => {
  it(`weighs under ${MAX_PACKED_BYTES / 1024 / 1024} MB and holds the run-time files only (no tests, benches, examples, TypeScript sources, dev launcher)`, async () => {
    expect(pack.size).toBeLessThan(MAX_PACKED_BYTES)
    const paths = pack.files.map((f) => f.path)
    for (const needed of ['package.json', 'README.md', 'LICENSE', 'bin/run.js', 'oclif.manifest.json', 'dist/commands/validate.js', 'data/sku-catalog.json', 'templates/azureml/defaults.yaml']) {
      expect(paths).toContain(needed)
    }
    expect(paths.some((p) => p.startsWith('schemas/azureml/'))).toBe(true)
    const unwanted = paths.filter((p) => /^(test|bench|examples|src|commands|cli|assembly|scripts|node_modules)\//.test(p) || /\.ts$/.test(p) || p === 'bin/dev.js' || p.endsWith('.tgz'))
    expect(unwanted).toEqual([])
    const manifest = JSON.parse(await readFile(join(work, 'prefix/node_modules/vitrine/package.json'), 'utf8')) as Record<string, unknown>
    expect(manifest.private).toBeUndefined()
    expect(manifest.bin).toEqual({vitrine: 'bin/run.js'})
    expect((manifest.engines as {node: string}).node).toBe('>=20')
  })

  it('installs without dev dependencies and without running any install script (sharp uses its prebuilt package)', async () => {
    const top = await readdir(join(work, 'prefix/node_modules'))
    for (const dev of ['vitest', 'typescript', 'onnxruntime-node', 'eslint', 'tsx', 'assemblyscript', 'playwright-core']) expect(top).not.toContain(dev)
    expect(top).toContain('sharp')
    // sharp's own install script (install/check.js) never ran: its prebuilt binary comes from the @img package.
    const img = await readdir(join(work, 'prefix/node_modules/@img'))
    expect(img.some((d) => d.startsWith(`sharp-${process.platform}`))).toBe(true)
    expect(installSeconds).toBeGreaterThan(0)
  })

  it('vitrine --version', async () => {
    const r = await vitrine(['--version'], work)
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^vitrine\/0\.\d+\.\d+ /)
  })

  it('vitrine validate examples/assets', async () => {
    const r = await vitrine(['validate', join(ROOT, 'examples/assets'), '--json'], work)
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as {ok: boolean; assets: Array<{name: string}>}
    expect(result.ok).toBe(true)
    expect(result.assets.map((a) => a.name)).toContain('google-vit-base-patch16-224')
  })

  it('vitrine generate online-endpoint from the example asset (templates and bundled schemas travel)', async () => {
    const out = join(work, 'online')
    const r = await vitrine(['generate', 'online-endpoint', '--asset', join(ROOT, 'examples/assets/google-vit-base-patch16-224'), '--out', out], work)
    expect(r.exitCode, r.stderr).toBe(0)
    const files = (await readdir(out)).sort()
    expect(files.length).toBeGreaterThanOrEqual(2)
    for (const f of files) expect((await stat(join(out, f))).size).toBeGreaterThan(0)
    const deployment = await readFile(join(out, files.find((f) => /deployment/.test(f))!), 'utf8')
    expect(deployment).toMatch(/instance_type: Standard_/)
  })

  it('vitrine score on an example digit (the WebAssembly engine and sharp work from the install)', async () => {
    const r = await vitrine(['score', '-m', join(ROOT, 'examples/models/vit-digits'), join(ROOT, 'examples/images/digits/digit-7-0182.png'), '--json'], work)
    expect(r.exitCode, r.stderr).toBe(0)
    const response = JSON.parse(r.stdout) as Array<Array<{label: string; score: number}>>
    expect(response[0][0].label).toBe('7')
  })

  it("vitrine evaluate on the digits set gives PyTorch's accuracy", async () => {
    const expected = JSON.parse(await readFile(join(ROOT, 'test/fixtures/digits-eval/expected.json'), 'utf8')) as {metrics: {accuracy: number}}
    const out = join(work, 'eval')
    const r = await vitrine(['evaluate', '-m', join(ROOT, 'examples/models/vit-digits'), '-d', join(ROOT, 'examples/datasets/digits-eval/annotations.jsonl'), '--out', out, '--json'], work)
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as {metrics: {metrics: {accuracy: number}}}
    expect(result.metrics.metrics.accuracy).toBeCloseTo(expected.metrics.accuracy, 12)
    expect((await stat(join(out, 'report.html'))).size).toBeGreaterThan(0)
  })
})
