/**
 * Reading one YAML file the way `validate` needs it: every failure (unreadable, binary, too big, syntax error,
 * duplicate key, alias bomb, absurd nesting) becomes a `yaml-syntax` diagnostic rather than an exception, and the
 * parsed document keeps source ranges so later rules can point at the line and column of any node.
 */
import {readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'

import jsYaml from 'js-yaml'
import type {Document, LineCounter, Node} from 'yaml'

type YamlModule = typeof import('yaml')
let yamlModule: YamlModule | undefined
/**
 * yaml's Document API, loaded on first use: a clean tree is read by the fast path alone, and not loading the
 * module saves a tenth of a second of every run. Its node predicates use global symbols, so nodes from this
 * (CommonJS) instance are recognised by the ESM one that fix.ts imports.
 */
export function yamlLib(): YamlModule {
  return (yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule)
}

import type {FixableDiagnostic} from './diagnostic.js'
import {indentQuotedContinuations, lenientWarning} from './yaml-lenient.js'

/** Files above this are never parsed (the asset folder limit is 1 MB anyway; `file-too-large` reports them). */
export const MAX_YAML_BYTES = 1024 * 1024
/** Deeper than this is not a spec but an attack or an accident. */
export const MAX_YAML_DEPTH = 100
/** Aliases resolved per document (yaml's own resource-exhaustion guard). */
export const MAX_ALIAS_COUNT = 100

export type YamlPath = Array<string | number>

export interface YamlFile {
  /** The path as reported in diagnostics. */
  file: string
  text: string
  doc?: Document.Parsed
  lineCounter: LineCounter
  /** The plain JS value; undefined when the file could not be read or parsed. */
  data?: unknown
  /** yaml-syntax diagnostics (errors and warnings). */
  problems: FixableDiagnostic[]
  /** Why the file was not parsed at all, when it was not. */
  skipped?: 'missing' | 'too-large' | 'unreadable' | 'outside'
  /** True when `data` came from the fast path and `doc` is built only on first use. */
  lazyDoc?: boolean
}

function problem(file: string, message: string, line = 1, column = 1): FixableDiagnostic {
  return {rule: 'yaml-syntax', severity: 'error', message, file, line, column}
}

/** The offset of the first byte that cannot be in YAML text (NUL, or not UTF-8), if any. */
function binaryOffset(buf: Buffer): number | undefined {
  if (buf.indexOf(0) < 0) {
    try {
      new TextDecoder('utf-8', {fatal: true}).decode(buf)
      return undefined
    } catch {
      // fall through to find the offending byte
    }
  }
  for (let i = 0; i < buf.length; ) {
    const b = buf[i]
    if (b === 0) return i
    const n = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0
    if (n === 0) return i
    for (let k = 1; k < n; k++) if ((buf[i + k] ?? 0) >> 6 !== 2) return i
    i += n
  }
  return 0
}

/** Indentation beyond which a line can only be part of a pathological nesting. */
const MAX_INDENT = 4 * MAX_YAML_DEPTH

/** A line starting with this many spaces, `-` and `?` is the least that 401 columns or 101 compact entries need. */
const DEEP_LINE_START = new RegExp(`^[ ?-]{${Math.min(MAX_INDENT + 1, 2 * MAX_YAML_DEPTH + 1)}}`, 'm')

/**
 * Whether the scan below could find anything: with at most MAX_YAML_DEPTH flow openers in the whole text and no
 * line starting with DEEP_LINE_START, it cannot. Two native searches instead of a loop over every character.
 */
function mayNestTooDeep(text: string): boolean {
  let openers = 0
  for (const ch of ['[', '{']) {
    for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) if (++openers > MAX_YAML_DEPTH) return true
  }
  return DEEP_LINE_START.test(text)
}

/**
 * A cheap scan for nesting before parsing: yaml's composer recurses per level, and a 1 MB file of `[[[[` or
 * `- - - -` takes it tens of seconds to overflow. Counts unclosed flow brackets outside quotes and comments,
 * compact block indicators (`- `, `? `) at the start of a line, and indentation. Errs only on the side of refusing
 * absurd files: no real spec comes near these limits. Returns the 0-based offset where the limit was passed.
 */
