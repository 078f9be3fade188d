import type {FileHandle} from 'node:fs/promises'

import {InvalidInputError, previewValue} from '../core/errors.js'
import {DTYPE_BYTES} from './dtype.js'
import {type PyGlobal, PyDict, PyTuple, describePyValue, unpickle} from './pickle.js'
import type {Checkpoint, SourceTensor} from './source.js'
import {MAX_TENSOR_NAME_CHARS} from './safetensors.js'
import {gatherStrided, isContiguous, numel, viewOverlaps} from './strided.js'
import {type ZipEntry, ZipReader} from './zip.js'

/**
 * PyTorch checkpoints written by `torch.save` (PyTorch >= 1.6): a zip archive `NAME/data.pkl` (the pickled state
 * dict) + `NAME/data/KEY` (one raw little-endian storage per key). The pickle is read by the restricted unpickler with
 * only the globals a state dict of tensors needs; tensors are views (offset, size, stride) into the storages, read
 * one at a time when the converter asks for them.
 */

/** torch storage classes and the safetensors dtype of their elements. */
const STORAGE_DTYPES: Readonly<Record<string, string>> = {
  FloatStorage: 'F32', DoubleStorage: 'F64', HalfStorage: 'F16', BFloat16Storage: 'BF16', LongStorage: 'I64',
  IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
}

class StorageType {
  constructor(readonly dtype: string, readonly pyName: string) {}
}

class StorageRef {
  constructor(readonly key: string, readonly dtype: string, readonly entry: ZipEntry) {}
}

class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly shape: number[], readonly strides: number[]) {}
}

/** data.pkl of a state dict is a few hundred kB even for large models; a bigger one is refused before inflating. */
export const MAX_PICKLE_BYTES = 64 * 1024 * 1024

/** The names the unpickler accepts; everything else is refused by name. */
export const ALLOWED_TORCH_GLOBALS: readonly string[] = [
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
]

function intList(v: unknown, what: string): number[] {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) throw new Error(`${what} is not a tuple`)
  const items = v instanceof PyTuple ? v.items : (v as unknown[])
  if (!items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) throw new Error(`${what} must hold non-negative integers`)
  return items as number[]
}

function rebuildTensor(args: readonly unknown[]): TensorRef {
  const [storage, offset, size, stride] = args
  if (!(storage instanceof StorageRef)) throw new Error('the first argument is not a storage')
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new Error('storage offset is not a non-negative integer')
  const shape = intList(size, 'size')
  const strides = intList(stride, 'stride')
  if (shape.length !== strides.length) throw new Error(`size has ${shape.length} dims but stride ${strides.length}`)
  return new TensorRef(storage, offset, shape, strides)
}

function makeGlobals(): Map<string, PyGlobal> {
  const globals = new Map<string, PyGlobal>()
  const add = (module: string, name: string, call?: (args: readonly unknown[]) => unknown): void => {
    globals.set(`${module}.${name}`, {module, name, call})
  }
  add('collections', 'OrderedDict', () => new PyDict())
  add('torch._utils', '_rebuild_tensor', rebuildTensor)
  add('torch._utils', '_rebuild_tensor_v2', rebuildTensor)
  const param = (args: readonly unknown[]): unknown => {
    if (!(args[0] instanceof TensorRef)) throw new Error('the parameter data is not a tensor')
    return args[0]
  }
  add('torch._utils', '_rebuild_parameter', param)
  add('torch._utils', '_rebuild_parameter_with_state', param)
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) {
    const type = new StorageType(dtype, `torch.${name}`)
    globals.set(`torch.${name}`, Object.assign(type, {module: 'torch', name}))
  }
  return globals
}

/** The state dict inside what was pickled: the top-level dict, or a `state_dict` / `model` entry of a training checkpoint. */
function findStateDict(root: unknown, file: string): Map<string, TensorRef> {
  const asTensors = (d: unknown): Map<string, TensorRef> | undefined => {
    if (!(d instanceof PyDict) || d.map.size === 0) return undefined
    const out = new Map<string, TensorRef>()
    for (const [k, v] of d.map) {
      if (typeof k !== 'string' || !(v instanceof TensorRef)) return undefined
      out.set(k, v)
    }
    return out
  }
  const direct = asTensors(root)
  if (direct) return stripModulePrefix(direct)
  if (root instanceof PyDict) {
    for (const key of ['state_dict', 'model', 'model_state_dict', 'module', 'state_dict_ema', 'model_ema']) {
      const inner = asTensors(root.map.get(key))
      if (inner) return stripModulePrefix(inner)
    }
    const bad = [...root.map].find(([k, v]) => typeof k !== 'string' || !(v instanceof TensorRef))
    if (bad) {
      // Described, never converted to text: a key may be a list nested 100,000 deep (String() of it overflows the stack).
      const [k, v] = bad
      const what = typeof k === 'string' ? `entry ${previewValue(k)} is a ${describePyValue(v)}, not a tensor` : `an entry's key is a ${describePyValue(k)}, not a tensor name`
      throw new InvalidInputError(`${file}: not a state dict of tensors: ${what}, and there is no 'state_dict' or 'model' entry holding one`, {file})
    }
  }
  throw new InvalidInputError(`${file}: the pickle holds no state dict (a dict of tensors)`, {file})
}

