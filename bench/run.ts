/**
 * `npm run bench [-- NAME...]`: runs every `bench/<NAME>.bench.ts` (or the named ones) one after another and prints
 * one JSON object, `{machine, results: {NAME: ...}}`. Benchmarks compare against their peer in the same run; the
 * machines are shared and noisy, so ratios mean more than absolute times.
 */
import {readdirSync} from 'node:fs'
import {cpus, totalmem} from 'node:os'
import {fileURLToPath, pathToFileURL} from 'node:url'

const dir = fileURLToPath(new URL('.', import.meta.url))
const wanted = process.argv.slice(2)
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort()

const results: Record<string, unknown> = {}
for (const name of names) {
  process.stderr.write(`bench: ${name}...\n`)
  const mod = (await import(pathToFileURL(`${dir}/${name}.bench.ts`).href)) as {default: () => Promise<unknown>}
  try {
    results[name] = await mod.default()
  } catch (error) {
    results[name] = {error: (error as Error).message}
  }
}
const machine = {node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30)}
process.stdout.write(JSON.stringify({machine, results}, null, 2) + '\n')
