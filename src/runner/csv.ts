/**
 * RFC 4180 CSV, the subset the batch runner needs: quoted fields with doubled quotes, CRLF or LF rows, a header row.
 */
import {InvalidInputError} from '../core/errors.js'

/** One parsed record: its fields and the 1-based line it starts on (for messages). */
export interface CsvRecord {
  fields: string[]
  line: number
}

/** Splits CSV text into records; a quote left open is an error naming the line it opened on. */
export function parseCsv(text: string, source: string): CsvRecord[] {
  const records: CsvRecord[] = []
  let fields: string[] = []
  let field = ''
  let line = 1
  let recordLine = 1
  let i = 0
  const n = text.length
  if (text.charCodeAt(0) === 0xfeff) i = 1 // a UTF-8 byte-order mark, as Excel writes
  let quotedAt = -1
  const endRecord = (): void => {
    fields.push(field)
    // A blank line is no record.
    if (!(fields.length === 1 && fields[0] === '')) records.push({fields, line: recordLine})
    fields = []
    field = ''
  }
  while (i < n) {
    const c = text[i]
    if (quotedAt >= 0) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i += 2
          continue
        }
        quotedAt = -1
        i++
        continue
      }
      if (c === '\n') line++
      field += c
      i++
      continue
    }
    if (c === '"' && field === '') {
      quotedAt = line
      i++
    } else if (c === ',') {
      fields.push(field)
      field = ''
      i++
    } else if (c === '\n' || c === '\r') {
      endRecord()
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1
      line++
      recordLine = line
    } else {
      field += c
      i++
    }
  }
  if (quotedAt >= 0) throw new InvalidInputError(`${source}: line ${quotedAt}: a quoted field is never closed`, {file: source})
  if (field !== '' || fields.length > 0) endRecord()
  return records
}

/**
 * The length of the longest prefix of `text` that ends with a whole record (after its line break), scanning quotes
 * as parseCsv does: a line break inside a quoted field ends no record. A file torn mid-record (a killed `batch`) is
 * cut there and nothing else; 0 when no record is complete.
 */
export function completeRecordsLength(text: string): number {
  let end = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    // A doubled quote inside a quoted field toggles twice: it stays quoted, as it should.
    if (c === 0x22) quoted = !quoted
    else if (c === 0x0a && !quoted) end = i + 1
  }
  return end
}

/** A field quoted when it must be (comma, quote, CR/LF, or leading/trailing space). */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

export function csvRow(values: readonly string[]): string {
  return `${values.map(csvField).join(',')}\n`
}
