/**
 * `npm run bench -- image`: how the image decoders compare on fidelity to PIL and on speed, and what each stage of
 * preprocessImage costs.
 *
 * Fidelity: each decoder's RGB goes through the same (PIL-exact) resize and float32 arithmetic and is compared with
 * PIL's pixel_values in test/fixtures/vit-tiny/images (224x224), as the largest difference in 8-bit levels and the
 * count of differing values. Candidates: sharp with ICC profiles ignored (what vitrine uses), sharp as it comes
 * (applies embedded ICC profiles), jpeg-js and pngjs (pure JavaScript).
 *
 * Speed: median and fastest wall time per call on the sample images, the decoders against each other, and vitrine's
 * fixed-point resize against sharp's own bilinear resize of the same decoded image (a fast native peer that is not
 * PIL-exact), in the same run.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import jpeg from 'jpeg-js'
import {PNG} from 'pngjs'
import sharp from 'sharp'

import {decodeImage, parsePreprocessorConfig, preprocessImage, resizeBilinear, toPixelValues} from '../src/image/index.js'
import type {RgbImage} from '../src/image/types.js'

const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures')
const IMAGES = ['chelsea.png', 'coffee.png', 'camera.png', 'horse.png', 'green_palette.png', 'rocket.jpg', 'rocket-exif6.jpg']

type Decoder = (bytes: Uint8Array, name: string) => Promise<RgbImage>

/** Interleaved RGB from a decoder's raw output of `channels` per pixel (1/2: grey replicated; 3/4: first three). */
function toRgb(data: Uint8Array, width: number, height: number, channels: number): RgbImage {
  const out = new Uint8Array(width * height * 3)
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + (channels >= 3 ? c : 0)]
  }

  return {width, height, data: out}
}

/** jpeg-js and pngjs do not apply EXIF orientation: rotate rocket-exif6 the way exif_transpose does (6 = ROTATE_270). */
async function upright(img: RgbImage, name: string): Promise<RgbImage> {
  if (!name.includes('exif6')) return img
  const {applyOrientation} = await import('../src/image/orientation.js')
  return applyOrientation(img, 6)
}

const sharpDecoder =
  (ignoreIcc: boolean): Decoder =>
  async (bytes, name) => {
    const {data, info} = await sharp(bytes, {ignoreIcc}).raw().toBuffer({resolveWithObject: true})
    return upright(toRgb(data, info.width, info.height, info.channels), name)
  }

const DECODERS: Record<string, Decoder> = {
  'vitrine (sharp, ignoreIcc, PIL conversions)': (bytes, name) => decodeImage(bytes, name),
  'sharp with ICC applied': sharpDecoder(false),
  'jpeg-js / pngjs': async (bytes, name) => {
    if (name.endsWith('.png')) {
      const png = PNG.sync.read(Buffer.from(bytes))
      return toRgb(png.data, png.width, png.height, 4)
    }

    const j = jpeg.decode(bytes, {useTArray: true, formatAsRGBA: false})
    return upright(toRgb(j.data, j.width, j.height, 3), name)
  },
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Median and fastest wall time of `runs` calls, in ms (the fastest is the least disturbed on a shared machine). */
async function timeMs(fn: () => unknown, runs: number): Promise<{median: number; min: number}> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }

  const round = (x: number): number => Math.round(x * 100) / 100
  return {median: round(median(times)), min: round(Math.min(...times))}
}

