// GET /v1/reports/funnel end to end: the leads identified in the window, from the same store load
// as the other reports (load-cache.ts), through the pure funnel (attribution/funnel.ts).

import { buildFunnel, type Funnel, type FunnelDimension } from '../attribution/funnel.js'
import type { JourneyMode } from '../attribution/types.js'
import type { Site, Store } from '../store/types.js'
import { withLoad } from './load-cache.js'
import { window, type ReportQuery } from './query.js'

export interface FunnelQuery extends Pick<ReportQuery, 'from' | 'to'> {
  by: FunnelDimension
  /** Default: the site's setting, else `deal`. */
  journey?: JourneyMode
}

export type FunnelReport = Funnel & { from: string | null; to: string | null }

export async function funnelReport(store: Store, site: Site, q: FunnelQuery): Promise<FunnelReport> {
  const w = window(q)
  const journey = q.journey ?? site.settings.journey ?? 'deal'
  // A lead's original source is its first non-direct touch at or before its identify, however
  // old: touches are loaded from the beginning up to the window's end.
  return withLoad(store, site.id, { touchesFrom: null, touchesTo: w.to, extra: null }, (data) => {
    const funnel = buildFunnel({ journeys: data.table, by: q.by, from: w.from, to: w.to, journey })
    return {
      ...funnel,
      from: w.from === null ? null : new Date(w.from).toISOString(),
      to: w.to === null ? null : new Date(w.to).toISOString(),
    }
  })
}
