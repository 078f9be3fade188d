/**
 * The worker threads' code, as a string run with `new Worker(source, {eval: true})`: no separate file to locate
 * from src/ (tests, tsx) and from dist/ alike. Each worker instantiates the compiled kernels on the shared memory,
 * says it is ready, then loops: wait for the job generation to change, run its share of the kernel named in the
 * control block, count itself done. The control block's layout comes in workerData (`layout`, ./control-block.ts):
 * this source names its slots and never repeats their numbers.
 */
export const WORKER_SOURCE = `
'use strict'
const {parentPort, workerData} = require('node:worker_threads')
const {module, memory, control, layout: L, tid, nth, names, spin} = workerData
const instance = new WebAssembly.Instance(module, {env: {memory}})
const fns = names.map((n) => instance.exports[n])
const ctl = new Int32Array(control, 0, L.INT32_SLOTS)
const args = new Float64Array(control, L.ARGS_BYTE, L.MAX_ARGS)
let seen = Atomics.load(ctl, L.GEN)
parentPort.postMessage('ready')
for (;;) {
  let gen = Atomics.load(ctl, L.GEN)
  for (let i = 0; gen === seen && i < spin; i++) gen = Atomics.load(ctl, L.GEN)
  while (gen === seen) {
    Atomics.wait(ctl, L.GEN, seen)
    gen = Atomics.load(ctl, L.GEN)
  }
  seen = gen
  const f = Atomics.load(ctl, L.FN)
  if (f === L.FN_EXIT) break
  const n = Atomics.load(ctl, L.NARGS)
  const a = new Array(n + 2)
  for (let i = 0; i < n; i++) a[i] = args[i]
  a[n] = tid
  a[n + 1] = nth
  try {
    fns[f].apply(null, a)
  } catch (error) {
    Atomics.store(ctl, L.ERROR, 1)
  }
  if (Atomics.add(ctl, L.DONE, 1) + 1 === nth - 1) Atomics.notify(ctl, L.DONE)
}
`
