import {describe, expect, it} from 'vitest'

import {buildScoreRequest, decodeBase64, parseScoreRequest, parseScoreRequestText} from '../../src/runner/request.js'

const PNG_HEAD = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const b64 = Buffer.from(PNG_HEAD).toString('base64')

describe('parseScoreRequest', () => {
  it('reads the current form: a list of base64 strings', () => {
    const images = parseScoreRequest({input_data: [b64, b64]})
    expect(images).toHaveLength(2)
    expect(images[1]).toMatchObject({index: 1, field: 'input_data[1]', kind: 'bytes'})
    if (images[0].kind === 'bytes') expect([...images[0].bytes]).toEqual([...PNG_HEAD])
  })

  it('reads the pandas split form, with rows as strings or one-value lists', () => {
    const images = parseScoreRequest({input_data: {columns: ['image'], index: [0, 1], data: [b64, [b64]]}})
    expect(images.map((i) => i.field)).toEqual(['input_data.data[0]', 'input_data.data[1]'])
    expect(images.every((i) => i.kind === 'bytes' && i.bytes.length === 8)).toBe(true)
  })

  it('names the field of each mistake', () => {
    const msg = (body: unknown): string => {
      try {
        parseScoreRequest(body, {source: 'req.json'})
      } catch (error) {
        return (error as Error).message
      }
      throw new Error('no error')
    }
    expect(msg([b64])).toMatch(/^req\.json: \(top level\): expected an object/)
    expect(msg({data: [b64]})).toMatch(/input_data: missing.*found "data"/)
    expect(msg({input_data: []})).toMatch(/input_data: no images/)
    expect(msg({input_data: [b64, 'not base64!!']})).toMatch(/input_data\[1\]: not valid base64/)
    expect(msg({input_data: [b64, 42]})).toMatch(/input_data\[1\]: expected a base64 string, got a number/)
    expect(msg({input_data: {columns: ['image', 'x'], data: [b64]}})).toMatch(/input_data\.columns: expected exactly one column/)
    expect(msg({input_data: {columns: ['image'], index: [0], data: [b64, b64]}})).toMatch(/input_data\.index: expected a list of 2/)
    expect(msg({input_data: {columns: ['image'], data: [[b64, b64]]}})).toMatch(/input_data\.data\[0\]: a row must hold one value/)
    expect(msg({input_data: ['https://example.com/cat.png']})).toMatch(/input_data\[0\]: is a URL; URLs are fetched only with --allow-urls/)
    expect(() => parseScoreRequestText('{"input_data": [', {source: 'req.json'})).toThrow(/req\.json: not valid JSON/)
  })

  it('accepts http(s) URLs only when allowed, and never other schemes', () => {
    const images = parseScoreRequest({input_data: ['http://127.0.0.1:1/a.png', b64]}, {allowUrls: true})
    expect(images[0]).toEqual({index: 0, field: 'input_data[0]', kind: 'url', url: 'http://127.0.0.1:1/a.png'})
    expect(() => parseScoreRequest({input_data: ['file:///etc/passwd']}, {allowUrls: true})).toThrow(/only http\(s\) URLs/)
    expect(() => parseScoreRequest({input_data: ['ftp://host/a.png']}, {allowUrls: true})).toThrow(/only http\(s\) URLs/)
  })
})

describe('decodeBase64', () => {
  it('takes standard, URL-safe, wrapped and data: URI base64; refuses anything else', () => {
    expect(decodeBase64(b64)).toEqual(PNG_HEAD)
    expect(decodeBase64(`data:image/png;base64,${b64}`)).toEqual(PNG_HEAD)
    expect(decodeBase64(`${b64.slice(0, 4)}\n${b64.slice(4)}`)).toEqual(PNG_HEAD)
    const bytes = new Uint8Array([0xfb, 0xff, 0xfe])
    expect(decodeBase64(Buffer.from(bytes).toString('base64url'))).toEqual(bytes)
    expect(decodeBase64('abc$')).toBeNull()
    expect(decodeBase64('a')).toBeNull()
  })

  it('round-trips buildScoreRequest', () => {
    const body = buildScoreRequest([PNG_HEAD])
    const [img] = parseScoreRequest(JSON.parse(JSON.stringify(body)))
    expect(img.kind === 'bytes' && [...img.bytes]).toEqual([...PNG_HEAD])
  })
})
