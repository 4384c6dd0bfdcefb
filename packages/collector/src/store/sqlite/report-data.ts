// The whole report input of a SQLite site as journey objects (Store.loadReportData, the contract
// reports are checked against), and the site's spend for a report's days.

import type { AttributionTouch, Journey, SpendRow } from '../../attribution/types.js'
import type { ReportData, ReportLoadOptions } from '../../outcomes/types.js'
import { landingPage, type Row } from '../rows.js'
import { leadJourneys, type ReportOutcomeStatements } from './report-outcomes.js'
import type { Prepared } from './statements.js'
import { MAX_TS, MIN_TS, type TouchScanStatements } from './touch-scan.js'

export const REPORT_DATA_SQL = {
  reportSpend: 'SELECT date, source, medium, campaign, amount FROM spend WHERE site_id = ? AND date >= ? AND date <= ?',
} as const

export type ReportDataStatements = Prepared<typeof REPORT_DATA_SQL>

function isoDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10)
}

/**
 * The whole report input as journey objects in five scans (reports themselves use the TouchLog
 * path). Touches come in table order and are grouped by visitor in memory (no ORDER BY over a
 * million rows; the engine sorts each journey, usually a no-op). Repeated strings (channel,
 * source, medium, campaign) are interned so a million touches share a few thousand string objects.
 */
export function loadReportDataSync(
  s: ReportOutcomeStatements & TouchScanStatements & ReportDataStatements, siteId: string, opts: ReportLoadOptions,
): ReportData {
  const leads = leadJourneys(s, siteId)
  const journeys: Journey[] = [...leads.values()]
  // visitor → the journey(s) its touches belong to (a shared device may belong to several leads).
  const owners = new Map<string, Array<AttributionTouch[]>>()
  for (const r of s.reportLinks.iterate(siteId) as Iterable<Row>) {
    const lead = leads.get(String(r.lead_id))
    if (!lead) continue
    const v = String(r.visitor_id)
    const list = owners.get(v)
    if (list) list.push(lead.touches)
    else owners.set(v, [lead.touches])
  }

  const pool = new Map<string, string>()
  const intern = (v: unknown): string | null => {
    if (v === null || v === undefined) return null
    const str = v as string
    const hit = pool.get(str)
    if (hit !== undefined) return hit
    if (pool.size < 200_000) pool.set(str, str)
    return str
  }
  const extra = opts.extra ?? null
  const stmt = extra === null ? s.touches.base : s.touches[extra]
  let lastVisitor = ''
  let lastOwners: Array<AttributionTouch[]> | undefined
  for (const r of stmt.iterate(siteId, opts.touchesFrom ?? MIN_TS, opts.touchesTo ?? MAX_TS) as Iterable<unknown[]>) {
    const visitor = r[0] as string
    if (visitor !== lastVisitor) {
      lastVisitor = visitor
      lastOwners = owners.get(visitor)
      if (!lastOwners) {
        const touches: AttributionTouch[] = []
        journeys.push({ id: `v:${visitor}`, touches })
        owners.set(visitor, (lastOwners = [touches]))
      }
    }
    const t: AttributionTouch = {
      ts: Number(r[1]),
      channel: intern(r[2]) as string,
      source: intern(r[3]) as string,
      medium: intern(r[4]) as string,
      campaign: intern(r[5]),
    }
    if (extra !== null) t[extra] = extra === 'landing' ? landingPage(r[6]) : intern(r[6])
    for (const list of lastOwners as Array<AttributionTouch[]>) list.push(t)
  }

  return { journeys, spend: loadSpendSync(s, siteId, opts) }
}

/** The site's spend on the days of [touchesFrom, touchesTo]. */
export function loadSpendSync(s: ReportDataStatements, siteId: string, opts: ReportLoadOptions): SpendRow[] {
  const spend: SpendRow[] = []
  const fromDay = opts.touchesFrom === null ? '0000-01-01' : isoDay(Math.max(opts.touchesFrom, 0))
  const toDay = opts.touchesTo === null ? '9999-12-31' : isoDay(opts.touchesTo)
  for (const r of s.reportSpend.iterate(siteId, fromDay, toDay) as Iterable<Row>) {
    spend.push({
      date: String(r.date),
      source: String(r.source),
      medium: r.medium === '' ? null : String(r.medium),
      campaign: r.campaign === '' ? null : String(r.campaign),
      amount: Number(r.amount),
    })
  }
  return spend
}
