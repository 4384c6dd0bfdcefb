// The previous period of the overview's comparison, and how a change against it reads. Kept apart
// from the views (which import the API client) so it is testable without a browser.

import { num } from './format.js'
import type { ReportQuery } from './types.js'

const DAY_MS = 86_400_000
const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`)
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** The period of the same length (whole UTC days) just before the query's: from/to shifted back. */
export function previousPeriod(q: ReportQuery): { query: ReportQuery; days: number } {
  const days = Math.round((dayMs(q.to) - dayMs(q.from)) / DAY_MS) + 1
  return { query: { ...q, from: isoDay(dayMs(q.from) - days * DAY_MS), to: isoDay(dayMs(q.from) - DAY_MS) }, days }
}

/** "+12% vs previous 30 days"; percentage points for shares; nothing to compare with → says so. */
export function change(now: number | null, before: number | null, days: number, share = false): string {
  const vs = `vs previous ${days} day${days === 1 ? '' : 's'}`
  if (now === null || before === null || !Number.isFinite(now) || !Number.isFinite(before)) return `— ${vs}`
  if (share) {
    const pts = Math.round((now - before) * 1000) / 10
    return `${pts > 0 ? '+' : pts < 0 ? '−' : '±'}${num(Math.abs(pts), 1)} pts ${vs}`
  }
  if (before === 0) return now === 0 ? `±0% ${vs}` : `new ${vs}`
  const p = Math.round(((now - before) / Math.abs(before)) * 100)
  return `${p > 0 ? '+' : p < 0 ? '−' : '±'}${num(Math.abs(p))}% ${vs}`
}
