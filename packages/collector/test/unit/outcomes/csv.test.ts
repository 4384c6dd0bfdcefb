import { describe, expect, it } from 'vitest'
import { CsvSyntaxError, formatCsv, parseCsv, parseCsvTable } from '../../../src/outcomes/csv.js'

describe('parseCsv (RFC 4180)', () => {
  it('reads plain fields and LF/CRLF/CR line ends', () => {
    expect(parseCsv('a,b\r\nc,d\ne,f\rg,h').map((r) => r.fields)).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f'], ['g', 'h']])
  })

  it('strips a UTF-8 BOM', () => {
    expect(parseCsv('\uFEFFdate,amount\n').map((r) => r.fields)).toEqual([['date', 'amount']])
  })

  it('handles quotes, escaped quotes, commas and newlines inside quotes', () => {
    const text = 'name,note\r\n"Acme, Inc.","He said ""hi""\r\nthen left"\r\nx,""\r\n'
    const rows = parseCsv(text)
    expect(rows.map((r) => r.fields)).toEqual([['name', 'note'], ['Acme, Inc.', 'He said "hi"\r\nthen left'], ['x', '']])
    // The record after a quoted newline starts on physical line 4.
    expect(rows.map((r) => r.line)).toEqual([1, 2, 4])
  })

  it('keeps empty trailing fields and skips blank lines', () => {
    const rows = parseCsv('a,b,\n\n\nc,,\n')
    expect(rows.map((r) => r.fields)).toEqual([['a', 'b', ''], ['c', '', '']])
    expect(rows.map((r) => r.line)).toEqual([1, 4])
  })

  it('reports an unterminated quote with the line it started on', () => {
    expect(() => parseCsv('a\n"open,\nmore')).toThrowError(CsvSyntaxError)
    try { parseCsv('a\n"open,\nmore') } catch (e) { expect((e as CsvSyntaxError).line).toBe(2) }
  })

  it('builds a header-keyed table with lower-cased trimmed names', () => {
    const t = parseCsvTable(' Date ,SOURCE,amount\n2026-01-01,google\n')
    expect(t.header).toEqual(['date', 'source', 'amount'])
    expect(t.rows).toEqual([{ line: 2, values: { date: '2026-01-01', source: 'google', amount: '' } }])
  })
})

describe('formatCsv', () => {
  it('round-trips awkward values', () => {
    const rows = [['key', 'n'], ['a "quoted", value\nwith newline', 1.5], ['', null]]
    const back = parseCsv(formatCsv(rows)).map((r) => r.fields)
    expect(back).toEqual([['key', 'n'], ['a "quoted", value\nwith newline', '1.5'], ['', '']])
  })

  it('neutralises spreadsheet formulas but not negative numbers', () => {
    expect(formatCsv([['=HYPERLINK("x")', '-12.5', '+cmd', '@SUM(A1)']])).toBe(`"'=HYPERLINK(""x"")",-12.5,'+cmd,'@SUM(A1)\r\n`)
  })
})
