import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ZipWriter, torchStateDictPickle, writeTorchSave} from '../../bench/lib/formats.js'
import {InvalidInputError} from '../../src/core/errors.js'
import {openCheckpoint} from '../../src/weights/checkpoint.js'
import {convertCheckpoint} from '../../src/weights/convert.js'
import {PyDict, PyTuple, unpickle} from '../../src/weights/pickle.js'
import {tempDir} from '../helpers/tmp.js'
import {expectNothingWritten} from '../helpers/weight-writers.js'

const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')]

/** `os.system('touch PWNED')`, pickled by hand: PROTO 2, GLOBAL 'os system', BINUNICODE arg, TUPLE1, REDUCE, STOP. */
function osSystemPickle(marker: string): Buffer {
  const cmd = Buffer.from(`touch ${marker}`)
  const len = Buffer.alloc(4)
  len.writeUInt32LE(cmd.length)
  return Buffer.concat([Buffer.from([0x80, 0x02, 0x63, ...ascii('os\nsystem\n'), 0x58]), len, cmd, Buffer.from([0x85, 0x52, 0x2e])])
}

/** `builtins.eval("__import__('os')...")` via protocol 4's STACK_GLOBAL, as a value inside a state dict. */
function builtinsEvalPickle(): Buffer {
  const expr = Buffer.from("__import__('os').system('true')")
  return Buffer.concat([
    Buffer.from([0x80, 0x04, 0x95]), Buffer.alloc(8), // PROTO 4, FRAME (length ignored)
    Buffer.from([0x7d, 0x94]), // EMPTY_DICT, MEMOIZE
    Buffer.from([0x8c, 6, ...ascii('weight'), 0x94]), // SHORT_BINUNICODE 'weight'
    Buffer.from([0x8c, 8, ...ascii('builtins'), 0x94, 0x8c, 4, ...ascii('eval'), 0x94, 0x93, 0x94]), // STACK_GLOBAL
    Buffer.from([0x8c, expr.length]), expr, Buffer.from([0x85, 0x52]), // TUPLE1, REDUCE
    Buffer.from([0x73, 0x2e]), // SETITEM, STOP
  ])
}

const noGlobals = {file: 'x.pkl', findGlobal: () => undefined}

describe('restricted unpickler', () => {
  it('refuses os.system by name and byte offset, before anything runs', () => {
    expect(() => unpickle(osSystemPickle('PWNED'), noGlobals)).toThrow(/x\.pkl: pickle at byte offset 2 refers to the global 'os\.system'.*refusing to load it \(nothing was executed\)/)
  })

  it('refuses builtins.eval reached through STACK_GLOBAL', () => {
    expect(() => unpickle(builtinsEvalPickle(), noGlobals)).toThrow(/byte offset 40 refers to the global 'builtins\.eval'/)
  })

  it('refuses INST (builds a class instance by name) and the extension registry', () => {
    const inst = Buffer.from([0x80, 0x02, 0x28, 0x69, ...ascii('subprocess\nPopen\n'), 0x2e])
    expect(() => unpickle(inst, noGlobals)).toThrow(/'subprocess\.Popen'/)
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0x82, 0x01, 0x2e]), noGlobals)).toThrow(/EXT opcodes .* not allowed/)
  })

  it('builds plain values: dicts, lists, tuples, ints of every width, floats, strings, bytes, memo', () => {
    const p = Buffer.concat([
      Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x28]), // EMPTY_DICT, BINPUT 0, MARK
      Buffer.from([0x55, 1, ...ascii('a'), 0x4b, 7]), // 'a': 7 (SHORT_BINSTRING, BININT1)
      Buffer.from([0x55, 1, ...ascii('b'), 0x4d, 0x34, 0x12]), // 'b': 0x1234
      Buffer.from([0x55, 1, ...ascii('c'), 0x4a, 0xff, 0xff, 0xff, 0xff]), // 'c': -1
      Buffer.from([0x55, 1, ...ascii('d'), 0x8a, 5, 0, 0, 0, 0, 1]), // 'd': 2**32 (LONG1)
      Buffer.from([0x55, 1, ...ascii('e'), 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), // 'e': 1.5 (BINFLOAT, big-endian)
      Buffer.from([0x55, 1, ...ascii('f'), 0x5d, 0x28, 0x88, 0x89, 0x4e, 0x65]), // 'f': [True, False, None]
      Buffer.from([0x55, 1, ...ascii('g'), 0x43, 2, 9, 8, 0x85, 0x68, 0x00, 0x86]), // 'g': ((b'\x09\x08',), <memo 0>)
      Buffer.from([0x75, 0x2e]), // SETITEMS, STOP
    ])
    const v = unpickle(p, noGlobals) as PyDict
    expect(v).toBeInstanceOf(PyDict)
    expect(v.map.get('a')).toBe(7)
    expect(v.map.get('b')).toBe(0x1234)
    expect(v.map.get('c')).toBe(-1)
    expect(v.map.get('d')).toBe(2 ** 32)
    expect(v.map.get('e')).toBe(1.5)
    expect(v.map.get('f')).toEqual([true, false, null])
    const g = v.map.get('g') as PyTuple
    expect(g).toBeInstanceOf(PyTuple)
    expect([...(g.items[0] as PyTuple).items[0] as Uint8Array]).toEqual([9, 8])
    expect(g.items[1]).toBe(v) // BINGET 0: the dict itself
  })

  it('names the byte offset of a truncated or corrupt pickle', () => {
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0x58, 0x10, 0, 0, 0, 0x61]), noGlobals)).toThrow(/byte offset 2: truncated: needs 16 more bytes at byte offset 7/)
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0x7d]), noGlobals)).toThrow(/without a STOP/)
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0xff]), noGlobals)).toThrow(/byte offset 2: unknown opcode 0xff/)
    expect(() => unpickle(Buffer.from([0x80, 0x02, 0x68, 0x05, 0x2e]), noGlobals)).toThrow(/memo key 5 was never stored/)
  })
})

