import { describe, expect, it } from 'vitest'
import { currencyCode, RateBook } from '../../../src/outcomes/currency.js'
import { ClError } from '../../../src/errors.js'

describe('RateBook', () => {
  const book = new RateBook('USD', [
    { date: '2026-01-01', currency: 'EUR', rate: 1.1 },
    { date: '2026-02-01', currency: 'EUR', rate: 1.2 },
    { date: null, currency: 'GBP', rate: 1.25 },
    { date: '2026-03-01', currency: 'GBP', rate: 1.3 },
  ])

  it('uses the latest dated rate on or before the day', () => {
    expect(book.convert(100, 'EUR', '2026-01-15')).toBeCloseTo(110)
    expect(book.convert(100, 'eur', '2026-02-01')).toBeCloseTo(120)
    expect(book.convert(100, 'EUR', '2027-01-01')).toBeCloseTo(120)
  })

  it('falls back to an undated rate', () => {
    expect(book.convert(100, 'GBP', '2026-01-01')).toBeCloseTo(125)
    expect(book.convert(100, 'GBP', '2026-03-02')).toBeCloseTo(130)
  })

  it('leaves the site currency and missing currency alone', () => {
    expect(book.convert(99.99, 'USD', '2020-01-01')).toBe(99.99)
    expect(book.convert(99.99, null, '2020-01-01')).toBe(99.99)
  })

  it('rejects with CL_ERR_NO_FX_RATE rather than summing foreign money', () => {
    const err = (() => { try { book.convert(100, 'EUR', '2025-12-31') } catch (e) { return e } })()
    expect(err).toBeInstanceOf(ClError)
    expect((err as ClError).code).toBe('CL_ERR_NO_FX_RATE')
    expect(() => book.convert(1, 'JPY', '2026-01-01')).toThrowError(/JPY/)
  })

  it('rejects non-ISO codes with CL_ERR_BAD_CURRENCY', () => {
    try { book.convert(1, 'euro', '2026-01-01'); expect.unreachable() } catch (e) { expect((e as ClError).code).toBe('CL_ERR_BAD_CURRENCY') }
    expect(currencyCode(' gbp ')).toBe('GBP')
    expect(currencyCode('US$')).toBeNull()
  })
})
