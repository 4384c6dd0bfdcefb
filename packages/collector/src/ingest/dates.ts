// Strict date and time parsing for every date a caller sends (deal times, report bounds, spend and
// rate days, CRM fields). Date.parse is not used on input: it accepts garbage ("hello 7" is
// 2001-07-01 in V8) and reads a time without a zone in the server's own time zone.

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/

/** A calendar day YYYY-MM-DD that exists (2026-02-30 does not), as epoch ms at 00:00 UTC; else null. */
export function parseDay(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  return m ? utc(Number(m[1]), Number(m[2]), Number(m[3]), 0, 0, 0, 0) : null
}

/**
 * An ISO 8601 date or date-time (`T` or a space between; seconds and fractions optional; `Z` or a
 * ±hh:mm offset), as epoch ms; null for anything else, or a date that does not exist. A date-time
 * without a zone is refused unless `zoneless: 'utc'` (CRM fields documented as UTC): the API takes
 * no guess at the caller's zone.
 */
export function parseIsoTime(s: string, opts: { zoneless?: 'refuse' | 'utc' } = {}): number | null {
  const m = ISO_RE.exec(s.trim())
  if (!m) return null
  const [, y, mo, d, h, mi = '0', sec = '0', frac = '', zone] = m
  if (h !== undefined && zone === undefined && opts.zoneless !== 'utc') return null
  const local = utc(Number(y), Number(mo), Number(d), Number(h ?? '0'), Number(mi), Number(sec), Number(frac.slice(0, 3).padEnd(3, '0')))
  if (local === null) return null
  if (zone === undefined || zone === 'Z' || zone === 'z') return local
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)
  if (!z || Number(z[2]) > 23 || Number(z[3]) > 59) return null
  const offset = (Number(z[2]) * 60 + Number(z[3])) * 60_000
  return z[1] === '+' ? local - offset : local + offset
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | null {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms)
  // Date.UTC rolls 2026-02-30 over into March: a day that does not exist is refused.
  return new Date(t).getUTCDate() === d ? t : null
}
