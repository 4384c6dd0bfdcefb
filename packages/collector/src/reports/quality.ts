// The data-quality report (dashboard "Data quality"): how much paid traffic is tagged well
// enough to attribute, which paid sources arrive untagged (with their click ID type: auto-tagged
// ads without UTMs are the usual case), which leads may be one person twice (identity conflicts,
// and what ingestion refused, by code. Two grouped queries; no journeys are loaded.

import { ratio } from '../attribution/index.js'
import { window } from './query.js'
import type { QualityStats, Site, Store } from '../store/types.js'

export interface QualityReport extends Omit<QualityStats, 'completePaid' | 'dropped'> {
  /**
   * Events not stored, by reason: bot user agents, unlisted origins, erased people, and invalid
   * (the rejected events, by code above). Events with an unknown key have no site: /metrics only.
   */
  dropped: QualityStats['dropped'] & { invalid: number }
  from: string | null
  to: string | null
  /** Share of paid-channel touches carrying source, medium and campaign (as in every report). */
  utmCompleteness: number | null
  /** Leads that one identify call found by different keys: kept apart, listed for review. */
  duplicateLeads: Array<{ leadIds: string[]; reason: string }>
}

export async function qualityReport(store: Store, site: Site, q: { from?: { t: number; day: boolean }; to?: { t: number; day: boolean } }): Promise<QualityReport> {
  const w = window(q)
  const [{ completePaid, dropped, ...stats }, conflicts] = await Promise.all([store.qualityStats(site.id, w.from, w.to), store.listConflicts(site.id, 50)])
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString())
  return {
    from: iso(w.from),
    to: iso(w.to),
    utmCompleteness: ratio(completePaid, stats.paidTouches),
    ...stats,
    dropped: { ...dropped, invalid: stats.rejected.reduce((n, r) => n + r.count, 0) },
    duplicateLeads: conflicts.map((c) => ({ leadIds: [c.keptLeadId, c.otherLeadId], reason: `same ${c.kind} as another lead` })),
  }
}
