import {copyFile, mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {writeJaxNpzFromSafetensors, writeTimmFromSafetensors, writeTorchSave} from '../../bench/lib/formats.js'
import {writeRandomVitFolder} from '../../bench/lib/random-vit.js'
import {InvalidInputError, UsageError} from '../../src/core/errors.js'
import {openCheckpoint} from '../../src/weights/checkpoint.js'
import {convertCheckpoint} from '../../src/weights/convert.js'
import {serializeSafetensorsHeader} from '../../src/weights/safetensors.js'
import {tempDir} from '../helpers/tmp.js'
import {FIXTURES, FIXTURE_FOLDERS, WEIGHT_FILES, expectNothingWritten, rawSafetensors, readSafetensorsPlain} from '../helpers/weight-writers.js'

describe('convertCheckpoint on the fixtures', () => {
  for (const folder of FIXTURE_FOLDERS) {
    for (const file of WEIGHT_FILES) {
      it(`${folder}/${file} gives the fixture's model.safetensors tensors bit for bit`, async () => {
        const out = join(await tempDir(), 'out')
        const result = await convertCheckpoint(join(FIXTURES, folder, file), out)
        const expected = await readSafetensorsPlain(join(FIXTURES, folder, 'model.safetensors'))
        const got = await readSafetensorsPlain(join(out, 'model.safetensors'))
        expect([...got.keys()].sort()).toEqual([...expected.keys()].sort())
        for (const [name, t] of expected) {
          const g = got.get(name)!
          expect(g.dtype, name).toBe('F32')
          expect(g.shape, name).toEqual(t.shape)
          expect(Buffer.compare(g.bytes, t.bytes), name).toBe(0)
        }
        expect(result.format).toBe({'model.safetensors': 'safetensors', 'pytorch_model.bin': 'pytorch', 'timm.pth': 'timm', 'vit_jax.npz': 'jax'}[file])
        expect(result.configSource).toBe('config.json')
        // The config beside the weights is kept, labels included.
        const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as Record<string, unknown>
        const source = JSON.parse(await readFile(join(FIXTURES, folder, 'config.json'), 'utf8')) as Record<string, unknown>
        expect(config.id2label).toEqual(source.id2label)
        expect(config.layer_norm_eps).toBe(source.layer_norm_eps)
        expect(await readFile(join(out, 'preprocessor_config.json'), 'utf8')).toBe(await readFile(join(FIXTURES, folder, 'preprocessor_config.json'), 'utf8'))
      })
    }

    it(`${folder}: all four formats give byte-identical folders, and so does a second run`, async () => {
      const dir = await tempDir()
      const hashes = new Set<string>()
      for (const file of [...WEIGHT_FILES, WEIGHT_FILES[3]]) {
        const out = join(dir, `${file}-${hashes.size}-${Math.random()}`)
        const r = await convertCheckpoint(join(FIXTURES, folder, file), out)
        hashes.add(JSON.stringify(r.files))
      }
      expect(hashes.size).toBe(1)
    })
  }

  it('writes tensors sorted by name with the safetensors "pt" metadata, and reports true sizes and hashes', async () => {
    const out = join(await tempDir(), 'out')
    const r = await convertCheckpoint(join(FIXTURES, 'vit-geom', 'timm.pth'), out)
    const buf = await readFile(join(out, 'model.safetensors'))
    const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString()) as Record<string, {data_offsets: number[]}>
    expect(header.__metadata__).toEqual({format: 'pt'})
    const names = Object.keys(header).filter((k) => k !== '__metadata__')
    const byOffset = [...names].sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0])
    expect(byOffset).toEqual([...names].sort())
    expect(r.tensors.map((t) => t.name)).toEqual([...names].sort())
    const {createHash} = await import('node:crypto')
    for (const f of r.files) {
      const bytes = await readFile(join(out, f.path))
      expect(f.size).toBe(bytes.length)
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    }
    expect((await readdir(out)).sort()).toEqual(['config.json', 'model.safetensors', 'preprocessor_config.json'])
  })

  it('takes a model folder and picks the weights file the --from format names', async () => {
    const dir = await tempDir()
    const auto = await convertCheckpoint(join(FIXTURES, 'vit-geom'), join(dir, 'a'))
    expect(auto.format).toBe('safetensors')
    for (const from of ['pytorch', 'timm', 'jax'] as const) {
      const r = await convertCheckpoint(join(FIXTURES, 'vit-geom'), join(dir, from), {from})
      expect(r.format).toBe(from)
      expect(r.files).toEqual(auto.files)
    }
  })
})

