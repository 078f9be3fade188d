import {createHash} from 'node:crypto'
import {open} from 'node:fs/promises'
import {join} from 'node:path'

import {createDefaultHttpClient, createEmptyPipeline, createHttpHeaders, createPipelineRequest, proxyPolicy} from '@azure/core-rest-pipeline'

import {InvalidInputError, RemoteError} from '../core/errors.js'
import type {Progress} from '../core/progress.js'
import {redactSecrets} from '../core/redact.js'
import {DEFAULT_RETRY, isRetryableNetworkError, isRetryableStatus, retryAfterMs, retryDelay, sleep, type RetryOptions} from './retry.js'
import {checkEndpointUrl} from './target.js'
import {checkManifestEntry, type ManifestEntry} from '../package/manifest.js'
import {DEFAULT_REQUEST_TIMEOUT_MS, requestTimeoutPolicy} from './timeout.js'

/** Azure Storage REST version sent with every blob call. */
const BLOB_API_VERSION = '2021-08-06'

export const DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024
export const DEFAULT_UPLOAD_CONCURRENCY = 4

/**
 * Checks every file's size and sha256 against the manifest before a single byte is sent: a package edited after
 * `vitrine package` is refused, naming the file. Files without a recorded hash (a model YAML's local folder, which
 * no manifest vouches for) are not hashed.
 */
export async function verifyFiles(root: string, files: ManifestEntry[], manifestName: string): Promise<void> {
  const hint = 'the package changed after `vitrine package`: package it again'
  for (const f of files) {
    if (!f.sha256) continue
    const full = join(root, f.path)
    const check = await checkManifestEntry(root, f)
    if (check.state === 'missing' || check.state === 'not-a-file' || check.state === 'symlink') {
      const what = check.state === 'missing' ? 'no such file' : check.state === 'symlink' ? 'a symbolic link (never uploaded)' : 'not a regular file'
      throw new InvalidInputError(`${full}: ${what}, but ${manifestName} lists it`, {file: full, hint})
    }
    if (check.state === 'size') throw new InvalidInputError(`${full}: size ${check.actual} bytes, but ${manifestName} says ${f.size}`, {file: full, hint})
    if (check.state === 'sha256') throw new InvalidInputError(`${full}: sha256 ${check.actual}, but ${manifestName} says ${f.sha256}`, {file: full, hint})
  }
}

/** The URL of one blob under a container SAS URI: the path goes before the query (the SAS token). */
export function blobUrl(sasUri: string, blobPath: string): URL {
  const u = new URL(sasUri)
  u.pathname = u.pathname.replace(/\/+$/, '') + '/' + blobPath.split('/').map(encodeURIComponent).join('/')
  return u
}

/**
 * The container SAS URI Azure returned (startPendingUpload's credential.sasUri), checked before use: not a URL, or a
 * URL vitrine will not send files to (plain http off loopback, another protocol), is Azure's failure (exit 3), and the
 * message never shows the URI's query, which is the credential.
 */
export function checkSasUri(raw: string, what: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new RemoteError(`${what}: Azure returned a SAS URI that is not a URL (${raw.length} characters, not shown: it carries a credential)`)
  }
  try {
    checkEndpointUrl(redactUrl(url), what)
  } catch (error) {
    throw new RemoteError(`Azure returned an unusable SAS URI: ${(error as Error).message}`)
  }
  return url
}

/** A URL safe to print: no query string (a SAS token is a credential). */
export function redactUrl(u: URL | string): string {
  const url = new URL(String(u))
  return `${url.origin}${url.pathname}${url.search ? '?<sas redacted>' : ''}`
}

/** At most `n` tasks at a time. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0
  const queue: Array<() => void> = []
  const release = () => {
    active--
    queue.shift()?.()
  }
  return async <T>(task: () => Promise<T>) => {
    if (active >= n) await new Promise<void>((r) => queue.push(r))
    active++
    try {
      return await task()
    } finally {
      release()
    }
  }
}

export interface UploadOptions {
  blockSize?: number
  concurrency?: number
  progress: Progress
  signal?: AbortSignal
  retry?: Partial<RetryOptions>
  log?: (line: string) => void
  /** Longest wait for one attempt of one blob call (default 2 min). */
  requestTimeoutMs?: number
}