export function nestingTooDeep(text: string): {offset: number; what: string} | undefined {
  if (!mayNestTooDeep(text)) return undefined
  let flow = 0
  let quote = ''
  let lineStart = true
  let indent = 0
  let compact = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\n') {
      lineStart = true
      indent = 0
      compact = 0
      continue
    }
    if (quote) {
      if (quote === '"' && c === '\\') i++
      else if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++
        else quote = ''
      }
      continue
    }
    if (lineStart) {
      if (c === ' ') {
        if (++indent > MAX_INDENT) return {offset: i, what: `indented more than ${MAX_INDENT} columns`}
        continue
      }
      if ((c === '-' || c === '?') && (text[i + 1] === ' ' || text[i + 1] === '\n')) {
        if (++compact > MAX_YAML_DEPTH) return {offset: i, what: `more than ${MAX_YAML_DEPTH} nested block entries on one line`}
        i++
        continue
      }
      lineStart = false
    }
    if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === '\n')) {
      const nl = text.indexOf('\n', i)
      if (nl < 0) break
      i = nl - 1
    } else if (c === '"' || c === "'") {
      // A quote opens a quoted scalar only where a scalar starts; inside a plain scalar it is just a character.
      const prev = text[i - 1]
      if (prev === undefined || prev === ' ' || prev === '[' || prev === '{' || prev === ',' || prev === ':' || prev === '\n') quote = c
    } else if (c === '[' || c === '{') {
      if (++flow > MAX_YAML_DEPTH) return {offset: i, what: `more than ${MAX_YAML_DEPTH} nested flow collections`}
    } else if ((c === ']' || c === '}') && flow > 0) flow--
  }
  return undefined
}

/** Depth of the node tree, iteratively (a recursive walk is what a deep file would overflow). */
function nodeDepth(root: unknown): number {
  let max = 0
  const stack: Array<[unknown, number]> = [[root, 1]]
  while (stack.length) {
    const [node, depth] = stack.pop()!
    if (depth > max) max = depth
    if (depth > MAX_YAML_DEPTH) return depth
    if (yamlLib().isMap(node) || yamlLib().isSeq(node)) {
      for (const item of node.items) {
        if (yamlLib().isPair(item)) {
          stack.push([item.key, depth + 1], [item.value, depth + 1])
        } else stack.push([item, depth + 1])
      }
    }
  }
  return max
}

/** Depth of plain data, iteratively. */
function dataDepth(root: unknown): number {
  let max = 0
  const stack: Array<[unknown, number]> = [[root, 1]]
  while (stack.length) {
    const [v, depth] = stack.pop()!
    if (depth > max) max = depth
    if (depth > MAX_YAML_DEPTH) return depth
    if (Array.isArray(v)) for (const x of v) stack.push([x, depth + 1])
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) stack.push([x, depth + 1])
  }
  return max
}

/** Anchors, aliases, tags, merge keys: what the fast path leaves to the full parser. */
const NEEDS_FULL_PARSER = /[&*!]|<</

/**
 * The fast path: js-yaml (YAML 1.2 core schema, duplicate keys refused) reads a clean file several times faster
 * than yaml's Document API. It is trusted only for plain files it accepts; anything else goes to the full parser,
 * which also builds the positioned Document that diagnostics need — lazily, for the files that have any.
 */
function fastLoad(text: string): {data: unknown} | undefined {
  if (NEEDS_FULL_PARSER.test(text)) return undefined
  try {
    const data = jsYaml.load(text, {schema: jsYaml.CORE_SCHEMA, json: false}) ?? null
    return dataDepth(data) > MAX_YAML_DEPTH ? undefined : {data}
  } catch {
    return undefined
  }
}

/** The first line of a yaml error message, without the " at line X, column Y" the diagnostic carries anyway. */
function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
}

/**
 * The text of `path` (reported as `file`) with the guards every parse needs: a regular file, at most
 * MAX_YAML_BYTES, UTF-8 without NUL. Never throws; a missing file gives no problem (the caller knows whether the
 * file was required). `validate FILE.yaml` uses it alone, before the Azure ML YAML check parses the text once.
 */
