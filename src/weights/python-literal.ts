/**
 * The Python literals a `.npy` header is written in, read the way `ast.literal_eval` reads them (numpy.lib.format
 * calls it on the header): dicts, tuples, lists, strings (single, double and triple quoted, with escapes, adjacent
 * ones joined), integers (decimal, 0x/0o/0b, underscores, a sign), floats, True/False/None, `#` comments and
 * whitespace anywhere between tokens. Anything else (a name, a call, an operator, text after the value) is a syntax
 * error at a character offset, as literal_eval refuses it. Sets and complex numbers, which no header holds, are
 * refused too. Iterative over tokens with an explicit stack depth limit: a hostile header cannot nest without bound.
 */

export type PyValue = string | number | bigint | boolean | null | PyTuple | PyValue[] | PyDict

/** A tuple, told apart from a list (numpy wants `shape` to be a tuple). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A dict literal: keys in order (a repeated key keeps its last value, as Python does). */
export class PyDict {
  readonly entries = new Map<string | number | bigint | boolean | null, PyValue>()
}

export class PyLiteralError extends Error {
  constructor(
    message: string,
    /** The character offset in the text. */
    readonly offset: number,
  ) {
    super(message)
  }
}

/** Containers nested deeper than this are refused (a header holds two levels). */
const MAX_DEPTH = 32

/** Parses `text` as one Python literal (leading spaces and tabs allowed, as literal_eval strips them). */
export function parsePythonLiteral(text: string): PyValue {
  const p = new Parser(text)
  const value = p.value(0)
  p.skip()
  if (p.pos < text.length) throw new PyLiteralError(`unexpected '${text[p.pos]}' after the value`, p.pos)
  return value
}

class Parser {
  pos = 0
  constructor(private readonly s: string) {}

