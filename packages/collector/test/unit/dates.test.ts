import { describe, expect, it } from 'vitest'
import { parseDay, parseIsoTime } from '../../src/ingest/dates.js'

describe('strict dates', () => {
  it('reads ISO 8601 dates and times, with a zone or as UTC', () => {
    expect(parseIsoTime('2026-03-01')).toBe(Date.UTC(2026, 2, 1))
    expect(parseIsoTime('2026-03-01T10:20:30.456Z')).toBe(Date.UTC(2026, 2, 1, 10, 20, 30, 456))
    expect(parseIsoTime('2026-03-01 10:20:30Z')).toBe(Date.UTC(2026, 2, 1, 10, 20, 30))
    expect(parseIsoTime('2026-03-01T10:20+00:00')).toBe(Date.UTC(2026, 2, 1, 10, 20))
    // A time without a zone: refused, unless the caller knows it is UTC.
    expect(parseIsoTime('2026-03-01 10:20:30')).toBeNull()
    expect(parseIsoTime('2026-03-01T10:20', { zoneless: 'utc' })).toBe(Date.UTC(2026, 2, 1, 10, 20))
    expect(parseIsoTime('2026-03-01T10:20:30+02:00')).toBe(Date.UTC(2026, 2, 1, 8, 20, 30))
    expect(parseIsoTime('2026-03-01T10:20:30-0530')).toBe(Date.UTC(2026, 2, 1, 15, 50, 30))
    expect(parseIsoTime('2026-03-01T10:20:30.123456789Z')).toBe(Date.UTC(2026, 2, 1, 10, 20, 30, 123))
  })

  it('refuses what Date.parse would guess at, and days that do not exist', () => {
    for (const s of ["' OR '1'='1", 'hello 7', 'March 1, 2026', '1 2026', '2026-02-30', '2026-13-01', '2026-03-01T24:00', '2026-03-01T10:20:30+25:00', '2026-3-1', '', '2026-03-01T', '7']) {
      expect(parseIsoTime(s), s).toBeNull()
    }
    expect(parseDay('2024-02-29')).toBe(Date.UTC(2024, 1, 29))
    expect(parseDay('2026-02-29')).toBeNull()
    expect(parseDay('2026-03-01T00:00Z')).toBeNull()
  })
})