export default async function bench(): Promise<object> {
  const pre = parsePreprocessorConfig(JSON.parse(readFileSync(join(FIXTURES, 'vit-tiny', 'preprocessor_config.json'), 'utf8')), 'vit-tiny')
  const level = (x: number): number => (x + 1) * 127.5
  const files = Object.fromEntries(IMAGES.map((name) => [name, new Uint8Array(readFileSync(join(FIXTURES, 'images', name)))]))

  // Fidelity against PIL's pixel_values.
  const fidelity: Record<string, Record<string, string>> = {}
  for (const [decoderName, decode] of Object.entries(DECODERS)) {
    fidelity[decoderName] = {}
    for (const name of IMAGES) {
      const b = readFileSync(join(FIXTURES, 'vit-tiny', 'images', name.replace(/\.\w+$/, '.f32')))
      const want = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
      try {
        const got = toPixelValues(resizeBilinear(await decode(files[name], name), pre.width, pre.height), pre)
        let max = 0
        let differing = 0
        for (let i = 0; i < want.length; i++) {
          if (got[i] !== want[i]) differing++
          max = Math.max(max, Math.abs(level(got[i]) - level(want[i])))
        }

        fidelity[decoderName][name] = differing === 0 ? 'identical' : `max ${Math.round(max)} levels, ${differing} of ${want.length} values differ`
      } catch (error) {
        fidelity[decoderName][name] = `error: ${(error as Error).message}`
      }
    }
  }

  // Decode speed, ms per image (median).
  const decodeMs: Record<string, Record<string, {median: number; min: number}>> = {}
  for (const name of ['chelsea.png', 'coffee.png', 'rocket.jpg']) {
    decodeMs[name] = {}
    for (const [decoderName, decode] of Object.entries(DECODERS)) {
      if (decoderName === 'sharp with ICC applied') continue
      decodeMs[name][decoderName] = await timeMs(() => decode(files[name], name), 15)
    }
  }

  // Resize speed: vitrine's PIL-exact fixed point against sharp's native bilinear (not PIL-exact) on rocket.jpg.
  const rocket = await decodeImage(files['rocket.jpg'], 'rocket.jpg')
  const resizeOurs = await timeMs(() => resizeBilinear(rocket, 224, 224), 30)
  const resizeSharp = await timeMs(
    () =>
      sharp(rocket.data, {raw: {width: rocket.width, height: rocket.height, channels: 3}})
        .resize(224, 224, {fit: 'fill', kernel: 'linear'})
        .raw()
        .toBuffer(),
    30,
  )
  const resized = resizeBilinear(rocket, 224, 224)
  const pixelsMs = await timeMs(() => toPixelValues(resized, pre), 30)
  const endToEnd: Record<string, {median: number; min: number}> = {}
  for (const name of ['rocket.jpg', 'chelsea.png']) endToEnd[name] = await timeMs(() => preprocessImage(files[name], pre, name), 15)

  // A 12-megapixel phone-size JPEG (4000x3000, made here from rocket.jpg): decode, resize, whole pipeline.
  const big = await sharp(files['rocket.jpg']).resize(4000, 3000, {fit: 'fill'}).jpeg({quality: 90}).toBuffer()
  const bigDecodeMs = await timeMs(() => decodeImage(big, 'big.jpg'), 5)
  const bigRgb = await decodeImage(big, 'big.jpg')
  const bigResizeMs = await timeMs(() => resizeBilinear(bigRgb, 224, 224), 5)
  const bigSharpResizeMs = await timeMs(
    () => sharp(bigRgb.data, {raw: {width: 4000, height: 3000, channels: 3}}).resize(224, 224, {fit: 'fill', kernel: 'linear'}).raw().toBuffer(),
    5,
  )
  const bigTotalMs = await timeMs(() => preprocessImage(big, pre, 'big.jpg'), 5)

  return {
    fidelityVsPil: fidelity,
    decodeMs,
    resize640x427to224: {
      vitrineMs: resizeOurs,
      sharpLinearMs: resizeSharp,
      ratioVitrineOverSharp: {
        median: Math.round((resizeOurs.median / resizeSharp.median) * 100) / 100,
        min: Math.round((resizeOurs.min / resizeSharp.min) * 100) / 100,
      },
    },
    toPixelValues224Ms: pixelsMs,
    jpeg4000x3000: {decodeMs: bigDecodeMs, resizeMs: bigResizeMs, sharpLinearResizeMs: bigSharpResizeMs, preprocessImageMs: bigTotalMs},
    preprocessImageMs: endToEnd,
  }
}
