// Drill-down: a report filtered to one channel, source, campaign… keeps every path whole and
// reports the touches inside the filter, so its rows add up to the parent row it came from.

import type { DrillDown, TouchTable } from '../attribution/index.js'
import { keyColumn } from '../attribution/keys.js'
import { FILTER_KEYS, type FilterKey } from '../outcomes/schemas.js'

export type ReportFilter = Partial<Record<FilterKey, string>>

/**
 * The filters of a query in the order they were given: the first is the drill-down's root (the
 * dimension of the top-level row it was drilled from), which markov and shapley credit by.
 */
export function filterOf(q: ReportFilter): Array<[FilterKey, string]> {
  const keys = Object.keys(q).filter((k): k is FilterKey => (FILTER_KEYS as readonly string[]).includes(k))
  return keys.flatMap((k) => (q[k] === undefined ? [] : [[k, q[k] as string] as [FilterKey, string]]))
}

/** The drill-down of a filter over a table: which touches are inside it (every filter value matches). */
export function drillDown(table: TouchTable, filter: Array<[FilterKey, string]>): DrillDown | undefined {
  if (filter.length === 0) return undefined
  const n = table.ts.length
  const inside = new Uint8Array(n).fill(1)
  for (const [k, v] of filter) {
    const col = keyColumn(table, k)
    const id = col.keys.indexOf(v)
    for (let i = 0; i < n; i++) if (col.ids[i] !== id) inside[i] = 0
  }
  return { inside, filter }
}
