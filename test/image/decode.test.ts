/**
 * decodeImage on PNGs of every colour type and bit depth, written by the independent writer in png-writer.ts, with
 * the RGB PIL's `convert('RGB')` gives worked out from the samples the test put in. The rules (checked against
 * Pillow 9.4 on the same files while writing this) are PIL's:
 * - grey at 1/2/4 bits is scaled to 8 bits (v * 255, v * 85, v * 17) and replicated;
 * - 16-bit grey (mode I;16) is clipped to 255, not scaled; other 16-bit samples keep their high byte;
 * - alpha and tRNS are dropped, never composited;
 * - a palette index past PLTE is black (Pillow >= 10.1, python-pillow/Pillow#7289; Pillow 9.4 gave the grey (i, i, i)).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {deflateSync} from 'node:zlib'
import sharp from 'sharp'
import {describe, expect, it} from 'vitest'

import {InvalidInputError} from '../../src/core/errors.js'
import {decodeImage} from '../../src/image/decode.js'
import {readImageDimensions} from '../../src/image/header.js'
import {exifOrientation, pngChunk, type PngSpec, writePng} from './png-writer.js'

const IMAGES = join(import.meta.dirname, '..', 'fixtures', 'images')
const W = 7
const H = 5
const CHANNELS: Record<number, number> = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}

let seed = 99
function rand(n: number): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
  return Math.floor((seed / 2_147_483_648) * n)
}

function samples(colorType: number, max: number): number[] {
  return Array.from({length: W * H * CHANNELS[colorType]}, () => rand(max))
}

/** The expected RGB bytes: `toRgb(pixelSamples)` per pixel. */
function expectRgb(spec: PngSpec, toRgb: (px: number[]) => number[]): number[] {
  const ch = CHANNELS[spec.colorType]
  const out: number[] = []
  for (let i = 0; i < spec.width * spec.height; i++) out.push(...toRgb(Array.from(spec.samples).slice(i * ch, i * ch + ch)))
  return out
}

async function decodeSpec(spec: PngSpec): Promise<number[]> {
  const img = await decodeImage(writePng(spec), 'test.png')
  expect([img.width, img.height]).toEqual([spec.width, spec.height])
  return [...img.data]
}

const grey = (v: number): number[] => [v, v, v]

