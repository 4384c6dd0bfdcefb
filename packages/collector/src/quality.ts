// The data-quality report (SPEC §9, dashboard "Data quality"): how much paid traffic is tagged well
// enough to attribute, which paid sources arrive untagged, which leads may be one person twice
// (identity conflicts, SPEC §5), and what ingestion refused, by code.

import { isPaidChannel, ratio, tagged } from './attribution/index.js'
import { window } from './reports.js'
import type { Site, Store } from './store/types.js'

export interface QualityReport {
  from: string | null
  to: string | null
  /** Share of paid-channel touches carrying source, medium and campaign (as in every report). */
  utmCompleteness: number | null
  paidTouches: number
  /** Paid-channel touches missing source, medium or campaign, by source and medium, most first. */
  untaggedPaid: Array<{ source: string; medium: string; clickIdType: string | null; touches: number }>
  /** Leads that one identify call found by different keys: kept apart, listed for review. */
  duplicateLeads: Array<{ leadIds: string[]; reason: string }>
  /** Refused events of the recent past, by code, most first. */
  rejected: Array<{ code: string; count: number }>
}

const LIST = 50
const RECENT_REJECTIONS = 1000

export async function qualityReport(store: Store, site: Site, q: { from?: { t: number; day: boolean }; to?: { t: number; day: boolean } }): Promise<QualityReport> {
  const w = window(q)
  const [data, conflicts, rejected] = await Promise.all([
    store.loadReportData(site.id, { touchesFrom: w.from, touchesTo: w.to, extra: null }),
    store.listConflicts(site.id, LIST),
    store.listRejected(site.id, RECENT_REJECTIONS),
  ])
  let paidTouches = 0
  let complete = 0
  const untagged = new Map<string, { source: string; medium: string; clickIdType: string | null; touches: number }>()
  for (const j of data.journeys)
    for (const t of j.touches) {
      if ((w.from !== null && t.ts < w.from) || (w.to !== null && t.ts > w.to) || !isPaidChannel(t.channel)) continue
      paidTouches++
      if (tagged(t.source) && tagged(t.medium) && tagged(t.campaign ?? '')) {
        complete++
        continue
      }
      // NUL never occurs in stored text, so it separates the two parts of the key safely.
      const key = `${t.source}\u0000${t.medium}`
      const row = untagged.get(key) ?? { source: t.source, medium: t.medium, clickIdType: null, touches: 0 }
      row.touches++
      untagged.set(key, row)
    }
  const byCode = new Map<string, number>()
  for (const r of rejected) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1)
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString())
  return {
    from: iso(w.from),
    to: iso(w.to),
    utmCompleteness: ratio(complete, paidTouches),
    paidTouches,
    untaggedPaid: [...untagged.values()].sort((a, b) => b.touches - a.touches).slice(0, LIST),
    duplicateLeads: conflicts.map((c) => ({ leadIds: [c.keptLeadId, c.otherLeadId], reason: `same ${c.kind} as another lead` })),
    rejected: [...byCode.entries()].sort((a, b) => b[1] - a[1]).map(([code, count]) => ({ code, count })),
  }
}