function blobError(status: number, text: string, url: URL, what: string): RemoteError {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1]
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1]?.split('\n')[0]
  return new RemoteError(`${what} ${redactUrl(url)}: ${code ? code + ': ' : ''}${message ?? `HTTP ${status}`} (HTTP ${status})`, {
    status,
    code,
    hint: status === 403 ? 'the upload SAS was refused (expired?): apply again to get a fresh one' : undefined,
  })
}

interface BlobResponse {
  status: number
  headers: Record<string, string>
  text: string
}

/**
 * The blob calls' own pipeline: no ARM token ever, but the same proxy settings as the ARM calls (HTTPS_PROXY,
 * HTTP_PROXY, ALL_PROXY, NO_PROXY, through core-rest-pipeline's proxy policy) and a timeout per attempt. The client
 * is core-rest-pipeline's node:http(s) one: measured here, node:http moves block bodies about 2.5x faster than fetch
 * (undici), and the upload is the long part of publishing a model version.
 */
function blobPipeline(requestTimeoutMs: number): (url: URL, body: Buffer, headers: Record<string, string>, signal: AbortSignal) => Promise<BlobResponse> {
  const pipeline = createEmptyPipeline()
  pipeline.addPolicy(proxyPolicy())
  pipeline.addPolicy(requestTimeoutPolicy(requestTimeoutMs))
  const client = createDefaultHttpClient()
  return async (url, body, headers, signal) => {
    const res = await pipeline.sendRequest(
      client,
      createPipelineRequest({
        url: url.toString(),
        method: 'PUT',
        headers: createHttpHeaders(headers),
        body,
        abortSignal: signal,
        allowInsecureConnection: url.protocol === 'http:',
      }),
    )
    return {status: res.status, headers: res.headers.toJSON(), text: res.bodyAsText ?? ''}
  }
}

type BlobSend = ReturnType<typeof blobPipeline>

/** One blob call, retried on 408/429/5xx and network errors (timeouts too) with Retry-After honoured. */
async function blobPut(send: BlobSend, url: URL, body: Buffer, headers: Record<string, string>, what: string, signal: AbortSignal, opts: UploadOptions): Promise<void> {
  const retry = {...DEFAULT_RETRY, ...opts.retry}
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted')
    let res: BlobResponse | undefined
    let error: unknown
    try {
      res = await send(
        url,
        body,
        {
          'x-ms-version': BLOB_API_VERSION,
          'content-length': String(body.length),
          'content-md5': createHash('md5').update(body).digest('base64'),
          ...headers,
        },
        signal,
      )
    } catch (err) {
      if (signal.aborted) throw err
      error = err
    }
    if (res && res.status < 300) return
    const text = res?.text ?? ''
    const retryable = res ? isRetryableStatus(res.status) : isRetryableNetworkError(error)
    if (!retryable || attempt > retry.maxRetries) {
      if (res) throw blobError(res.status, text, url, what)
      throw new RemoteError(`${what} ${redactUrl(url)}: ${redactSecrets((error as Error)?.message ?? String(error))}`)
    }
    const delay = retryDelay(attempt, res ? retryAfterMs((h) => res!.headers[h]) : undefined, retry)
    opts.log?.(`${what}: ${res ? `HTTP ${res.status}` : 'network error'}: retrying in ${(delay / 1000).toFixed(1)}s (retry ${attempt} of ${retry.maxRetries})`)
    await sleep(delay, signal)
  }
}

async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(length)
    let done = 0
    while (done < length) {
      const {bytesRead} = await fh.read(buf, done, length - done, offset + done)
      if (bytesRead === 0) throw new InvalidInputError(`${path}: file shrank while uploading`, {file: path})
      done += bytesRead
    }
    return buf
  } finally {
    await fh.close()
  }
}