describe('PNG colour types and bit depths, as PIL convert("RGB")', () => {
  const cases: Array<[string, PngSpec, (px: number[]) => number[]]> = []
  for (const depth of [1, 2, 4, 8] as const) {
    const scale = 255 / (2 ** depth - 1)
    cases.push([`grey ${depth}-bit: scaled and replicated`, {width: W, height: H, colorType: 0, bitDepth: depth, samples: samples(0, 2 ** depth)}, ([v]) => grey(v * scale)])
  }

  cases.push(
    ['grey 16-bit: clipped to 255, not scaled (PIL I;16 -> RGB)', {width: W, height: H, colorType: 0, bitDepth: 16, samples: samples(0, 600)}, ([v]) => grey(Math.min(v, 255))],
    ['grey 16-bit, full range', {width: W, height: H, colorType: 0, bitDepth: 16, samples: samples(0, 65_536)}, ([v]) => grey(Math.min(v, 255))],
    ['RGB 8-bit', {width: W, height: H, colorType: 2, bitDepth: 8, samples: samples(2, 256)}, (px) => px],
    ['RGB 16-bit: high byte', {width: W, height: H, colorType: 2, bitDepth: 16, samples: samples(2, 65_536)}, (px) => px.map((v) => v >> 8)],
    ['grey+alpha 8-bit: alpha dropped', {width: W, height: H, colorType: 4, bitDepth: 8, samples: samples(4, 256)}, ([v]) => grey(v)],
    ['grey+alpha 16-bit: high byte, alpha dropped', {width: W, height: H, colorType: 4, bitDepth: 16, samples: samples(4, 65_536)}, ([v]) => grey(v >> 8)],
    ['RGBA 8-bit: alpha dropped, not composited', {width: W, height: H, colorType: 6, bitDepth: 8, samples: samples(6, 256)}, (px) => px.slice(0, 3)],
    ['RGBA 16-bit: high bytes, alpha dropped', {width: W, height: H, colorType: 6, bitDepth: 16, samples: samples(6, 65_536)}, (px) => px.slice(0, 3).map((v) => v >> 8)],
    [
      'grey 8-bit with tRNS: the transparent grey keeps its value',
      {width: W, height: H, colorType: 0, bitDepth: 8, samples: samples(0, 3), trns: new Uint8Array([0, 1])},
      ([v]) => grey(v),
    ],
    [
      'RGB 8-bit with tRNS: the transparent colour keeps its value',
      {width: W, height: H, colorType: 2, bitDepth: 8, samples: samples(2, 2), trns: new Uint8Array([0, 1, 0, 0, 0, 1])},
      (px) => px,
    ],
  )

  for (const depth of [1, 2, 4, 8] as const) {
    const palette = Array.from({length: 2 ** depth}, () => [rand(256), rand(256), rand(256)] as [number, number, number])
    cases.push([`palette ${depth}-bit: looked up`, {width: W, height: H, colorType: 3, bitDepth: depth, samples: samples(3, 2 ** depth), palette}, ([i]) => palette[i]])
  }

  const short: Array<[number, number, number]> = [
    [10, 20, 30],
    [40, 50, 60],
    [70, 80, 90],
  ]
  cases.push(
    [
      'palette with tRNS: alpha ignored',
      {width: W, height: H, colorType: 3, bitDepth: 2, samples: samples(3, 3), palette: short, trns: new Uint8Array([0, 100])},
      ([i]) => short[i],
    ],
    [
      'palette index past PLTE: black, as Pillow >= 10.1',
      {width: W, height: H, colorType: 3, bitDepth: 8, samples: samples(3, 40), palette: short},
      ([i]) => (i < short.length ? short[i] : [0, 0, 0]),
    ],
  )

  for (const [name, spec, toRgb] of cases) {
    it(name, async () => {
      expect(await decodeSpec(spec)).toEqual(expectRgb(spec, toRgb))
    })
  }

  for (const [name, spec] of cases.filter((c) => /^(grey 2|grey 16-bit, full|RGB 8|RGBA 16|palette 4|grey\+alpha 8)/.test(c[0]))) {
    it(`${name}, Adam7-interlaced: same pixels`, async () => {
      expect(await decodeSpec({...spec, interlace: true})).toEqual(await decodeSpec(spec))
    })
  }

  it('scanlines with the Up filter: same pixels', async () => {
    const spec: PngSpec = {width: W, height: H, colorType: 2, bitDepth: 8, samples: samples(2, 256)}
    expect(await decodeSpec({...spec, filter: 2})).toEqual(await decodeSpec(spec))
  })

  it('gAMA, cHRM and sRGB chunks are ignored, as PIL ignores them', async () => {
    const be32 = (...values: number[]): Uint8Array => {
      const b = new Uint8Array(values.length * 4)
      values.forEach((v, i) => new DataView(b.buffer).setUint32(i * 4, v))
      return b
    }

    for (const extra of [
      ['gAMA', be32(100_000)],
      ['cHRM', be32(31_270, 32_900, 64_000, 33_000, 30_000, 60_000, 15_000, 6000)],
      ['sRGB', new Uint8Array([0])],
    ] as Array<[string, Uint8Array]>) {
      const spec: PngSpec = {width: W, height: H, colorType: 2, bitDepth: 8, samples: samples(2, 256), extraChunks: [extra]}
      expect(await decodeSpec(spec)).toEqual(Array.from(spec.samples))
    }
  })

  it('an embedded ICC profile (iCCP, Display P3) is ignored, as PIL ignores it', async () => {
    // sharp's bundled P3 profile, taken from a file it tags with it, embedded in a PNG written here.
    const tagged = await sharp(Buffer.alloc(3), {raw: {width: 1, height: 1, channels: 3}}).png().withIccProfile('p3').toBuffer()
    const icc = (await sharp(tagged).metadata()).icc as Buffer
    expect(icc.length).toBeGreaterThan(100)
    const iccp = Buffer.concat([Buffer.from('P3\0\0', 'latin1'), deflateSync(icc)])
    const spec: PngSpec = {width: W, height: H, colorType: 2, bitDepth: 8, samples: samples(2, 256), extraChunks: [['iCCP', iccp]]}
    const png = writePng(spec)
    expect((await sharp(png).metadata()).hasProfile).toBe(true)
    expect(await decodeSpec(spec)).toEqual(Array.from(spec.samples))
  })
})

