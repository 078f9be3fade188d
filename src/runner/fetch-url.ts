/**
 * Fetches an image URL named in a request (serve/score --allow-urls), bounded: http(s) only, a byte limit checked
 * against Content-Length and while streaming, one deadline for the whole fetch, and at most a few redirects, each of
 * which must stay on http(s) (a redirect to file:, ftp: or data: is refused, not followed).
 */
import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'

import {InvalidInputError, RemoteError} from '../core/errors.js'

export interface UrlLimits {
  /** Largest image accepted, in bytes (default 16 MiB). */
  maxBytes?: number
  /** The whole fetch, redirects included (default 10 s). */
  timeoutMs?: number
  /** Redirects followed (default 3). */
  maxRedirects?: number
}

export const DEFAULT_URL_LIMITS = {maxBytes: 16 * 1024 * 1024, timeoutMs: 10_000, maxRedirects: 3} as const

/** GETs `url` and returns its body, or throws an error naming `field` and the URL. */
export async function fetchImageUrl(url: string, field: string, limits: UrlLimits = {}): Promise<Uint8Array> {
  const maxBytes = limits.maxBytes ?? DEFAULT_URL_LIMITS.maxBytes
  const timeoutMs = limits.timeoutMs ?? DEFAULT_URL_LIMITS.timeoutMs
  const maxRedirects = limits.maxRedirects ?? DEFAULT_URL_LIMITS.maxRedirects
  const deadline = Date.now() + timeoutMs
  let current = url
  for (let hop = 0; ; hop++) {
    let parsed: URL
    try {
      parsed = new URL(current)
    } catch {
      throw new InvalidInputError(`${field}: ${JSON.stringify(current)} is not a valid URL`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      const how = hop === 0 ? '' : ` (redirected from ${url})`
      throw new InvalidInputError(`${field}: only http(s) URLs are fetched, not ${parsed.protocol} ${current}${how}`)
    }
    const result = await getOnce(parsed, field, maxBytes, deadline - Date.now(), timeoutMs)
    if (result.kind === 'body') return result.body
    if (hop >= maxRedirects) throw new RemoteError(`${field}: ${url}: more than ${maxRedirects} redirects`)
    current = new URL(result.location, parsed).toString()
  }
}

type Got = {kind: 'body'; body: Uint8Array} | {kind: 'redirect'; location: string}

function getOnce(url: URL, field: string, maxBytes: number, remainingMs: number, timeoutMs: number): Promise<Got> {
  return new Promise((resolve, reject) => {
    if (remainingMs <= 0) {
      reject(new RemoteError(`${field}: ${url.href}: no answer within ${timeoutMs} ms`))
      return
    }
    const get = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = get(url, {method: 'GET', headers: {accept: 'image/*'}})
    // The first reason to stop wins: destroying the request also fails the response with a generic "aborted".
    let failure: Error | undefined
    const abort = (error: Error): void => {
      failure ??= error
      req.destroy(error)
    }
    const timer = setTimeout(() => abort(new RemoteError(`${field}: ${url.href}: no answer within ${timeoutMs} ms`)), remainingMs)
    const done = (fn: () => void): void => {
      clearTimeout(timer)
      fn()
    }
    req.on('error', (error) => {
      done(() => reject(failure ?? new RemoteError(`${field}: ${url.href}: ${error.message}`)))
    })
    req.on('response', (res) => {
      const status = res.statusCode ?? 0
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume()
        done(() => resolve({kind: 'redirect', location: res.headers.location as string}))
        return
      }
      if (status !== 200) {
        res.resume()
        done(() => reject(new RemoteError(`${field}: ${url.href}: HTTP ${status}`, {status})))
        return
      }
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > maxBytes) {
        abort(new InvalidInputError(`${field}: ${url.href}: ${declared} bytes is over the limit of ${maxBytes}`))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBytes) {
          abort(new InvalidInputError(`${field}: ${url.href}: more than ${maxBytes} bytes, over the limit`))
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => done(() => resolve({kind: 'body', body: new Uint8Array(Buffer.concat(chunks))})))
      res.on('error', (error) => done(() => reject(failure ?? new RemoteError(`${field}: ${url.href}: ${error.message}`))))
    })
    req.end()
  })
}