/** `module.` is what DataParallel adds to every name; it is not part of the model. */
function stripModulePrefix(d: Map<string, TensorRef>): Map<string, TensorRef> {
  if (![...d.keys()].every((k) => k.startsWith('module.'))) return d
  return new Map([...d].map(([k, v]) => [k.slice('module.'.length), v]))
}

export async function readTorchZip(fh: FileHandle, file: string): Promise<Checkpoint> {
  const zip = await ZipReader.open(fh, file)
  const pkl = [...zip.entries.values()].filter((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'))
  if (pkl.length !== 1) throw new InvalidInputError(`${file}: a torch.save archive holds exactly one data.pkl; this zip holds ${pkl.length}`, {file})
  const prefix = pkl[0].name.slice(0, -'data.pkl'.length)
  const byteorder = zip.entries.get(`${prefix}byteorder`)
  if (byteorder) {
    const order = new TextDecoder().decode(await zip.read(byteorder, 64)).trim()
    if (order !== 'little') throw new InvalidInputError(`${file}: storages are ${order}-endian; only little-endian checkpoints are supported`, {file})
  }
  const globals = makeGlobals()
  const storages = new Map<string, StorageRef>()
  const root = unpickle(await zip.read(pkl[0], MAX_PICKLE_BYTES), {
    file: `${file} (${pkl[0].name})`,
    allowedNames: ALLOWED_TORCH_GLOBALS,
    findGlobal: (module, name) => globals.get(`${module}.${name}`),
    persistentLoad(pid) {
      // ('storage', storage_type, key, location, numel)
      if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length < 5) throw new InvalidInputError(`${file}: unknown persistent id in data.pkl (expected a storage)`, {file})
      const [, type, key, , count] = pid.items
      if (!(type instanceof StorageType)) throw new InvalidInputError(`${file}: storage type in data.pkl is not a torch storage class`, {file})
      if (typeof key !== 'string') throw new InvalidInputError(`${file}: storage key in data.pkl is not a string`, {file})
      const known = storages.get(key)
      if (known) return known
      const entry = zip.entries.get(`${prefix}data/${key}`)
      if (!entry) throw new InvalidInputError(`${file}: data.pkl refers to storage '${key}' but the archive has no entry '${prefix}data/${key}'`, {file})
      const bytes = DTYPE_BYTES[type.dtype]
      if (typeof count === 'number' && count * bytes !== entry.size) {
        throw new InvalidInputError(`${file}: storage '${key}' should hold ${count} ${type.pyName} elements (${count * bytes} bytes) but zip entry '${entry.name}' holds ${entry.size} bytes`, {file})
      }
      const ref = new StorageRef(key, type.dtype, entry)
      storages.set(key, ref)
      return ref
    },
  })
  const state = findStateDict(root, file)
  for (const name of state.keys()) {
    if (name.length > MAX_TENSOR_NAME_CHARS) throw new InvalidInputError(`${file}: data.pkl names a tensor of ${name.length} characters (${previewValue(name)}), over the limit of ${MAX_TENSOR_NAME_CHARS}`, {file})
  }
  const tensors = new Map<string, SourceTensor>()
  for (const [name, t] of state) {
    const elem = DTYPE_BYTES[t.storage.dtype]
    const storageNumel = t.storage.entry.size / elem
    const n = numel(t.shape)
    const last = n === 0 ? t.offset : t.offset + t.shape.reduce((acc, d, i) => acc + (d - 1) * t.strides[i], 0)
    if (n > 1 && viewOverlaps(t.shape, t.strides)) {
      throw new InvalidInputError(`${file}: tensor '${name}' (size [${t.shape.join(', ')}], stride [${t.strides.join(', ')}]) reaches some storage elements more than once (a stride of 0 or overlapping strides); refusing to expand it`, {file})
    }
    if (n > 0 && last >= storageNumel) {
      throw new InvalidInputError(`${file}: tensor '${name}' (offset ${t.offset}, size [${t.shape.join(', ')}], stride [${t.strides.join(', ')}]) reaches element ${last} of storage '${t.storage.key}', which holds ${storageNumel}`, {file})
    }
    tensors.set(name, {
      name,
      dtype: t.storage.dtype,
      shape: t.shape,
      location: `zip entry '${t.storage.entry.name}'`,
      async read() {
        if (n === 0) return new Uint8Array(0)
        const span = await zip.readRange(t.storage.entry, t.offset * elem, (last + 1 - t.offset) * elem)
        if (isContiguous(t.shape, t.strides)) return span
        return gatherStrided(span, elem, 0, t.shape, t.strides)
      },
    })
  }
  return {container: 'torch-zip', file, tensors, close: () => fh.close()}
}