describe('EXIF orientation, as ImageOps.exif_transpose', () => {
  // A 3x2 image whose pixel (x, y) has R = 10 * y + x, so every transposition is visible.
  const spec: PngSpec = {width: 3, height: 2, colorType: 2, bitDepth: 8, samples: [0, 1, 2, 10, 11, 12].flatMap((v) => [v, 0, 0])}
  // The upright image each orientation gives, as rows of R, worked out from the EXIF definition of 1..8.
  const upright: Record<number, number[][]> = {
    1: [[0, 1, 2], [10, 11, 12]],
    2: [[2, 1, 0], [12, 11, 10]], // mirrored horizontally
    3: [[12, 11, 10], [2, 1, 0]], // rotated 180
    4: [[10, 11, 12], [0, 1, 2]], // mirrored vertically
    5: [[0, 10], [1, 11], [2, 12]], // transposed
    6: [[10, 0], [11, 1], [12, 2]], // rotated 90 clockwise
    7: [[12, 2], [11, 1], [10, 0]], // transversed
    8: [[2, 12], [1, 11], [0, 10]], // rotated 90 counter-clockwise
    9: [[0, 1, 2], [10, 11, 12]], // not an orientation: left as it is
  }

  for (const [o, rows] of Object.entries(upright)) {
    it(`orientation ${o} (PNG eXIf chunk)`, async () => {
      const img = await decodeImage(writePng({...spec, exif: exifOrientation(Number(o))}), 'o.png')
      expect([img.width, img.height]).toEqual([rows[0].length, rows.length])
      const r = [...img.data].filter((_, i) => i % 3 === 0)
      expect(r).toEqual(rows.flat())
    })
  }

  it('orientation from a PNG XMP iTXt chunk when there is no eXIf', async () => {
    const xmp = new TextEncoder().encode('XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>')
    const img = await decodeImage(writePng({...spec, extraChunks: [['iTXt', xmp]]}), 'xmp.png')
    expect([img.width, img.height]).toEqual([2, 3])
    expect([...img.data].filter((_, i) => i % 3 === 0)).toEqual(upright[6].flat())
  })

  it('rocket-exif6.jpg is rotated upright to 427x640', async () => {
    const img = await decodeImage(readFileSync(join(IMAGES, 'rocket-exif6.jpg')), 'rocket-exif6.jpg')
    expect([img.width, img.height]).toEqual([427, 640])
    expect(readImageDimensions(readFileSync(join(IMAGES, 'rocket-exif6.jpg')))).toEqual({format: 'jpeg', width: 640, height: 427})
  })
})

