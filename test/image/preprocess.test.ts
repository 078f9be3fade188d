/**
 * parsePreprocessorConfig (transformers' defaults and field checks), toPixelValues' arithmetic, and the whole
 * preprocessImage on the vit-digits example: its 20 greyscale digits against PIL's resize of them
 * (fixtures/digits-32.bin, written by fixtures/make-pil-cases.py with Pillow).
 */
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {InvalidInputError} from '../../src/core/errors.js'
import {
  channelLut,
  parsePreprocessorConfig,
  preprocessImage,
  readImageHeader,
  toPixelValues,
  VIT_DEFAULTS,
  type PreprocessorConfig,
} from '../../src/image/index.js'

const ROOT = join(import.meta.dirname, '..', '..')

describe('parsePreprocessorConfig', () => {
  it('reads the vit-tiny fixture config', () => {
    const json = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/vit-tiny/preprocessor_config.json'), 'utf8'))
    expect(parsePreprocessorConfig(json, 'p.json')).toEqual({
      kind: 'vit',
      doResize: true,
      resize: {height: 224, width: 224},
      doCenterCrop: false,
      cropHeight: 224,
      cropWidth: 224,
      height: 224,
      width: 224,
      resample: 2,
      doRescale: true,
      rescaleFactor: 0.003_921_568_627_450_98,
      doNormalize: true,
      imageMean: [0.5, 0.5, 0.5],
      imageStd: [0.5, 0.5, 0.5],
    })
  })

  it("fills missing fields with ViTImageProcessor's defaults", () => {
    expect(parsePreprocessorConfig({}, 'p.json')).toEqual(VIT_DEFAULTS)
    expect(VIT_DEFAULTS.rescaleFactor).toBe(1 / 255)
  })

  it('accepts ViTImageProcessorFast (run with PIL arithmetic) and do_center_crop false', () => {
    expect(parsePreprocessorConfig({image_processor_type: 'ViTImageProcessorFast', do_center_crop: false}, 'p.json')).toEqual(VIT_DEFAULTS)
  })

  it('reads the old feature-extractor form ("size": 224, one number for mean/std)', () => {
    const pre = parsePreprocessorConfig({feature_extractor_type: 'ViTFeatureExtractor', size: 96, image_mean: 0.25, image_std: 2}, 'p.json')
    expect(pre).toMatchObject({height: 96, width: 96, resize: {height: 96, width: 96}, imageMean: [0.25, 0.25, 0.25], imageStd: [2, 2, 2]})
  })

  it("reads BEiT's legacy feature-extractor form: int size, crop switched off, BILINEAR", () => {
    const json = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/beit-tiny/preprocessor_config.json'), 'utf8'))
    expect(parsePreprocessorConfig(json, 'p.json')).toMatchObject({kind: 'beit', resize: {height: 224, width: 224}, doCenterCrop: false, resample: 2, height: 224, width: 224})
  })

  it("takes BeitImageProcessor's defaults: 256x256 BICUBIC then a 224 center crop", () => {
    expect(parsePreprocessorConfig({image_processor_type: 'BeitImageProcessor'}, 'p.json')).toMatchObject({
      kind: 'beit', resize: {height: 256, width: 256}, resample: 3, doCenterCrop: true, cropHeight: 224, cropWidth: 224, height: 224, width: 224,
    })
  })

  it("reads DINOv2's BitImageProcessor: shortest edge, BICUBIC, center crop; an int size is the shortest edge", () => {
    const json = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/dinov2-tiny/preprocessor_config.json'), 'utf8'))
    expect(parsePreprocessorConfig(json, 'p.json')).toMatchObject({kind: 'bit', resize: {shortestEdge: 64}, resample: 3, doCenterCrop: true, height: 56, width: 56})
    expect(parsePreprocessorConfig({image_processor_type: 'BitImageProcessor', size: 100, crop_size: 90}, 'p.json')).toMatchObject({
      resize: {shortestEdge: 100}, height: 90, width: 90, imageMean: [0.48145466, 0.4578275, 0.40821073],
    })
  })

  it('takes the fallback processor when the file names none', () => {
    expect(parsePreprocessorConfig({}, 'p.json', 'bit')).toMatchObject({kind: 'bit', resize: {shortestEdge: 224}, height: 224})
  })

  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', [1, 2], /must be a JSON object/],
    ['resample LANCZOS', {resample: 1}, /p\.json: resample is 1 \(LANCZOS\): only 2 \(BILINEAR\) and 3 \(BICUBIC\) are supported/],
    ['resample as text', {resample: 'bilinear'}, /resample must be a PIL filter id/],
    ['size shortest_edge', {size: {shortest_edge: 224}}, /size is \{"shortest_edge"/],
    ['size.height zero', {size: {height: 0, width: 224}}, /size\.height must be an integer/],
    ['size.width missing', {size: {height: 224}}, /size\.width must be an integer/],
    ['do_resize a string', {do_resize: 'yes'}, /do_resize must be true or false/],
    ['image_mean of 2', {image_mean: [0.5, 0.5]}, /image_mean must be a number or a list of 3 numbers/],
    ['image_std zero', {image_std: [0.5, 0, 0.5]}, /image_std\[1\] must be greater than 0/],
    ['rescale_factor text', {rescale_factor: '1/255'}, /rescale_factor must be a finite number/],
    ['another processor', {image_processor_type: 'CLIPImageProcessor'}, /image_processor_type is "CLIPImageProcessor"/],
    ['a center crop for ViT', {do_center_crop: true, crop_size: {height: 224, width: 224}}, /p\.json: do_center_crop is true/],
    ['a shortest edge without a crop', {image_processor_type: 'BitImageProcessor', do_center_crop: false}, /p\.json: size is \{"shortest_edge": 224\} without do_center_crop/],
    ['a bad crop size', {image_processor_type: 'BitImageProcessor', crop_size: {height: 0, width: 2}}, /crop_size\.height must be an integer/],
    ['padding', {do_pad: true}, /do_pad is true/],
  ]
  for (const [name, json, pattern] of bad) {
    it(`refuses ${name}, naming the file and field`, () => {
      expect(() => parsePreprocessorConfig(json, 'p.json')).toThrow(InvalidInputError)
      expect(() => parsePreprocessorConfig(json, 'p.json')).toThrow(pattern)
    })
  }
})

