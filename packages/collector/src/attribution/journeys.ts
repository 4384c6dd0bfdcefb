// Journey modes: a B2B deal's path made of several leads' touches. The store hands the engine one
// journey per lead (a multi-lead deal sits on its primary lead's journey and names its other leads
// in `leads`); `journeyTable` turns that into the table a report of a journey mode runs on.
//
// Layout: the stored journeys and touches stay as they are (so `lead` conversions, touch counts,
// spend matching and markov's non-converting paths read each touch once), and every merged path
// is appended as one more journey holding copies of its members' touches, in time order, with the
// deals it carries (moved off the primary's journey). A lead's touches may be copied into several
// merged journeys (one per group of leads). Copying is the simplest correct layout: every model
// walks contiguous ranges [offsets[j], offsets[j+1]) and needs no change.

import type { KeyColumn } from './interner.js'
import { compileJourneys, type JourneyOutcome, type TouchTable } from './table.js'
import type { AttributionTouch, Journey, JourneyDeal, JourneyMode } from './types.js'

interface Group {
  members: number[]
  deals: JourneyDeal[]
}

function idOf(j: JourneyOutcome | Journey): string | undefined {
  return (j as { id?: string }).id
}

/**
 * The table of a journey mode. `lead` (and any table without multi-lead deals or shared accounts)
 * is the input itself; otherwise a new table with merged journeys appended. Pure: the input table
 * is not changed.
 */
export function journeyTable(input: readonly Journey[] | TouchTable, mode: JourneyMode): TouchTable {
  const table = Array.isArray(input) ? compileJourneys(input) : (input as TouchTable)
  if (mode === 'lead') return table
  const journeys = table.journeys
  const index = new Map<string, number>()
  const byAccount = new Map<string, number[]>()
  for (let j = 0; j < journeys.length; j++) {
    const id = idOf(journeys[j])
    if (id !== undefined) index.set(id, j)
    const account = journeys[j].account
    if (mode === 'account' && account != null) {
      const list = byAccount.get(account)
      if (list) list.push(j)
      else byAccount.set(account, [j])
    }
  }
  const groups = new Map<string, Group>()
  const moved = new Set<JourneyDeal>()
  for (let j = 0; j < journeys.length; j++) {
    const deals = journeys[j].deals
    if (!deals || deals.length === 0) continue
    const account = journeys[j].account
    for (const d of deals) {
      const members = new Set<number>([j])
      if (mode === 'account' && account != null) for (const m of byAccount.get(account) ?? []) members.add(m)
      for (const id of d.leads ?? []) {
        const m = index.get(id)
        if (m !== undefined) members.add(m)
      }
      if (members.size < 2) continue
      // The primary's journey first, then the others by index: one group per distinct set.
      const list = [j, ...[...members].filter((m) => m !== j).sort((a, b) => a - b)]
      const key = [...list].sort((a, b) => a - b).join(',')
      let g = groups.get(key)
      if (!g) groups.set(key, (g = { members: list, deals: [] }))
      g.deals.push(d)
      moved.add(d)
    }
  }
  if (groups.size === 0) return table
  return appendMerged(table, [...groups.values()], moved)
}

function appendMerged(table: TouchTable, groups: readonly Group[], moved: ReadonlySet<JourneyDeal>): TouchTable {
  const J = table.journeys.length
  const n = table.ts.length
  const { offsets, ts } = table
  const out: JourneyOutcome[] = table.journeys.map((o) => {
    if (!o.deals || !o.deals.some((d) => moved.has(d))) return o
    return { ...o, deals: o.deals.filter((d) => !moved.has(d)) }
  })
  // Source touch of every output touch: the stored ones, then each group's members' touches.
  const src: number[] = []
  for (let i = 0; i < n; i++) src.push(i)
  const newOffsets = new Int32Array(J + groups.length + 1)
  newOffsets.set(offsets.subarray(0, J + 1))
  for (let g = 0; g < groups.length; g++) {
    const { members, deals } = groups[g]
    const start = src.length
    for (const m of members) for (let i = offsets[m]; i < offsets[m + 1]; i++) src.push(i)
    // Stable: equal times keep member order (primary first).
    const run = src.slice(start).sort((a, b) => ts[a] - ts[b] || 0)
    for (let k = 0; k < run.length; k++) src[start + k] = run[k]
    let identified = NaN
    for (const m of members) {
      const t = table.journeys[m].identifiedAt
      if (typeof t === 'number' && Number.isFinite(t) && !(t >= identified)) identified = t
    }
    out.push({
      identifiedAt: Number.isFinite(identified) ? identified : null,
      deals,
      account: table.journeys[members[0]].account ?? null,
      members,
    })
    newOffsets[J + g + 1] = src.length
  }
  const total = src.length
  const newTs = new Float64Array(total)
  const direct = new Uint8Array(total)
  for (let k = 0; k < total; k++) {
    newTs[k] = ts[src[k]]
    direct[k] = table.direct[src[k]]
  }
  const cache = new Map<string, KeyColumn>()
  for (const [dim, col] of table.cache) {
    const ids = new Int32Array(total)
    for (let k = 0; k < total; k++) ids[k] = col.ids[src[k]]
    cache.set(dim, { ids, keys: col.keys })
  }
  let lists: Array<readonly AttributionTouch[]> | undefined
  if (table.lists) {
    const flat = table.lists.flat()
    lists = [...table.lists]
    for (let g = 0; g < groups.length; g++) lists.push(src.slice(newOffsets[J + g], newOffsets[J + g + 1]).map((i) => flat[i]))
  }
  return {
    journeys: out, lists, offsets: newOffsets, ts: newTs, direct, cache,
    baseJourneys: table.baseJourneys ?? J, baseTouches: table.baseTouches ?? n,
  }
}