describe('bad input: a clear InvalidInputError naming the source, never a crash', () => {
  const refused = async (bytes: Uint8Array, source: string, pattern: RegExp, maxPixels?: number): Promise<void> => {
    const error = await decodeImage(bytes, source, {maxPixels}).catch((error_: unknown) => error_)
    expect(error).toBeInstanceOf(InvalidInputError)
    expect((error as InvalidInputError).file).toBe(source)
    expect((error as Error).message.startsWith(`${source}: `)).toBe(true)
    expect((error as Error).message).toMatch(pattern)
  }

  it('an empty file', () => refused(new Uint8Array(0), 'empty.png', /empty/))
  it('a text file', () => refused(new TextEncoder().encode('hello, this is not an image\n'), 'notes.jpg', /not a PNG or JPEG image: the file is text/))
  it('a GIF', () => refused(new TextEncoder().encode('GIF89a\u0001\u0000\u0001\u0000'), 'a.gif', /GIF/))
  it('truncated.jpg (PIL: "Truncated File Read")', () => refused(readFileSync(join(IMAGES, 'truncated.jpg')), 'truncated.jpg', /premature end/))

  it('a JPEG cut inside its headers', async () => {
    const jpg = readFileSync(join(IMAGES, 'rocket.jpg'))
    await refused(jpg.subarray(0, 20), 'cut.jpg', /truncated JPEG/)
  })

  it('a PNG cut in the middle of its pixel data', async () => {
    const png = writePng({width: 64, height: 64, colorType: 2, bitDepth: 8, samples: samples(2, 256).concat(Array.from({length: 64 * 64 * 3}, () => rand(256)))})
    await refused(png.subarray(0, png.length - 200), 'cut.png', /cannot decode this PNG: the file is truncated: it ends at byte \d+, inside the "IDAT" chunk that starts at byte 33/)
  })

  it('a PNG with a corrupted chunk CRC', async () => {
    const png = writePng({width: W, height: H, colorType: 2, bitDepth: 8, samples: samples(2, 256)})
    png[32] ^= 0xff // last byte of IHDR's CRC
    await refused(png, 'crc.png', /bad checksum \(CRC\) of the "IHDR" chunk at byte 8/)
  })

  it('a PNG with an impossible colour type / depth', async () => {
    const png = writePng({width: W, height: H, colorType: 2, bitDepth: 8, samples: samples(2, 256)})
    png[24] = 4 // RGB at 4 bits does not exist
    await refused(png, 'depth.png', /bit depth 4 \(byte 24\)/)
  })

  it('a 20000x20000 PNG header (decompression bomb) is refused before decoding', async () => {
    const ihdr = new Uint8Array(13)
    new DataView(ihdr.buffer).setUint32(0, 20_000)
    new DataView(ihdr.buffer).setUint32(4, 20_000)
    ihdr.set([8, 2, 0, 0, 0], 8)
    // Only the header: a decoder that started would fail on the missing pixel data instead.
    const bomb = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IEND', new Uint8Array(0))])
    expect(readImageDimensions(bomb)).toEqual({format: 'png', width: 20_000, height: 20_000})
    await refused(bomb, 'bomb.png', /20000x20000 = 400,000,000 pixels is over the limit of 89,478,485/)
  })

  it('the pixel limit is configurable', async () => {
    const png = writePng({width: W, height: H, colorType: 2, bitDepth: 8, samples: samples(2, 256)})
    await refused(png, 'small.png', /7x5 = 35 pixels is over the limit of 34/, 34)
    await expect(decodeImage(png, 'small.png', {maxPixels: 35})).resolves.toMatchObject({width: W, height: H})
  })

  it('a 1x1 image is valid and decodes', async () => {
    const img = await decodeImage(writePng({width: 1, height: 1, colorType: 2, bitDepth: 8, samples: [1, 2, 3]}), 'dot.png')
    expect(img).toEqual({width: 1, height: 1, data: new Uint8Array([1, 2, 3])})
  })
})

describe('JPEG, against PIL (fixtures/jpeg: JPEGs saved by PIL and the RGB PIL decodes from each)', () => {
  const dir = join(import.meta.dirname, 'fixtures', 'jpeg')
  const {cases} = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as {cases: Array<{file: string; size: [number, number]}>}

  it('has the baseline, progressive, EXIF, grey and CMYK cases', () => {
    expect(cases.map((c) => c.file)).toEqual(['baseline-420.jpg', 'baseline-444.jpg', 'progressive-420.jpg', 'progressive-exif6.jpg', 'grey.jpg', 'cmyk.jpg'])
  })

  for (const {file, size} of cases) {
    it(`${file}: the same RGB bytes as PIL`, async () => {
      const img = await decodeImage(readFileSync(join(dir, file)), file)
      expect([img.width, img.height]).toEqual(size)
      const want = new Uint8Array(readFileSync(join(dir, `${file}.rgb`)))
      let mismatches = 0
      for (let i = 0; i < want.length; i++) if (img.data[i] !== want[i]) mismatches++
      expect(img.data.length).toBe(want.length)
      expect(mismatches).toBe(0)
    })
  }

  it('a 1x1 JPEG decodes', async () => {
    const jpg = await sharp(Buffer.from([200, 100, 50]), {raw: {width: 1, height: 1, channels: 3}}).jpeg({quality: 100}).toBuffer()
    const img = await decodeImage(jpg, 'dot.jpg')
    expect([img.width, img.height, img.data.length]).toEqual([1, 1, 3])
  })

  it('a 12-bit JPEG is refused, as PIL refuses it', async () => {
    const jpg = new Uint8Array(readFileSync(join(dir, 'baseline-444.jpg')))
    const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0)
    jpg[sof + 4] = 12
    await expect(decodeImage(jpg, 'deep.jpg')).rejects.toThrow(/^deep\.jpg: 12-bit JPEG is not supported/)
  })
})