describe('toPixelValues', () => {
  const pre: PreprocessorConfig = {...VIT_DEFAULTS, resize: {height: 1, width: 2}, height: 1, width: 2}
  const f32 = Math.fround

  it('is CHW: all of R, then G, then B', () => {
    const out = toPixelValues({width: 2, height: 1, data: new Uint8Array([0, 51, 102, 153, 204, 255])}, pre)
    // (v / 255 - 0.5) / 0.5 for R = 0, 153; G = 51, 204; B = 102, 255
    expect([...out].map((x) => Math.round(x * 1000) / 1000)).toEqual([-1, 0.2, -0.6, 0.6, -0.2, 1])
  })

  it('rescales as image_transforms.rescale (float64 product, then float32) and normalises in float32', () => {
    const lut = channelLut(pre, 0)
    for (let v = 0; v < 256; v++) expect(lut[v]).toBe(f32(f32(f32(v * (1 / 255)) - 0.5) / 0.5))
    // A float32 product would differ in the last bit for some levels (48 is the first): the fixtures follow float64.
    expect(f32(f32(f32(48 * f32(1 / 255)) - 0.5) / 0.5)).not.toBe(lut[48])
  })

  it('honours do_rescale, do_normalize, image_mean and image_std per channel', () => {
    const img = {width: 1, height: 1, data: new Uint8Array([10, 20, 30])}
    expect([...toPixelValues(img, {...pre, doRescale: false, doNormalize: false})]).toEqual([10, 20, 30])
    expect([...toPixelValues(img, {...pre, doRescale: false, doNormalize: true, imageMean: [10, 0, 30], imageStd: [1, 4, 2]})]).toEqual([0, 5, 0])
    const mean: [number, number, number] = [0.485, 0.456, 0.406]
    const std: [number, number, number] = [0.229, 0.224, 0.225]
    const out = toPixelValues(img, {...pre, imageMean: mean, imageStd: std, rescaleFactor: 1 / 255})
    for (let c = 0; c < 3; c++) {
      const x = f32(img.data[c] * (1 / 255))
      expect(out[c]).toBe(f32(f32(x - f32(mean[c])) / f32(std[c])))
    }
  })

  it('writes into a batch buffer at an offset', () => {
    const batch = new Float32Array(2 * 6).fill(9)
    toPixelValues({width: 2, height: 1, data: new Uint8Array(6)}, pre, batch, 6)
    expect([...batch.subarray(0, 6)]).toEqual([9, 9, 9, 9, 9, 9])
    expect([...batch.subarray(6)]).toEqual([-1, -1, -1, -1, -1, -1])
    expect(() => toPixelValues({width: 2, height: 1, data: new Uint8Array(6)}, pre, batch, 7)).toThrow(RangeError)
  })
})