/** Block ids must all have the same length within a blob; base64 of a zero-padded index does. */
export function blockId(index: number): string {
  return Buffer.from(`block-${String(index).padStart(6, '0')}`).toString('base64')
}

/**
 * Uploads files to a container SAS URI: files up to `blockSize` with one Put Blob, bigger ones as Put Block
 * (in parallel, at most `concurrency` requests in flight overall) then Put Block List. Progress counts bytes.
 * The first failure aborts every request in flight and starts no other; the call returns only when all have stopped,
 * so nothing of this upload is still talking to storage when the error is reported.
 */
export async function uploadFiles(sasUri: string, root: string, files: ManifestEntry[], opts: UploadOptions): Promise<{bytes: number; requests: number}> {
  checkSasUri(sasUri, 'upload SAS URI')
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE
  const limit = limiter(opts.concurrency ?? DEFAULT_UPLOAD_CONCURRENCY)
  const send = blobPipeline(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
  const total = files.reduce((s, f) => s + f.size, 0)
  const controller = new AbortController()
  const signal = controller.signal
  const onParent = () => controller.abort(opts.signal?.reason)
  if (opts.signal?.aborted) controller.abort(opts.signal.reason)
  opts.signal?.addEventListener('abort', onParent, {once: true})
  let firstError: unknown
  let requests = 0
  /** Runs one blob call in a free slot; after the first failure, queued calls are dropped unsent. */
  const call = (task: () => Promise<void>) =>
    limit(async () => {
      if (signal.aborted) throw signal.reason ?? new Error('aborted')
      try {
        await task()
      } catch (error) {
        if (firstError === undefined && !signal.aborted) {
          firstError = error
          controller.abort(error)
        }
        throw error
      }
    })
  opts.progress.start(`uploading ${files.length} file${files.length === 1 ? '' : 's'}`, total, 'bytes')
  const blob = {'x-ms-blob-type': 'BlockBlob', 'content-type': 'application/octet-stream'}
  const uploadOne = async (f: ManifestEntry) => {
    const full = join(root, f.path)
    const url = blobUrl(sasUri, f.path)
    if (f.size <= blockSize) {
      await call(async () => {
        const data = await readRange(full, 0, f.size)
        requests++
        await blobPut(send, url, data, blob, 'Put Blob', signal, opts)
        opts.progress.advance(data.length)
      })
      return
    }
    const count = Math.ceil(f.size / blockSize)
    const ids = Array.from({length: count}, (_, i) => blockId(i))
    const blocks = await Promise.allSettled(
      ids.map((id, i) =>
        call(async () => {
          const offset = i * blockSize
          const data = await readRange(full, offset, Math.min(blockSize, f.size - offset))
          const u = new URL(url)
          u.searchParams.set('comp', 'block')
          u.searchParams.set('blockid', id)
          requests++
          await blobPut(send, u, data, {'content-type': 'application/octet-stream'}, 'Put Block', signal, opts)
          opts.progress.advance(data.length)
        }),
      ),
    )
    const failed = blocks.find((b) => b.status === 'rejected')
    if (failed) throw failed.reason
    const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`
    const u = new URL(url)
    u.searchParams.set('comp', 'blocklist')
    await call(async () => {
      requests++
      await blobPut(send, u, Buffer.from(xml), {'content-type': 'application/xml', 'x-ms-blob-content-type': 'application/octet-stream'}, 'Put Block List', signal, opts)
    })
  }
  try {
    const settled = await Promise.allSettled(files.map(uploadOne))
    const rejected = settled.find((r) => r.status === 'rejected')
    if (firstError !== undefined) throw firstError
    if (rejected) throw rejected.reason
  } catch (error) {
    opts.progress.stop('failed')
    throw error
  } finally {
    opts.signal?.removeEventListener('abort', onParent)
  }
  opts.progress.stop(`${total} bytes`)
  return {bytes: total, requests}
}