export function readYamlText(
  path: string,
  file = path,
  knownSize?: number,
): {text: string; problems: []; skipped?: undefined} | {text?: undefined; problems: FixableDiagnostic[]; skipped?: YamlFile['skipped']} {
  let size: number
  if (knownSize !== undefined) size = knownSize
  else try {
    const st = statSync(path)
    if (!st.isFile()) {
      return {problems: [problem(file, `${file} is not a regular file`)], skipped: 'unreadable'}
    }
    size = st.size
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return {problems: [], skipped: 'missing'}
    return {problems: [problem(file, `cannot read ${file}: ${(err as Error).message}`)], skipped: 'unreadable'}
  }
  if (size > MAX_YAML_BYTES) {
    // Not parsed: the caller reports `file-too-large`, and nothing this big is a spec.
    return {problems: [], skipped: 'too-large'}
  }
  let buf: Buffer
  try {
    buf = readFileSync(path)
  } catch (err) {
    return {problems: [problem(file, `cannot read ${file}: ${(err as Error).message}`)], skipped: 'unreadable'}
  }
  const bad = binaryOffset(buf)
  if (bad !== undefined) {
    return {problems: [problem(file, `${file} is binary, not YAML text (byte ${bad} is ${buf[bad] === 0 ? 'NUL' : 'not UTF-8'})`)]}
  }
  return {text: buf.toString('utf8'), problems: []}
}

/**
 * Reads and parses `path` (reported as `file`). Never throws: a missing or broken file gives `problems` and no
 * `data`. A missing file gives no problem at all (the caller knows whether the file was required).
 */
export function loadYamlFile(path: string, file = path, knownSize?: number): YamlFile {
  let counter: LineCounter | undefined
  const out = {file, text: '', problems: []} as unknown as YamlFile
  // The line counter is filled by the parse: both are created on first use (see the fast path below).
  Object.defineProperty(out, 'lineCounter', {enumerable: true, get: () => (counter ??= new (yamlLib().LineCounter)())})
  const read = readYamlText(path, file, knownSize)
  if (read.text === undefined) {
    out.problems.push(...read.problems)
    if (read.skipped) out.skipped = read.skipped
    return out
  }
  out.text = read.text
  const deep = nestingTooDeep(out.text)
  if (deep) {
    // The line counter is filled by the parser, which is not run: count lines here.
    const before = out.text.slice(0, deep.offset)
    const line = before.split('\n').length
    const column = deep.offset - before.lastIndexOf('\n')
    out.problems.push(problem(file, `${file} is nested too deeply (${deep.what}); not parsed`, line, column))
    return out
  }
  // Read as PyYAML/ruamel (the real validator) would where only YAML 1.2 strictness differs, with a warning.
  const lenient = indentQuotedContinuations(out.text)
  // Only when YAML 1.2 refuses the text as it is and accepts it re-indented: nothing else is read differently.
  const strictOk = (text: string) => yamlLib().parseAllDocuments(text, {uniqueKeys: false}).every((d) => !('errors' in d) || d.errors.length === 0)
  if (lenient && !strictOk(out.text) && strictOk(lenient.text)) {
    out.text = lenient.text
    for (const line of lenient.scalarLines) out.problems.push({...problem(file, lenientWarning(file), line, 1), severity: 'warning'})
  }
  const fast = fastLoad(out.text)
  if (fast) {
    out.data = fast.data
    out.lazyDoc = true
    let lazy: Document.Parsed | undefined
    const text = out.text
    Object.defineProperty(out, 'doc', {
      enumerable: true,
      get: () => (lazy ??= yamlLib().parseDocument(text, {lineCounter: out.lineCounter, uniqueKeys: true, prettyErrors: false})),
    })
    return out
  }
  let doc: Document.Parsed
  try {
    doc = yamlLib().parseDocument(out.text, {lineCounter: out.lineCounter, uniqueKeys: true, prettyErrors: false})
  } catch (err) {
    out.problems.push(problem(file, `${file} cannot be parsed: ${(err as Error).message}`))
    return out
  }
  out.doc = doc
  const lineCounter = out.lineCounter
  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0])
    if (e.code === 'DUPLICATE_KEY') {
      const key = /^["']?([^:"'\n]*)/.exec(out.text.slice(e.pos[0], e.pos[0] + 200))?.[1]?.trim()
      out.problems.push(problem(file, `duplicate key${key ? ` '${key}'` : ''}: a mapping may state each key once`, pos.line, pos.col))
    } else out.problems.push(problem(file, `YAML syntax error: ${firstLine(e.message)}`, pos.line, pos.col))
  }
  for (const w of doc.warnings) {
    const pos = lineCounter.linePos(w.pos[0])
    out.problems.push({...problem(file, `YAML warning: ${firstLine(w.message)}`, pos.line, pos.col), severity: 'warning'})
  }
  if (doc.errors.length) return out
  const depth = nodeDepth(doc.contents)
  if (depth > MAX_YAML_DEPTH) {
    out.problems.push(problem(file, `${file} is nested deeper than ${MAX_YAML_DEPTH} levels; not a spec file`))
    return out
  }
  try {
    out.data = doc.toJS({maxAliasCount: MAX_ALIAS_COUNT})
  } catch (err) {
    const msg = (err as Error).message
    const why = /alias/i.test(msg) ? `too many aliases (more than ${MAX_ALIAS_COUNT} resolved: an alias bomb?)` : msg
    out.problems.push(problem(file, `${file} cannot be loaded: ${why}`))
  }
  return out
}

