/**
 * Where YAML 1.2 is stricter than the parsers the real azureml-assets validator uses (PyYAML, ruamel), and nothing
 * else differs: a multi-line quoted scalar whose continuation lines are indented no deeper than its mapping (the
 * legacy Prism and Virchow2 specs' `licenseDescription`, continued at column 0). PyYAML folds those lines into the
 * string; YAML 1.2 (and the `yaml` package) call it an unterminated quote. validate reads such a file as the real CI
 * does, after indenting the continuation lines, and warns so that the author can fix it.
 */

export interface LenientReading {
  /** The text with every offending continuation line indented just enough; lines are not added or removed. */
  text: string
  /** 1-based lines of the scalars (where each quote opens) that needed it. */
  scalarLines: number[]
}

/** The last non-blank characters before which a quote opens a quoted scalar (elsewhere it is part of a plain one). */
const OPENS_AFTER = new Set([':', '-', '[', '{', ',', '?'])

/** True when a quote at `i` starts a scalar: first on its line, or after `key:`, `- `, `[`, `{`, `,`. */
function opensScalar(text: string, i: number): boolean {
  let j = i - 1
  while (text[j] === ' ' || text[j] === '\t') j--
  return j < 0 || text[j] === '\n' || (OPENS_AFTER.has(text[j]) && j < i - 1) || text[j] === '[' || text[j] === '{' || text[j] === ','
}

/** The indentation (spaces) of the line holding `offset`. */
function indentOfLineAt(text: string, offset: number): number {
  const start = text.lastIndexOf('\n', offset - 1) + 1
  let n = 0
  while (text[start + n] === ' ') n++
  return n
}

/**
 * The text with under-indented continuation lines of quoted scalars indented one column deeper than the line the
 * scalar starts on, or undefined when there are none (the text is left to the strict parser as it is).
 */
export function indentQuotedContinuations(text: string): LenientReading | undefined {
  const out: string[] = []
  const scalarLines: number[] = []
  let line = 1
  let quote = ''
  let need = 0
  let openLine = 0
  let fixedThis = false
  let last = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\n') {
      line++
      if (!quote) continue
      // Inside a quoted scalar: the next line must be indented more than the line the scalar started on.
      let j = i + 1
      while (text[j] === ' ') j++
      const blank = text[j] === '\n' || text[j] === '\r' || j >= text.length
      if (!blank && j - (i + 1) < need) {
        out.push(text.slice(last, i + 1), ' '.repeat(need - (j - (i + 1))))
        last = i + 1
        if (!fixedThis) {
          scalarLines.push(openLine)
          fixedThis = true
        }
      }
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
    if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === '\n')) {
      const nl = text.indexOf('\n', i)
      if (nl < 0) break
      i = nl - 1
    } else if ((c === '"' || c === "'") && opensScalar(text, i)) {
      quote = c
      need = indentOfLineAt(text, i) + 1
      openLine = line
      fixedThis = false
    }
  }
  if (scalarLines.length === 0) return undefined
  out.push(text.slice(last))
  return {text: out.join(''), scalarLines}
}

/** The warning for one such scalar. */
export function lenientWarning(file: string): string {
  return `${file}: a multi-line quoted string continues on lines indented no deeper than its key; PyYAML and ruamel (the azureml-assets validator) accept it, YAML 1.2 does not: indent the continuation lines`
}
