import {InvalidInputError, previewValue} from '../core/errors.js'

/**
 * A restricted unpickler: it understands the pickle opcodes (protocols 0-5) and builds plain values, but it never
 * imports or calls anything on its own. A GLOBAL (or STACK_GLOBAL / INST) is looked up in the caller's allow-list;
 * any other name is refused with that name and the byte offset, before anything else happens. The only things ever
 * "called" are the allow-listed functions the caller implements (in TypeScript, over plain values), so a pickle that
 * names `os.system` or `builtins.eval` is an error, not an exploit.
 */

/** A Python tuple (kept apart from lists so callers can tell them apart). */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A Python dict. Keys are strings, numbers, bigints, booleans, null, or tuples compared by identity. */
export class PyDict {
  readonly map = new Map<unknown, unknown>()
}

/** An allow-listed global. `call` runs for REDUCE / NEWOBJ; `build` for BUILD on the object it made. */
export interface PyGlobal {
  readonly module: string
  readonly name: string
  call?(args: readonly unknown[]): unknown
}

export interface UnpickleOptions {
  /** Names the error messages use. */
  file: string
  /** Returns the allowed global, or undefined to refuse it. */
  findGlobal(module: string, name: string): PyGlobal | undefined
  /** Resolves a persistent id (torch.save stores its storages this way). */
  persistentLoad?(pid: unknown): unknown
  /** The names allowed, for the error message. */
  allowedNames?: readonly string[]
}

const MARK = Symbol('mark')

/** BUILD sets state on the object below it; only dicts may take it (an OrderedDict's `_metadata`), and it is dropped. */
function buildable(obj: unknown): boolean {
  return obj instanceof PyDict
}

/** What a pickled value is, in a word (for messages: never the value itself, which may be 100,000 levels deep). */
export function describePyValue(v: unknown): string {
  if (v === null) return 'None'
  if (v instanceof PyTuple) return 'tuple'
  if (v instanceof PyDict) return 'dict'
  if (Array.isArray(v)) return 'list'
  if (v instanceof Uint8Array) return 'bytes'
  return typeof v
}