  /** Skips whitespace, line continuations and comments. */
  skip(): void {
    const s = this.s
    while (this.pos < s.length) {
      const c = s[this.pos]
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') this.pos++
      else if (c === '\\' && (s[this.pos + 1] === '\n' || s[this.pos + 1] === '\r')) this.pos += 2
      else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++
      } else break
    }
  }

  private fail(message: string, at = this.pos): never {
    throw new PyLiteralError(message, at)
  }

  value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} levels deep`)
    this.skip()
    const s = this.s
    const c = s[this.pos]
    if (c === undefined) this.fail('the text ends where a value should be')
    if (c === '{') return this.dict(depth)
    if (c === '(') return this.parenthesised(depth)
    if (c === '[') return this.sequence(depth, ']').items
    if (c === "'" || c === '"' || ((c === 'u' || c === 'U') && (s[this.pos + 1] === "'" || s[this.pos + 1] === '"'))) return this.strings()
    if (c === '-' || c === '+' || c === '.' || (c >= '0' && c <= '9')) return this.number()
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos, this.pos + 64))?.[0]
    if (word === 'True' || word === 'False' || word === 'None') {
      this.pos += word.length
      return word === 'True' ? true : word === 'False' ? false : null
    }
    return this.fail(word ? `'${word}' is not a literal (names, calls and byte strings are not read)` : `unexpected '${c}'`)
  }

  private dict(depth: number): PyDict {
    const start = this.pos++
    const out = new PyDict()
    for (;;) {
      this.skip()
      if (this.s[this.pos] === '}') {
        this.pos++
        return out
      }
      const keyAt = this.pos
      const key = this.value(depth + 1)
      if (typeof key === 'object' && key !== null) this.fail('a dict key must be a string, number, True, False or None', keyAt)
      this.skip()
      if (this.s[this.pos] !== ':') this.fail(this.pos >= this.s.length ? `the dict opened at ${start} is not closed` : `expected ':' after a dict key`)
      this.pos++
      out.entries.set(key as string, this.value(depth + 1))
      this.skip()
      if (this.s[this.pos] === ',') this.pos++
      else if (this.s[this.pos] !== '}') this.fail(this.pos >= this.s.length ? `the dict opened at ${start} is not closed` : `expected ',' or '}' in a dict`)
    }
  }

  /** `(x)` is x; `()`, `(x,)` and `(x, y)` are tuples. */
  private parenthesised(depth: number): PyValue {
    const {items, comma} = this.sequence(depth, ')')
    return items.length === 1 && !comma ? items[0] : new PyTuple(items)
  }

  private sequence(depth: number, close: string): {items: PyValue[]; comma: boolean} {
    const start = this.pos++
    const items: PyValue[] = []
    let comma = false
    for (;;) {
      this.skip()
      if (this.s[this.pos] === close) {
        this.pos++
        return {items, comma}
      }
      items.push(this.value(depth + 1))
      this.skip()
      if (this.s[this.pos] === ',') {
        this.pos++
        comma = true
      } else if (this.s[this.pos] !== close) this.fail(this.pos >= this.s.length ? `the '${this.s[start]}' at ${start} is not closed` : `expected ',' or '${close}'`)
    }
  }

  /** One or more adjacent string literals, joined. */
  private strings(): string {
    let out = this.string()
    for (;;) {
      const save = this.pos
      this.skip()
      const c = this.s[this.pos]
      if (c === "'" || c === '"' || ((c === 'u' || c === 'U') && (this.s[this.pos + 1] === "'" || this.s[this.pos + 1] === '"'))) out += this.string()
      else {
        this.pos = save
        return out
      }
    }
  }

  private string(): string {
    const s = this.s
    if (s[this.pos] === 'u' || s[this.pos] === 'U') this.pos++
    const start = this.pos
    const q = s[this.pos]
    const triple = s.startsWith(q.repeat(3), this.pos)
    const end = triple ? q.repeat(3) : q
    this.pos += end.length
    let out = ''
    for (;;) {
      if (this.pos >= s.length) this.fail('the string is not closed', start)
      if (s.startsWith(end, this.pos)) {
        this.pos += end.length
        return out
      }
      const c = s[this.pos]
      if (!triple && (c === '\n' || c === '\r')) this.fail('a line break inside a string', this.pos)
      if (c !== '\\') {
        out += c
        this.pos++
        continue
      }
      const e = s[this.pos + 1]
      const simple: Record<string, string> = {'\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': ''}
      if (e !== undefined && e in simple && !(e === '0' && /[0-7]/.test(s[this.pos + 2] ?? ''))) {
        out += simple[e]
        this.pos += 2
        continue
      }
      const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0
      if (hex > 0) {
        const digits = s.slice(this.pos + 2, this.pos + 2 + hex)
        if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) this.fail(`a truncated \\${e} escape`, this.pos)
        const code = Number.parseInt(digits, 16)
        if (code > 0x10ffff) this.fail(`\\${e}${digits} is not a character`, this.pos)
        out += String.fromCodePoint(code)
        this.pos += 2 + hex
        continue
      }
      const octal = /^[0-7]{1,3}/.exec(s.slice(this.pos + 1, this.pos + 4))?.[0]
      if (octal) {
        out += String.fromCharCode(Number.parseInt(octal, 8))
        this.pos += 1 + octal.length
        continue
      }
      // Python keeps an unknown escape as it is (with a warning).
      out += '\\'
      this.pos++
    }
  }

  private number(): number | bigint {
    const s = this.s
    const start = this.pos
    let sign = 1
    while (s[this.pos] === '-' || s[this.pos] === '+') {
      if (s[this.pos] === '-') sign = -sign
      this.pos++
      this.skip()
    }
    const rest = s.slice(this.pos, this.pos + 400)
    const int = /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|[1-9](?:_?[0-9])*|0(?:_?0)*)(?![0-9A-Za-z_.])/.exec(rest)
    if (int) {
      this.pos += int[0].length
      const digits = int[0].replaceAll('_', '')
      const big = BigInt(digits) * BigInt(sign)
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
    }
    const d = '[0-9](?:_?[0-9])*'
    const float = new RegExp(`^(?:${d}\\.(?:${d})?(?:[eE][+-]?${d})?|\\.${d}(?:[eE][+-]?${d})?|${d}[eE][+-]?${d})(?![0-9A-Za-z_.])`).exec(rest)
    if (float) {
      this.pos += float[0].length
      return sign * Number(float[0].replaceAll('_', ''))
    }
    return this.fail('not a number', start)
  }
}