describe('torch.save archives through the unpickler', () => {
  async function torchZipWithPickle(dir: string, pkl: Uint8Array): Promise<string> {
    const path = join(dir, 'evil.pth')
    const zip = await ZipWriter.create(path)
    await zip.add('archive/data.pkl', pkl)
    await zip.add('archive/version', Buffer.from('3\n'))
    await zip.close()
    return path
  }

  it('a pickle calling os.system: exit-1 error naming it, nothing executed, nothing written', async () => {
    const dir = await tempDir()
    const marker = join(dir, 'PWNED')
    const src = await torchZipWithPickle(dir, osSystemPickle(marker))
    const err = await convertCheckpoint(src, join(dir, 'out')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidInputError)
    expect((err as Error).message).toMatch(new RegExp(`${src} \\(archive/data\\.pkl\\): pickle at byte offset 2 refers to the global 'os\\.system'`))
    await expectNothingWritten(join(dir, 'out'))
    const {existsSync} = await import('node:fs')
    expect(existsSync(marker)).toBe(false)
  })

  it('a pickle calling builtins.eval inside the state dict', async () => {
    const dir = await tempDir()
    const src = await torchZipWithPickle(dir, builtinsEvalPickle())
    await expect(convertCheckpoint(src, join(dir, 'out'))).rejects.toThrow(/'builtins\.eval'/)
    await expectNothingWritten(join(dir, 'out'))
  })

  it('reads shared storages, storage offsets and non-contiguous strides (a transposed view)', async () => {
    const dir = await tempDir()
    const data = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    await writeTorchSave(join(dir, 'v.pth'), [
      {name: 'whole', shape: [10], storage: 's'},
      {name: 'tail', shape: [2, 2], offset: 6, storage: 's'}, // [[6, 7], [8, 9]]
      {name: 't', shape: [3, 2], stride: [1, 3], storage: 's'}, // transpose of [[0,1,2],[3,4,5]]
    ], [{key: 's', dtype: 'F32', numel: 10, data: () => new Uint8Array(data.buffer)}])
    const ck = await openCheckpoint(join(dir, 'v.pth'))
    try {
      const read = async (n: string): Promise<number[]> => [...new Float32Array(new Uint8Array((await ck.tensors.get(n)!.read())).buffer)]
      expect(await read('whole')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(await read('tail')).toEqual([6, 7, 8, 9])
      expect(await read('t')).toEqual([0, 3, 1, 4, 2, 5])
      expect(ck.tensors.get('t')!.shape).toEqual([3, 2])
    } finally {
      await ck.close()
    }
  })

  it('reads an OrderedDict state dict with _metadata, and refuses a view past its storage', async () => {
    const dir = await tempDir()
    const storages = [{key: '0', dtype: 'F32', numel: 4, data: () => new Uint8Array(16)}]
    const ok = [{name: 'a', shape: [4], storage: '0'}]
    // torch.save of a module's state_dict(): OrderedDict(), SETITEMS, then BUILD with {'_metadata': {...}} (dropped).
    const pkl = torchStateDictPickle(ok, storages, {ordered: true})
    const withMetadata = Buffer.concat([pkl.subarray(0, -1), Buffer.from([0x7d, 0x55, 9, ...ascii('_metadata'), 0x7d, 0x73, 0x62, 0x2e])])
    await writeTorchSave(join(dir, 'ok.pth'), ok, storages, {pickle: withMetadata})
    const ck = await openCheckpoint(join(dir, 'ok.pth'))
    expect([...ck.tensors.keys()]).toEqual(['a'])
    await ck.close()
    await writeTorchSave(join(dir, 'bad.pth'), [{name: 'a', shape: [4], offset: 2, storage: '0'}], storages)
    await expect(openCheckpoint(join(dir, 'bad.pth'))).rejects.toThrow(/tensor 'a' \(offset 2, size \[4\], stride \[1\]\) reaches element 5 of storage '0', which holds 4/)
  })

  it('refuses a legacy (non-zip) torch.save pickle with a hint', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'old.pt'), Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]))
    await expect(openCheckpoint(join(dir, 'old.pt'))).rejects.toThrow(/legacy torch\.save format of PyTorch < 1\.6/)
  })
})
