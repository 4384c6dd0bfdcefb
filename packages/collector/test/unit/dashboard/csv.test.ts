import { describe, expect, it } from 'vitest'
import { csvCell, toCsv } from '../../../src/dashboard/client/csv.js'

describe('dashboard CSV export', () => {
  it('quotes fields with commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell('plain')).toBe('plain')
  })

  it('neutralises spreadsheet formulas by prefixing a quote', () => {
    for (const v of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx']) {
      expect(csvCell(v).replace(/^"/, '').startsWith("'")).toBe(true)
    }
    expect(csvCell('=1,2')).toBe(`"'=1,2"`)
  })

  it('writes numbers as numbers and leaves empty cells for null', () => {
    expect(csvCell(-12.5)).toBe('-12.5')
    expect(csvCell(null)).toBe('')
    expect(csvCell(Number.NaN)).toBe('')
  })

  it('joins rows with CRLF and ends with one', () => {
    expect(toCsv(['k', 'v'], [['a', 1], ['=b', null]])).toBe("k,v\r\na,1\r\n'=b,\r\n")
  })
})
