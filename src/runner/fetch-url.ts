/**
 * Fetches an image URL named in a request (serve/score --allow-urls), bounded: http(s) only, a byte limit checked
 * against Content-Length and while streaming, one deadline for the whole fetch, and at most a few redirects, each of
 * which must stay on http(s) (a redirect to file:, ftp: or data: is refused, not followed).
 *
 * Only public addresses are connected to (see address.ts) unless `allowPrivate` (--allow-private-urls): the host is
 * resolved and every address it resolves to checked at connect time, for the URL and for every redirect, so neither a
 * DNS name, a hex or decimal IP nor a redirect reaches loopback, the LAN or the cloud metadata endpoint. Every refused
 * or failed fetch gets the same error text (it must not tell an open port from a closed one, nor a refused address
 * from an unreachable one); only an over-size image says why. URLs in messages are redacted (SAS `sig=`).
 */
import {lookup as dnsLookup, type LookupAddress, type LookupOptions} from 'node:dns'
import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {isIP} from 'node:net'

import {InvalidInputError, RemoteError} from '../core/errors.js'
import {redactSecrets} from '../core/redact.js'
import {isPublicAddress} from './address.js'

export interface UrlLimits {
  /** Largest image accepted, in bytes (default 16 MiB). */
  maxBytes?: number
  /** The whole fetch, redirects included (default 10 s). */
  timeoutMs?: number
  /** Redirects followed (default 3). */
  maxRedirects?: number
  /** Connect to loopback, private, link-local and other non-public addresses too (--allow-private-urls). */
  allowPrivate?: boolean
}

export const DEFAULT_URL_LIMITS = {maxBytes: 16 * 1024 * 1024, timeoutMs: 10_000, maxRedirects: 3, allowPrivate: false} as const

/** The one message of a refused or failed fetch. */
function fetchFailed(field: string, url: string): RemoteError {
  return new RemoteError(`${field}: could not fetch ${redactSecrets(url)} (the address is not allowed, did not answer in time, or did not answer 200 with an image)`)
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/** Which resolved addresses may be connected to (tests pass their own to exercise redirects on 127.0.0.1). */
export type AddressPolicy = (ip: string) => boolean

/** dns.lookup that refuses to hand an address `allowed` refuses to the socket. */
const checkedLookup = (allowed: AddressPolicy) => (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
  dnsLookup(hostname, {...options, all: true}, (err, addresses) => {
    if (err) return callback(err, [])
    const list = addresses as LookupAddress[]
    if (list.length === 0 || !list.every((a) => allowed(a.address))) {
      const refused: NodeJS.ErrnoException = new Error(`${hostname}: not a public address`)
      refused.code = 'EADDRNOTPUBLIC'
      return callback(refused, [])
    }
    if (options.all) return callback(null, list)
    callback(null, list[0].address, list[0].family)
  })
}

/** GETs `url` and returns its body, or throws an error naming `field` and the URL. */
export async function fetchImageUrl(url: string, field: string, limits: UrlLimits = {}, policy: AddressPolicy = isPublicAddress): Promise<Uint8Array> {
  const maxBytes = limits.maxBytes ?? DEFAULT_URL_LIMITS.maxBytes
  const timeoutMs = limits.timeoutMs ?? DEFAULT_URL_LIMITS.timeoutMs
  const maxRedirects = limits.maxRedirects ?? DEFAULT_URL_LIMITS.maxRedirects
  const allowed = (limits.allowPrivate ?? DEFAULT_URL_LIMITS.allowPrivate) ? undefined : policy
  const deadline = Date.now() + timeoutMs
  let current = url
  for (let hop = 0; ; hop++) {
    let parsed: URL
    try {
      parsed = new URL(current)
    } catch {
      throw hop === 0 ? new InvalidInputError(`${field}: ${redactSecrets(current).slice(0, 200)} is not a valid URL`) : fetchFailed(field, url)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      if (hop === 0) throw new InvalidInputError(`${field}: only http(s) URLs are fetched, not ${parsed.protocol}`)
      throw fetchFailed(field, url)
    }
    // An IP literal (the URL parser has normalised hex, octal and decimal forms) never goes through the lookup.
    const host = parsed.hostname.replace(/^\[|\]$/g, '')
    if (allowed && isIP(host) !== 0 && !allowed(host)) throw fetchFailed(field, url)
    const result = await getOnce(parsed, field, url, maxBytes, deadline - Date.now(), allowed)
    if (result.kind === 'body') return result.body
    if (hop >= maxRedirects) throw fetchFailed(field, url)
    current = new URL(result.location, parsed).toString()
  }
}

type Got = {kind: 'body'; body: Uint8Array} | {kind: 'redirect'; location: string}

function getOnce(url: URL, field: string, original: string, maxBytes: number, remainingMs: number, allowed: AddressPolicy | undefined): Promise<Got> {
  return new Promise((resolve, reject) => {
    if (remainingMs <= 0) {
      reject(fetchFailed(field, original))
      return
    }
    const get = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = get(url, {method: 'GET', headers: {accept: 'image/*'}, agent: false, ...(allowed ? {lookup: checkedLookup(allowed)} : {})})
    // The first reason to stop wins: destroying the request also fails the response with a generic "aborted".
    let failure: Error | undefined
    const abort = (error: Error): void => {
      failure ??= error
      req.destroy(error)
    }
    const timer = setTimeout(() => abort(fetchFailed(field, original)), remainingMs)
    const done = (fn: () => void): void => {
      clearTimeout(timer)
      fn()
    }
    req.on('error', () => {
      done(() => reject(failure ?? fetchFailed(field, original)))
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
        done(() => reject(fetchFailed(field, original)))
        return
      }
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > maxBytes) {
        abort(new InvalidInputError(`${field}: ${redactSecrets(original)}: ${declared} bytes is over the limit of ${maxBytes}`))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBytes) {
          abort(new InvalidInputError(`${field}: ${redactSecrets(original)}: more than ${maxBytes} bytes, over the limit`))
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => done(() => resolve({kind: 'body', body: new Uint8Array(Buffer.concat(chunks))})))
      res.on('error', () => done(() => reject(failure ?? fetchFailed(field, original))))
    })
    req.end()
  })
}
