import {describe, expect, it} from 'vitest'

import {csvRow, parseCsv} from '../../src/runner/csv.js'

describe('CSV', () => {
  it('parses quoted fields, doubled quotes, CRLF, a BOM, blank lines, and a last row without newline', () => {
    const text = '\uFEFFid,image\r\n"a,b","x""y"\r\n\r\n"multi\nline",z\nlast,w'
    const records = parseCsv(text, 'in.csv')
    expect(records.map((r) => r.fields)).toEqual([
      ['id', 'image'],
      ['a,b', 'x"y'],
      ['multi\nline', 'z'],
      ['last', 'w'],
    ])
    expect(records.map((r) => r.line)).toEqual([1, 2, 4, 6])
  })

  it('names the line of a quote never closed', () => {
    expect(() => parseCsv('id,image\n1,"abc\n2,def\n', 'in.csv')).toThrow('in.csv: line 2: a quoted field is never closed')
  })

  it('writes what it reads back', () => {
    const values = ['plain', 'with,comma', 'with "quote"', ' lead', 'new\nline', '']
    expect(parseCsv(csvRow(values), 'x').map((r) => r.fields)).toEqual([values])
    expect(csvRow(['a', 'b'])).toBe('a,b\n')
  })
})