describe('the vit-digits example: 20 greyscale 64x64 digits -> [3, 32, 32]', () => {
  const dir = join(ROOT, 'examples/images/digits')
  const pre = parsePreprocessorConfig(JSON.parse(readFileSync(join(ROOT, 'examples/models/vit-digits/preprocessor_config.json'), 'utf8')), 'preprocessor_config.json')
  const meta = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/digits-32.json'), 'utf8')) as {files: string[]}
  const pil = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures/digits-32.bin')))
  const plane = 32 * 32

  it('has the 20 digits PIL was run on', () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.png')).sort()).toEqual(meta.files)
    expect(meta.files.length).toBe(20)
    expect(pil.length).toBe(20 * plane * 3)
  })

  meta.files.forEach((file, k) => {
    it(file, async () => {
      const bytes = readFileSync(join(dir, file))
      expect(readImageHeader(bytes, file)).toMatchObject({width: 64, height: 64, pngColorType: 0, bitDepth: 8})
      const px = await preprocessImage(bytes, pre, file)
      expect(px.length).toBe(3 * plane)
      // Grey replicated: the three channel planes are identical.
      expect(px.subarray(plane, 2 * plane)).toEqual(px.subarray(0, plane))
      expect(px.subarray(2 * plane)).toEqual(px.subarray(0, plane))
      // Every value is PIL's resized level v mapped as float32 (v * 1/255 - 0.5) / 0.5.
      const lut = channelLut(pre, 0)
      const want = pil.subarray(k * plane * 3, (k + 1) * plane * 3)
      let mismatches = 0
      for (let i = 0; i < plane; i++) if (px[i] !== lut[want[i * 3]]) mismatches++
      expect(mismatches).toBe(0)
    })
  })
})

describe('preprocessImage without resizing', () => {
  it('keeps the image size when do_resize is false', async () => {
    const {writePng} = await import('./png-writer.js')
    const png = writePng({width: 3, height: 2, colorType: 0, bitDepth: 8, samples: [0, 51, 102, 153, 204, 255]})
    const px = await preprocessImage(png, {...VIT_DEFAULTS, doResize: false}, 'g.png')
    expect(px.length).toBe(3 * 6)
    expect([...px.subarray(0, 6)].map((x) => Math.round(x * 10) / 10)).toEqual([-1, -0.6, -0.2, 0.2, 0.6, 1])
  })
})

describe('preprocessImageFile', () => {
  it('reads the file and names it in errors', async () => {
    const {preprocessImageFile} = await import('../../src/image/index.js')
    const {UsageError} = await import('../../src/core/errors.js')
    const pre = {...VIT_DEFAULTS, resize: {height: 8, width: 8}, height: 8, width: 8}
    const px = await preprocessImageFile(join(ROOT, 'test/fixtures/images/block.png'), pre)
    expect(px.length).toBe(3 * 64)
    await expect(preprocessImageFile(join(ROOT, 'no/such/image.png'), pre)).rejects.toBeInstanceOf(UsageError)
    await expect(preprocessImageFile(join(ROOT, 'test/fixtures/images/truncated.jpg'), pre)).rejects.toThrow(/truncated\.jpg: cannot decode this JPEG/)
  })
})
