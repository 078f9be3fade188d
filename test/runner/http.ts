/** Small HTTP clients for the server tests: JSON posts, and raw requests whose body is sent slowly or never ends. */
import {request} from 'node:http'

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** POSTs `body` to `url` (a JSON value, or raw text), resolving with the answer whatever its status. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  return raw(url, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, chunks: [text]})
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return raw(url, {method: 'GET', headers, chunks: []})
}

export interface RawOptions {
  method: string
  headers?: Record<string, string>
  /** Body pieces, written `gapMs` apart. */
  chunks: string[]
  gapMs?: number
  /** Leave the body unfinished (the server must answer on its own). */
  endBody?: boolean
}

/** A request written piece by piece; resolves with the first answer, even if the server then drops the socket. */
export function raw(url: string, options: RawOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {method: options.method, headers: options.headers, agent: false})
    let answered = false
    req.on('response', (res) => {
      answered = true
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      const finish = (): void => resolve({status: res.statusCode ?? 0, headers: res.headers, body})
      res.on('end', finish)
      res.on('error', finish)
      res.on('aborted', finish)
    })
    req.on('error', (error) => {
      if (!answered) reject(error)
    })
    const write = async (): Promise<void> => {
      for (const chunk of options.chunks) {
        if (answered || req.destroyed) return
        req.write(chunk)
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs))
      }
      if (options.endBody !== false && !req.destroyed) req.end()
    }
    void write()
  })
}
