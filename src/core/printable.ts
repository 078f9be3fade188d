/**
 * The one sanitiser of human output: every value a user or a model author controls (labels, ids, file names, error
 * text quoting them) goes through `printable` before it reaches a terminal, so an ESC sequence cannot clear the
 * screen or recolour it, and a line break or carriage return cannot forge a result line (issue 13, finding 9).
 * Control characters are shown as visible escapes (`\e` as `\x1b`, a line break as `\n`), so what was there stays
 * readable. `--json` output never goes through it: JSON carries the true value, JSON-escaped.
 */

/**
 * C0 controls, DEL, C1 controls (U+0080..U+009F: 8-bit CSI is U+009B), and the Unicode controls that reorder or hide
 * text on a terminal (bidi embeddings, overrides and isolates, zero-width marks, the line and paragraph separators).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/gu

const NAMED: Readonly<Record<string, string>> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

function escapeControl(c: string): string {
  const named = NAMED[c]
  if (named) return named
  const code = c.codePointAt(0) ?? 0
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** `value` with every control character shown as a visible escape: one line, nothing a terminal acts on. */
export function printable(value: string): string {
  return value.replace(CONTROL, escapeControl)
}

/**
 * A message of several lines for a terminal: its line breaks kept (the message's own layout), every other control
 * character shown as an escape. For text whose parts cannot be told apart any more (an error message naming a file);
 * a renderer that has the parts applies `printable` to each.
 */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n')
}