export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const {file} = options
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const utf8 = new TextDecoder('utf-8', {fatal: true})
  const latin1 = new TextDecoder('latin1')
  let pos = 0
  let opAt = 0
  const stack: unknown[] = []
  const memo = new Map<number, unknown>()

  const fail = (message: string): never => {
    throw new InvalidInputError(`${file}: pickle opcode at byte offset ${opAt}: ${message}`, {file})
  }
  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length) fail(`truncated: needs ${n} more bytes at byte offset ${pos}, the pickle is ${bytes.length} bytes`)
  }
  const u8 = (): number => {
    need(1)
    return bytes[pos++]
  }
  const u16 = (): number => {
    need(2)
    const v = dv.getUint16(pos, true)
    pos += 2
    return v
  }
  const u32 = (): number => {
    need(4)
    const v = dv.getUint32(pos, true)
    pos += 4
    return v
  }
  const i32 = (): number => {
    need(4)
    const v = dv.getInt32(pos, true)
    pos += 4
    return v
  }
  const u64 = (): number => {
    need(8)
    const v = dv.getBigUint64(pos, true)
    pos += 8
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`)
    return Number(v)
  }
  const take = (n: number): Uint8Array => {
    need(n)
    const out = bytes.subarray(pos, pos + n)
    pos += n
    return out
  }
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos)
    if (end < 0) fail('truncated: a text argument has no newline')
    const s = latin1.decode(bytes.subarray(pos, end))
    pos = end + 1
    return s
  }
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b)
    } catch {
      return fail('a string is not valid UTF-8')
    }
  }
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow (the pickle is corrupt)')
    const v = stack.pop()
    if (v === MARK) fail('unexpected MARK (the pickle is corrupt)')
    return v
  }
  const top = (): unknown => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) fail('stack underflow (the pickle is corrupt)')
    return stack[stack.length - 1]
  }
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK)
    if (at < 0) fail('no MARK on the stack (the pickle is corrupt)')
    const items = stack.splice(at)
    items.shift()
    return items
  }
  const memoGet = (key: number): unknown => {
    if (!memo.has(key)) fail(`memo key ${key} was never stored (the pickle is corrupt)`)
    return memo.get(key)
  }
  const lookupGlobal = (module: string, name: string): PyGlobal => {
    const g = options.findGlobal(module, name)
    if (!g) {
      const allowed = options.allowedNames?.length ? ` (the globals allowed are ${options.allowedNames.join(', ')})` : ''
      throw new InvalidInputError(
        `${file}: pickle at byte offset ${opAt} refers to the global '${module}.${name}', which a weights file has no use for; refusing to load it (nothing was executed)`,
        {file, hint: `Only state dicts of tensors are read${allowed}. If you trust the file, re-save it as safetensors (transformers save_pretrained or safetensors.torch.save_file).`},
      )
    }
    return g
  }
  const callGlobal = (fn: unknown, args: unknown): unknown => {
    if (!(args instanceof PyTuple)) fail(`REDUCE arguments are a ${describePyValue(args)}, not a tuple`)
    const g = fn as PyGlobal
    if (fn === null || typeof fn !== 'object' || typeof g.call !== 'function') fail(`REDUCE on a ${describePyValue(fn)}, which is not an allowed callable`)
    try {
      return g.call!((args as PyTuple).items)
    } catch (error) {
      if (error instanceof InvalidInputError) throw error
      return fail(`${g.module}.${g.name}: ${(error as Error).message}`)
    }
  }
  const setItems = (dict: unknown, kv: unknown[]): void => {
    if (!(dict instanceof PyDict)) fail(`SETITEM(S) on a ${describePyValue(dict)}, not a dict`)
    if (kv.length % 2) fail('SETITEMS with an odd number of items')
    for (let i = 0; i < kv.length; i += 2) (dict as PyDict).map.set(kv[i], kv[i + 1])
  }

  for (;;) {
    opAt = pos
    if (pos >= bytes.length) fail('truncated: the pickle ends without a STOP opcode')
    const op = bytes[pos++]
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5')
        break
      case 0x95: // FRAME: a length prefix only
        u64()
        break
      case 0x2e: // STOP
        return pop()
      case 0x28: // MARK
        stack.push(MARK)
        break
      case 0x30: // POP
        if (stack.length && stack[stack.length - 1] === MARK) stack.pop()
        else pop()
        break
      case 0x31: // POP_MARK
        popMark()
        break
      case 0x32: // DUP
        stack.push(top())
        break
      case 0x4e: // NONE
        stack.push(null)
        break
      case 0x88: // NEWTRUE
        stack.push(true)
        break
      case 0x89: // NEWFALSE
        stack.push(false)
        break
      case 0x4b: // BININT1
        stack.push(u8())
        break
      case 0x4d: // BININT2
        stack.push(u16())
        break
      case 0x4a: // BININT
        stack.push(i32())
        break
      case 0x49: {
        // INT (text; "00"/"01" are False/True)
        const s = line().trim()
        if (s === '00') stack.push(false)
        else if (s === '01') stack.push(true)
        else if (/^[-+]?\d+$/.test(s)) stack.push(Number(s))
        else fail(`INT argument ${previewValue(s)} is not an integer`)
        break
      }
      case 0x4c: {
        // LONG (text, trailing L)
        const s = line().trim().replace(/L$/, '')
        if (!/^[-+]?\d+$/.test(s)) fail(`LONG argument ${previewValue(s)} is not an integer`)
        const v = BigInt(s)
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v)
        break
      }
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        const n = op === 0x8a ? u8() : u32()
        if (n > 64) fail(`a ${n}-byte integer is too large`)
        const b = take(n)
        let v = 0n
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i])
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n)
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v)
        break
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8)
        stack.push(dv.getFloat64(pos, false))
        pos += 8
        break
      case 0x46: {
        // FLOAT (text)
        const s = line().trim()
        const v = Number(s)
        if (Number.isNaN(v) && !/nan/i.test(s)) fail(`FLOAT argument ${previewValue(s)} is not a number`)
        stack.push(v)
        break
      }
      case 0x58: // BINUNICODE
        stack.push(text(take(u32())))
        break
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(take(u8())))
        break
      case 0x8d: // BINUNICODE8
        stack.push(text(take(u64())))
        break
      case 0x56: // UNICODE (raw-unicode-escape text); state dict keys are ASCII
        stack.push(line())
        break
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(u8())))
        break
      case 0x54: // BINSTRING
        stack.push(latin1.decode(take(u32())))
        break
      case 0x53: {
        // STRING (quoted repr)
        const s = line().trim()
        if (s.length < 2 || s[0] !== s[s.length - 1] || (s[0] !== "'" && s[0] !== '"')) fail(`STRING argument ${previewValue(s)} is not quoted`)
        stack.push(s.slice(1, -1))
        break
      }
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()))
        break
      case 0x42: // BINBYTES
        stack.push(take(u32()))
        break
      case 0x8e: // BINBYTES8
        stack.push(take(u64()))
        break
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]))
        break
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]))
        break
      case 0x86: {
        // TUPLE2
        const b = pop()
        const a = pop()
        stack.push(new PyTuple([a, b]))
        break
      }
      case 0x87: {
        // TUPLE3
        const c = pop()
        const b = pop()
        const a = pop()
        stack.push(new PyTuple([a, b, c]))
        break
      }
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()))
        break
      case 0x5d: // EMPTY_LIST
        stack.push([])
        break
      case 0x6c: // LIST
        stack.push(popMark())
        break
      case 0x61: {
        // APPEND
        const v = pop()
        const list = top()
        if (!Array.isArray(list)) fail(`APPEND to a ${describePyValue(list)}, not a list`)
        ;(list as unknown[]).push(v)
        break
      }
      case 0x65: {
        // APPENDS
        const items = popMark()
        const list = top()
        if (!Array.isArray(list)) fail(`APPENDS to a ${describePyValue(list)}, not a list`)
        // One push per item: a spread of 300,000 items overflows the call stack (arguments live on it).
        for (const item of items) (list as unknown[]).push(item)
        break
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict())
        break
      case 0x64: {
        // DICT
        const d = new PyDict()
        setItems(d, popMark())
        stack.push(d)
        break
      }
      case 0x73: {
        // SETITEM
        const v = pop()
        const k = pop()
        setItems(top(), [k, v])
        break
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark()
        setItems(top(), kv)
        break
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set<unknown>())
        break
      case 0x90: {
        // ADDITEMS
        const items = popMark()
        const set = top()
        if (!(set instanceof Set)) fail(`ADDITEMS to a ${describePyValue(set)}, not a set`)
        for (const i of items) (set as Set<unknown>).add(i)
        break
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()))
        break
      case 0x70: // PUT
        memo.set(Number(line()), top())
        break
      case 0x71: // BINPUT
        memo.set(u8(), top())
        break
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top())
        break
      case 0x94: // MEMOIZE
        memo.set(memo.size, top())
        break
      case 0x67: // GET
        stack.push(memoGet(Number(line())))
        break
      case 0x68: // BINGET
        stack.push(memoGet(u8()))
        break
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()))
        break
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line()
        const name = line()
        stack.push(lookupGlobal(module, name))
        break
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop()
        const module = pop()
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings')
        stack.push(lookupGlobal(module as string, name as string))
        break
      }
      case 0x69: {
        // INST "module\nname\n": builds an instance of a class; allowed only for allow-listed callables
        const module = line()
        const name = line()
        const g = lookupGlobal(module, name)
        stack.push(callGlobal(g, new PyTuple(popMark())))
        break
      }
      case 0x6f: {
        // OBJ: MARK cls args...
        const items = popMark()
        if (items.length === 0) fail('OBJ without a class')
        stack.push(callGlobal(items[0], new PyTuple(items.slice(1))))
        break
      }
      case 0x52: // REDUCE
      case 0x81: {
        // NEWOBJ
        const args = pop()
        const fn = pop()
        stack.push(callGlobal(fn, args))
        break
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop()
        const args = pop()
        const cls = pop()
        if (!(kwargs instanceof PyDict) || kwargs.map.size) fail('NEWOBJ_EX with keyword arguments is not supported')
        stack.push(callGlobal(cls, args))
        break
      }
      case 0x62: {
        // BUILD
        pop() // state
        const obj = top()
        if (!buildable(obj)) fail(`BUILD on a ${describePyValue(obj)}: only dict state is accepted`)
        break
      }
      case 0x51: {
        // BINPERSID
        const pid = pop()
        if (!options.persistentLoad) fail('a persistent id, but this file kind has no external data')
        stack.push(options.persistentLoad!(pid))
        break
      }
      case 0x50: {
        // PERSID (text)
        const pid = line()
        if (!options.persistentLoad) fail('a persistent id, but this file kind has no external data')
        stack.push(options.persistentLoad!(pid))
        break
      }
      case 0x82:
      case 0x83:
      case 0x84:
        fail('EXT opcodes (the copyreg extension registry) are not allowed')
        break
      case 0x96:
      case 0x97:
      case 0x98:
        fail('out-of-band buffers (protocol 5) are not supported')
        break
      default:
        fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')} (not a pickle, or corrupt)`)
    }
  }
}
