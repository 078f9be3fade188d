/**
 * The inference worker (see inference-thread.ts): loads one model on its own backend, then runs the network on the
 * prepared pixels of each message, one message at a time, and posts the outcomes back.
 */
import {parentPort} from 'node:worker_threads'

import {type InferenceReply, type InferenceRequest, toThreadError} from './inference-thread.js'
import {Scorer} from './scorer.js'

let scorer: Scorer | undefined

function reply(message: InferenceReply): void {
  parentPort?.postMessage(message)
}

parentPort?.on('message', (request: InferenceRequest) => {
  if (request.kind === 'load') {
    Scorer.load(request.dir, request.options).then(
      (loaded) => {
        scorer = loaded
        reply({kind: 'loaded', labels: loaded.labels, backendName: loaded.backendName, threads: loaded.threads, preprocessor: loaded.model.preprocessor})
      },
      (error: unknown) => reply({kind: 'load-failed', error: toThreadError(error)}),
    )
    return
  }
  try {
    if (!scorer) throw new Error('internal: run before the model was loaded')
    const items = request.ids.map((id) => ({id, bytes: new Uint8Array(0)}))
    const outcomes = scorer.run({items, outcomes: request.outcomes, pixels: request.pixels}, request.options)
    reply({kind: 'ran', id: request.id, outcomes})
  } catch (error) {
    reply({kind: 'run-failed', id: request.id, error: toThreadError(error)})
  }
})