describe('timm names in a safetensors file (as the Hub stores timm models)', () => {
  it('converts to the same canonical tensors', async () => {
    const dir = await tempDir()
    const ck = await openCheckpoint(join(FIXTURES, 'vit-geom', 'timm.pth'))
    const tensors = [...ck.tensors.values()].map((t) => ({name: t.name, dtype: t.dtype, shape: t.shape}))
    const parts = await Promise.all([...ck.tensors.values()].map(async (t) => Buffer.from(await t.read())))
    await ck.close()
    const {head} = serializeSafetensorsHeader(tensors)
    await writeFile(join(dir, 'model.safetensors'), Buffer.concat([head, ...parts]))
    await copyFile(join(FIXTURES, 'vit-geom', 'config.json'), join(dir, 'config.json'))
    const r = await convertCheckpoint(join(dir, 'model.safetensors'), join(dir, 'out'))
    expect(r.format).toBe('timm')
    const expected = await readSafetensorsPlain(join(FIXTURES, 'vit-geom', 'model.safetensors'))
    const got = await readSafetensorsPlain(join(dir, 'out', 'model.safetensors'))
    for (const [name, t] of expected) expect(Buffer.compare(got.get(name)!.bytes, t.bytes), name).toBe(0)
    await expect(convertCheckpoint(join(dir, 'model.safetensors'), join(dir, 'o2'), {from: 'safetensors'})).rejects.toThrow(/--from safetensors expects Hugging Face tensor names, but the names are timm ones/)
  })
})