export interface Position {
  line: number
  column: number
}

/** One compiled pattern per key asked for (`name` for every asset): compiling it per call cost more than the search. */
const TOP_LEVEL_KEY_RE = new Map<string, RegExp>()

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * A top-level key of a block mapping found by its line, without building the Document: the rules ask for
 * `name` and `tags` of every spec, and a full parse per file only to point at line 2 would double the run time.
 * Used only for files the fast path accepted (no duplicate keys, so the first match is the key). Undefined when
 * the value does not start on the key's line and the Document must decide.
 */
function topLevelKey(text: string, key: string, prefer: 'key' | 'value'): Position | undefined {
  let re = TOP_LEVEL_KEY_RE.get(key)
  if (!re) {
    re = new RegExp(`^(?:${escapeRe(key)}|"${escapeRe(key)}"|'${escapeRe(key)}')[ \\t]*:(?=[ \\t]|\\r?$)`, 'm')
    TOP_LEVEL_KEY_RE.set(key, re)
  }
  const m = re.exec(text)
  if (!m) return undefined
  let line = 1
  for (let i = text.indexOf('\n'); i >= 0 && i < m.index; i = text.indexOf('\n', i + 1)) line++
  if (prefer === 'key') return {line, column: 1}
  const rest = text.slice(m.index + m[0].length, text.indexOf('\n', m.index) < 0 ? undefined : text.indexOf('\n', m.index))
  const lead = /^[ \t]*/.exec(rest)![0].length
  if (lead === rest.length || rest[lead] === '#' || rest[lead] === '\r') return undefined
  return {line, column: m[0].length + lead + 1}
}

function keyText(key: unknown): string | undefined {
  if (yamlLib().isScalar(key)) return String(key.value)
  return undefined
}

/**
 * The line and column of the node at `path` (keys and indices). With `prefer: 'key'` the position of the map key
 * is returned for the last segment (for "missing"/"unknown property" messages). When the path does not exist, the
 * deepest existing node is used, so a diagnostic always points somewhere sensible.
 */
export function locate(yf: YamlFile, path: YamlPath, prefer: 'key' | 'value' = 'value'): Position {
  if (yf.lazyDoc && path.length === 1 && typeof path[0] === 'string') {
    const quick = topLevelKey(yf.text, path[0], prefer)
    if (quick) return quick
  }
  const doc = yf.doc
  if (!doc?.contents) return {line: 1, column: 1}
  const at = (offset: number | undefined): Position => {
    if (offset === undefined) return {line: 1, column: 1}
    const p = yf.lineCounter.linePos(offset)
    return {line: p.line, column: p.col}
  }
  let node: unknown = doc.contents
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]
    const last = i === path.length - 1
    if (yamlLib().isAlias(node)) node = node.resolve(doc)
    if (yamlLib().isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg))
      if (!pair) return at((node as Node).range?.[0])
      const keyNode = pair.key as Node | null
      if ((last && prefer === 'key') || pair.value === null || pair.value === undefined) return at(keyNode?.range?.[0])
      node = pair.value
    } else if (yamlLib().isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg]
      if (item === undefined || item === null) return at((node as Node).range?.[0])
      node = item
    } else {
      break
    }
  }
  return at((node as Node | undefined)?.range?.[0])
}

/** The node at `path` (for --fix), or undefined. */
export function nodeAt(yf: YamlFile, path: YamlPath): Node | undefined {
  const n = yf.doc?.getIn(path, true)
  return n && typeof n === 'object' && 'range' in (n as object) ? (n as Node) : undefined
}
