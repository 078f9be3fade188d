/**
 * The preprocessing worker (see preprocess-pool.ts): decodes and preprocesses one image per message, off the main
 * thread, and transfers the pixel values back.
 */
import {parentPort} from 'node:worker_threads'

import sharp from 'sharp'

import {isVitrineError} from '../core/errors.js'
import {lowerThisThreadPriority} from '../core/thread-priority.js'
import {preprocessImage} from './index.js'
import type {PreprocessJob, PreprocessReply} from './preprocess-pool.js'

// Decoding yields to serve's event loop (libvips' threads inherit the priority).
lowerThisThreadPriority()

// One libvips thread per worker: the workers must leave the main thread (the HTTP server) a core.
sharp.concurrency(1)

parentPort?.on('message', (job: PreprocessJob) => {
  preprocessImage(job.bytes, job.pre, job.source, {maxPixels: job.maxPixels}).then(
    (values) => {
      const reply: PreprocessReply = {id: job.id, values}
      parentPort?.postMessage(reply, [values.buffer as ArrayBuffer])
    },
    (error: unknown) => {
      const reply: PreprocessReply = isVitrineError(error)
        ? {id: job.id, error: {name: error.name, message: error.message, user: true}}
        : {id: job.id, error: {name: 'Error', message: error instanceof Error ? (error.stack ?? error.message) : String(error), user: false}}
      parentPort?.postMessage(reply)
    },
  )
})
