// Drill-down: a report filtered to one channel, source, campaign… keeps every path whole but moves
// the touches outside the filter to a row of their own, dropped from the result.

import { ratio, type Dimension, type JourneyOutcome, type TouchTable } from '../attribution/index.js'
import { keyColumn } from '../attribution/keys.js'
import type { ReportMetrics } from '../attribution/types.js'
import { clError } from '../errors.js'
import { FILTER_KEYS, type FilterKey } from '../outcomes/schemas.js'

export type ReportFilter = Partial<Record<FilterKey, string>>

// A key no stored value can equal (stored text never holds NUL): touches outside a drill-down filter.
const OUTSIDE = '\u0000outside'

export function filterOf(q: ReportFilter): Array<[FilterKey, string]> {
  return FILTER_KEYS.flatMap((k) => (q[k] === undefined ? [] : [[k, q[k] as string] as [FilterKey, string]]))
}

/**
 * Drill-down: touches outside the filter keep their place in every path (credit shares do not
 * change) but their `by` value becomes OUTSIDE, whose row is dropped. by=source_medium renames
 * source and medium, so spend of a source/medium goes to its touches inside the filter. Works on
 * the key columns: no touch object is copied.
 */
export function applyFilter(table: TouchTable, by: Dimension, filter: Array<[FilterKey, string]>): TouchTable {
  if (by === 'week' || by === 'month') throw clError('VALIDATION', 'drill-down filters need a touch dimension, not week/month')
  const n = table.ts.length
  const inside = new Uint8Array(n).fill(1)
  for (const [k, v] of filter) {
    const col = keyColumn(table, k)
    const id = col.keys.indexOf(v)
    for (let i = 0; i < n; i++) if (col.ids[i] !== id) inside[i] = 0
  }
  const cache = new Map(table.cache)
  cache.delete('source_medium')
  for (const f of by === 'source_medium' ? (['source', 'medium'] as const) : [by]) {
    const col = keyColumn(table, f)
    const out = col.keys.length
    const ids = Int32Array.from(col.ids, (id, i) => (inside[i] === 1 ? id : out))
    cache.set(f, { ids, keys: [...col.keys, OUTSIDE] })
  }
  // A journey without touches belongs to no channel, source or campaign: not to a drill-down.
  const journeys: JourneyOutcome[] = []
  const offsets: number[] = []
  for (let j = 0; j < table.journeys.length; j++) {
    if (table.offsets[j + 1] === table.offsets[j]) continue
    journeys.push(table.journeys[j])
    offsets.push(table.offsets[j])
  }
  offsets.push(n)
  return { journeys, offsets: Int32Array.from(offsets), ts: table.ts, direct: table.direct, cache, lists: table.lists }
}

export function outside(key: string): boolean {
  return key.includes(OUTSIDE)
}

export function totalsOf(rows: ReadonlyArray<ReportMetrics>): ReportMetrics {
  const sum = (f: 'touches' | 'leads' | 'conversions' | 'revenue' | 'spend'): number => rows.reduce((s, r) => s + r[f], 0)
  const t = { touches: sum('touches'), leads: sum('leads'), conversions: sum('conversions'), revenue: sum('revenue'), spend: sum('spend') }
  return {
    ...t,
    roas: ratio(t.revenue, t.spend),
    cac: ratio(t.spend, t.conversions),
    costPerLead: ratio(t.spend, t.leads),
    avgDealSize: ratio(t.revenue, t.conversions),
    conversionRate: ratio(t.conversions, t.leads),
  }
}