describe('where the orientation is read from (Pillow getexif)', () => {
  const dir = join(import.meta.dirname, 'fixtures', 'jpeg')
  const spec: PngSpec = {width: 3, height: 2, colorType: 2, bitDepth: 8, samples: [0, 1, 2, 10, 11, 12].flatMap((v) => [v, 0, 0])}
  const segment = (marker: number, body: Uint8Array): Uint8Array => Buffer.concat([Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body])
  const withSegments = (jpg: Uint8Array, ...segments: Uint8Array[]): Uint8Array => Buffer.concat([jpg.subarray(0, 2), ...segments, jpg.subarray(2)])
  const xmpPacket = (o: number): Uint8Array => new TextEncoder().encode(`http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><rdf:Description tiff:Orientation="${o}"/></x:xmpmeta>`)
  const exifWithout = (): Uint8Array => {
    // IFD0 with one unrelated tag (0x010f Make) and no Orientation.
    const t = exifOrientation(1)
    new DataView(t.buffer).setUint16(10, 0x01_0f, true)
    return t
  }

  it('a JPEG whose only orientation is in its XMP packet is rotated (Pillow >= 11 reads info["xmp"])', async () => {
    const jpg = new Uint8Array(readFileSync(join(dir, 'baseline-444.jpg')))
    const img = await decodeImage(withSegments(jpg, segment(0xe1, xmpPacket(6))), 'xmp.jpg')
    expect([img.width, img.height]).toEqual([48, 64])
  })

  it('EXIF Orientation wins over XMP; EXIF without the tag falls back to XMP', async () => {
    const jpg = new Uint8Array(readFileSync(join(dir, 'baseline-444.jpg')))
    const exif = (t: Uint8Array): Uint8Array => segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), t]))
    const both = await decodeImage(withSegments(jpg, exif(exifOrientation(1)), segment(0xe1, xmpPacket(6))), 'both.jpg')
    expect([both.width, both.height]).toEqual([64, 48])
    const fallback = await decodeImage(withSegments(jpg, exif(exifWithout()), segment(0xe1, xmpPacket(8))), 'fallback.jpg')
    expect([fallback.width, fallback.height]).toEqual([48, 64])
  })

  it('a PNG "Raw profile type exif" zTXt chunk (ImageMagick) is read when there is no eXIf', async () => {
    const blob = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exifOrientation(8)])
    const text = `\nexif\n${String(blob.length).padStart(8)}\n${blob.toString('hex').replace(/(.{72})/g, '$1\n')}\n`
    const ztxt = Buffer.concat([Buffer.from('Raw profile type exif\0\0', 'latin1'), deflateSync(Buffer.from(text, 'latin1'))])
    const img = await decodeImage(writePng({...spec, extraChunks: [['zTXt', ztxt]]}), 'raw-profile.png')
    expect([img.width, img.height]).toEqual([2, 3])
    expect([...img.data].filter((_, i) => i % 3 === 0)).toEqual([2, 12, 1, 11, 0, 10])
  })
})

describe('JPEG quirks PIL tolerates', () => {
  it('junk bytes between segments are skipped (PIL and libjpeg skip them)', async () => {
    const dir = join(import.meta.dirname, 'fixtures', 'jpeg')
    const jpg = new Uint8Array(readFileSync(join(dir, 'baseline-444.jpg')))
    // After the APP0 segment that follows SOI: 3 junk bytes.
    const app0End = 4 + ((jpg[4] << 8) | jpg[5])
    const junk = Buffer.concat([jpg.subarray(0, app0End), Buffer.from([0x12, 0x34, 0x56]), jpg.subarray(app0End)])
    const img = await decodeImage(junk, 'junk.jpg')
    const clean = await decodeImage(jpg, 'clean.jpg')
    expect(img.data).toEqual(clean.data)
  })
})
