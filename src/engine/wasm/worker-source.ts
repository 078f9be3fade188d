/**
 * The worker threads' code, as a string run with `new Worker(source, {eval: true})`: no separate file to locate
 * from src/ (tests, tsx) and from dist/ alike. Each worker instantiates the compiled kernels on the shared memory,
 * says it is ready, then loops: wait for the job generation to change, run its share of the kernel named in the
 * control block, count itself done. The control block layout is the one in ./index.ts (CTL_*).
 */
export const WORKER_SOURCE = `
'use strict'
const {parentPort, workerData} = require('node:worker_threads')
const {module, memory, control, tid, nth, names, spin} = workerData
const instance = new WebAssembly.Instance(module, {env: {memory}})
const fns = names.map((n) => instance.exports[n])
const ctl = new Int32Array(control, 0, 16)
const args = new Float64Array(control, 64, 16)
let seen = Atomics.load(ctl, 0)
parentPort.postMessage('ready')
for (;;) {
  let gen = Atomics.load(ctl, 0)
  for (let i = 0; gen === seen && i < spin; i++) gen = Atomics.load(ctl, 0)
  while (gen === seen) {
    Atomics.wait(ctl, 0, seen)
    gen = Atomics.load(ctl, 0)
  }
  seen = gen
  const f = Atomics.load(ctl, 2)
  if (f < 0) break
  const n = Atomics.load(ctl, 3)
  const a = new Array(n + 2)
  for (let i = 0; i < n; i++) a[i] = args[i]
  a[n] = tid
  a[n + 1] = nth
  try {
    fns[f].apply(null, a)
  } catch (error) {
    Atomics.store(ctl, 4, 1)
  }
  if (Atomics.add(ctl, 1, 1) + 1 === nth - 1) Atomics.notify(ctl, 1)
}
`