describe('config derived from the tensor shapes', () => {
  it('reads hidden, layers, intermediate, patch, image and labels; heads from the JAX kernel or --num-heads', async () => {
    const dir = await tempDir()
    await copyFile(join(FIXTURES, 'vit-geom', 'vit_jax.npz'), join(dir, 'vit_jax.npz'))
    await copyFile(join(FIXTURES, 'vit-geom', 'timm.pth'), join(dir, 'timm.pth'))
    const jax = await convertCheckpoint(join(dir, 'vit_jax.npz'), join(dir, 'jax-out'))
    expect(jax.configSource).toBe('tensor shapes')
    expect(jax.config).toMatchObject({
      hidden_size: 32, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 80, patch_size: 8, image_size: 64,
      num_channels: 3, qkv_bias: true, layer_norm_eps: 1e-6, model_type: 'vit', torch_dtype: 'float32',
    })
    expect(jax.labelsSource).toBe('generic')
    expect(jax.config.id2label).toEqual({0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2', 3: 'LABEL_3', 4: 'LABEL_4'})
    // timm does not say how many heads, and 32 is no standard ViT width.
    await expect(convertCheckpoint(join(dir, 'timm.pth'), join(dir, 'timm-out'))).rejects.toThrow(/hidden size 32 is not a standard ViT size[\s\S]*/)
    await expectNothingWritten(join(dir, 'timm-out'))
    const timm = await convertCheckpoint(join(dir, 'timm.pth'), join(dir, 'timm-out'), {numHeads: 4})
    expect(timm.config.num_attention_heads).toBe(4)
    const a = await readSafetensorsPlain(join(dir, 'jax-out', 'model.safetensors'))
    const b = await readSafetensorsPlain(join(dir, 'timm-out', 'model.safetensors'))
    for (const [name, t] of a) expect(Buffer.compare(t.bytes, b.get(name)!.bytes), name).toBe(0)
  })

  it('uses the standard ViT table for heads and the bundled ImageNet-1k labels for a 1000-class head', async () => {
    const dir = await tempDir()
    // hidden 192 is ViT-Ti (3 heads); 1000 classes.
    await writeRandomVitFolder(join(dir, 'src'), {hidden: 192, layers: 1, heads: 3, intermediate: 16, patch: 16, image: 32, labels: 1000}, 7)
    await writeTimmFromSafetensors(join(dir, 'src', 'model.safetensors'), join(dir, 'vit_ti.pth'))
    const r = await convertCheckpoint(join(dir, 'vit_ti.pth'), join(dir, 'out'))
    expect(r.config.num_attention_heads).toBe(3)
    expect(r.labelsSource).toBe('imagenet-1k')
    const id2label = r.config.id2label as Record<string, string>
    expect(id2label['0']).toBe('tench, Tinca tinca')
    expect(id2label['1']).toBe('goldfish, Carassius auratus')
    expect(id2label['999']).toBe('toilet tissue, toilet paper, bathroom tissue')
    // Two ImageNet classes share the name "crane" (134, 517): label2id keeps the last, as transformers does.
    expect((r.config.label2id as Record<string, number>).crane).toBe(517)
    const pre = JSON.parse(await readFile(join(dir, 'out', 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>
    expect(pre).toMatchObject({image_processor_type: 'ViTImageProcessor', size: {height: 32, width: 32}, image_mean: [0.5, 0.5, 0.5]})
  })

  it('--labels takes a JSON id2label, a JSON list or one label a line, and must match the head', async () => {
    const dir = await tempDir()
    const src = join(FIXTURES, 'vit-geom', 'model.safetensors')
    const names = ['a', 'b', 'c', 'd', 'e']
    await writeFile(join(dir, 'l.txt'), names.join('\n') + '\n')
    await writeFile(join(dir, 'l.json'), JSON.stringify(Object.fromEntries(names.map((n, i) => [String(i), n]))))
    await writeFile(join(dir, 'list.json'), JSON.stringify(names))
    await writeFile(join(dir, 'short.txt'), 'x\ny\n')
    for (const f of ['l.txt', 'l.json', 'list.json']) {
      const r = await convertCheckpoint(src, join(dir, `out-${f}`), {labelsFile: join(dir, f)})
      expect(r.labelsSource).toBe('labels file')
      expect(r.config.id2label).toEqual({0: 'a', 1: 'b', 2: 'c', 3: 'd', 4: 'e'})
      expect(r.config.label2id).toEqual({a: 0, b: 1, c: 2, d: 3, e: 4})
    }
    await expect(convertCheckpoint(src, join(dir, 'bad'), {labelsFile: join(dir, 'short.txt')})).rejects.toThrow(/short\.txt: 2 labels, but the classifier has 5 classes/)
    await expectNothingWritten(join(dir, 'bad'))
  })
})

describe('float16 / bfloat16 output', () => {
  // vit-geom's cls token, first 16 values, and the same rounded by numpy's float16 cast and by PyTorch's bfloat16
  // rule (round to nearest even on the top 16 bits), computed outside vitrine.
  const F16 = [0x9d18, 0x198d, 0x20fb, 0x27cd, 0xa1c8, 0xa27f, 0xa2e8, 0xa70f, 0xa6cc, 0xa524, 0xa40e, 0x2969, 0xa36c, 0x2419, 0xa84f, 0x214c]
  const BF16 = [0xbba3, 0x3b32, 0x3c1f, 0x3cfa, 0xbc39, 0xbc50, 0xbc5d, 0xbce2, 0xbcd9, 0xbca5, 0xbc82, 0x3d2d, 0xbc6e, 0x3c83, 0xbd0a, 0x3c29]

  for (const [dtype, code, expected] of [['float16', 'F16', F16], ['bfloat16', 'BF16', BF16]] as const) {
    it(`--dtype ${dtype} rounds each value to nearest even`, async () => {
      const dir = await tempDir()
      const r = await convertCheckpoint(join(FIXTURES, 'vit-geom', 'vit_jax.npz'), join(dir, 'out'), {dtype})
      expect(r.config.torch_dtype).toBe(dtype)
      expect(new Set(r.tensors.map((t) => t.dtype))).toEqual(new Set([code]))
      const got = await readSafetensorsPlain(join(dir, 'out', 'model.safetensors'))
      const cls = got.get('vit.embeddings.cls_token')!
      expect(cls.dtype).toBe(code)
      expect(cls.bytes.length).toBe(64)
      expect(Array.from({length: 16}, (_, i) => cls.bytes.readUInt16LE(2 * i))).toEqual(expected)
      // Half-width reread is the same from every source format.
      const again = await convertCheckpoint(join(FIXTURES, 'vit-geom', 'pytorch_model.bin'), join(dir, 'out2'), {dtype})
      expect(again.files).toEqual(r.files)
    })
  }

  it('a float16 checkpoint converts back to float32 exactly (widening is lossless)', async () => {
    const dir = await tempDir()
    await convertCheckpoint(join(FIXTURES, 'vit-geom', 'model.safetensors'), join(dir, 'half'), {dtype: 'float16'})
    await convertCheckpoint(join(dir, 'half'), join(dir, 'wide'), {dtype: 'float32'})
    await convertCheckpoint(join(dir, 'wide'), join(dir, 'half2'), {dtype: 'float16'})
    const a = await readSafetensorsPlain(join(dir, 'half', 'model.safetensors'))
    const b = await readSafetensorsPlain(join(dir, 'half2', 'model.safetensors'))
    for (const [name, t] of a) expect(Buffer.compare(t.bytes, b.get(name)!.bytes), name).toBe(0)
    const wide = await readSafetensorsPlain(join(dir, 'wide', 'model.safetensors'))
    // 0x9d18 as float32: sign 1, exponent 7-15, mantissa 0x118/1024.
    expect(wide.get('vit.embeddings.cls_token')!.bytes.readFloatLE(0)).toBe(-(1 + 0x118 / 1024) * 2 ** (7 - 15))
  })
})

describe('bad inputs: a clear error naming the file and the offset or tensor, and nothing written', () => {
  async function expectRefused(src: string, pattern: RegExp, options = {}): Promise<void> {
    const out = join(src + '-out')
    const err = await convertCheckpoint(src, out, options).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidInputError)
    expect((err as Error).message).toContain(src)
    expect((err as Error).message).toMatch(pattern)
    await expectNothingWritten(out)
  }

  it('truncated safetensors', async () => {
    const dir = await tempDir()
    const full = await readFile(join(FIXTURES, 'vit-geom', 'model.safetensors'))
    await writeFile(join(dir, 'model.safetensors'), full.subarray(0, full.length - 1000))
    await expectRefused(join(dir, 'model.safetensors'), /tensor '.*': data_offsets \[\d+, \d+\] run past the end of the file .*byte offset \d+/)
  })

  it('header length past the end', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'w.safetensors'), rawSafetensors({a: {dtype: 'F32', shape: [1], data_offsets: [0, 4]}}, new Uint8Array(4), 5000))
    await expectRefused(join(dir, 'w.safetensors'), /header length 5000 at byte offset 0 runs past the end of the file/)
  })

  it('overlapping offsets', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'w.safetensors'), rawSafetensors({
      'vit.embeddings.cls_token': {dtype: 'F32', shape: [2], data_offsets: [0, 8]}, 'classifier.bias': {dtype: 'F32', shape: [2], data_offsets: [4, 12]},
    }, new Uint8Array(12)))
    await expectRefused(join(dir, 'w.safetensors'), /tensor 'classifier\.bias': data_offsets \[4, 12\] overlap the previous tensor/)
  })

  it('out-of-range offsets', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'w.safetensors'), rawSafetensors({'classifier.bias': {dtype: 'F32', shape: [4], data_offsets: [0, 16]}}, new Uint8Array(8)))
    await expectRefused(join(dir, 'w.safetensors'), /tensor 'classifier\.bias': data_offsets \[0, 16\] run past the end of the file \(data section is 8 bytes, starting at byte offset \d+\)/)
  })

  it('unknown dtype', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'w.safetensors'), rawSafetensors({'classifier.bias': {dtype: 'Q4_K', shape: [4], data_offsets: [0, 16]}}, new Uint8Array(16)))
    await expectRefused(join(dir, 'w.safetensors'), /tensor 'classifier\.bias': unknown dtype "Q4_K"/)
  })

  it('a tensor of the wrong shape (safetensors and timm fused qkv), with expected and actual shape', async () => {
    const dir = await tempDir()
    const src = await readSafetensorsPlain(join(FIXTURES, 'vit-geom', 'model.safetensors'))
    // Re-lay the fixture with classifier.weight cut to [5, 31].
    const header: Record<string, unknown> = {}
    const parts: Buffer[] = []
    let at = 0
    for (const [name, t] of src) {
      const shape = name === 'classifier.weight' ? [5, 31] : t.shape
      const bytes = name === 'classifier.weight' ? t.bytes.subarray(0, 5 * 31 * 4) : t.bytes
      header[name] = {dtype: t.dtype, shape, data_offsets: [at, at + bytes.length]}
      parts.push(bytes)
      at += bytes.length
    }
    await mkdir(join(dir, 'hf'))
    await copyFile(join(FIXTURES, 'vit-geom', 'config.json'), join(dir, 'hf', 'config.json'))
    await writeFile(join(dir, 'hf', 'model.safetensors'), rawSafetensors(header, Buffer.concat(parts)))
    await expectRefused(join(dir, 'hf', 'model.safetensors'), /tensor 'classifier\.weight' has shape \[5, 31\], expected \[5, 32\]/)

    const qkv = {name: 'blocks.0.attn.qkv.weight', shape: [96, 31], storage: 'q'}
    await writeTorchSave(join(dir, 'timm.pth'), [qkv], [{key: 'q', dtype: 'F32', numel: 96 * 31, data: () => new Uint8Array(96 * 31 * 4)}])
    await writeFile(join(dir, 'config.json'), await readFile(join(FIXTURES, 'vit-geom', 'config.json')))
    await expectRefused(join(dir, 'timm.pth'), /tensor 'blocks\.0\.attn\.qkv\.weight' has shape \[96, 31\], expected \[96, 32\][\s\S]*tensor 'cls_token' is missing \(expected shape \[1, 1, 32\]\)/)
  })

  it('an unexpected tensor', async () => {
    const dir = await tempDir()
    const src = await readSafetensorsPlain(join(FIXTURES, 'vit-geom', 'model.safetensors'))
    const header: Record<string, unknown> = {}
    const parts: Buffer[] = []
    let at = 0
    for (const [name, t] of [...src, ['vit.pooler.dense.bias', {dtype: 'F32', shape: [32], bytes: Buffer.alloc(128)}] as const]) {
      header[name] = {dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.bytes.length]}
      parts.push(t.bytes)
      at += t.bytes.length
    }
    await writeFile(join(dir, 'model.safetensors'), rawSafetensors(header, Buffer.concat(parts)))
    await copyFile(join(FIXTURES, 'vit-geom', 'config.json'), join(dir, 'config.json'))
    await expectRefused(join(dir, 'model.safetensors'), /unexpected tensor 'vit\.pooler\.dense\.bias' \(shape \[32\]\)/)
  })

  it('an npz missing a tensor', async () => {
    const dir = await tempDir()
    await writeJaxNpzFromSafetensors(join(FIXTURES, 'vit-geom', 'model.safetensors'), join(dir, 'vit_jax.npz'), {heads: 4, omit: ['Transformer/encoderblock_1/MlpBlock_3/Dense_0/bias']})
    await expectRefused(join(dir, 'vit_jax.npz'), /tensor 'Transformer\/encoderblock_1\/MlpBlock_3\/Dense_0\/bias' is missing \(expected shape \[80\]\)/)
  })

  it('a file that is no checkpoint, and a --from that contradicts the content', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'notes.bin'), 'hello, these are not weights\n')
    await expectRefused(join(dir, 'notes.bin'), /not a weights file vitrine reads/)
    await copyFile(join(FIXTURES, 'vit-geom', 'vit_jax.npz'), join(dir, 'w.npz'))
    await expectRefused(join(dir, 'w.npz'), /--from pytorch expects torch-zip content, but the file is npz/, {from: 'pytorch'})
  })

  it('refuses a missing source (usage) and an --out that would clobber', async () => {
    const dir = await tempDir()
    await expect(convertCheckpoint(join(dir, 'nope.pth'), join(dir, 'out'))).rejects.toBeInstanceOf(UsageError)
    await mkdir(join(dir, 'full'))
    await writeFile(join(dir, 'full', 'keep.txt'), 'mine')
    await expect(convertCheckpoint(join(FIXTURES, 'vit-geom', 'timm.pth'), join(dir, 'full'))).rejects.toThrow(/exists and is not empty/)
    expect(await readFile(join(dir, 'full', 'keep.txt'), 'utf8')).toBe('mine')
    await expect(convertCheckpoint(join(FIXTURES, 'vit-geom'), FIXTURES, {overwrite: true})).rejects.toThrow(/would replace the source/)
    const r = await convertCheckpoint(join(FIXTURES, 'vit-geom', 'timm.pth'), join(dir, 'full'), {overwrite: true})
    expect((await readdir(r.outDir)).sort()).toEqual(['config.json', 'model.safetensors', 'preprocessor_config.json'])
  })
})
