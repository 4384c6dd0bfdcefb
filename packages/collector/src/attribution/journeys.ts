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
//
// A table with scratch memory (a store's, see TouchTable.scratch) gets the merged table's columns
// from it, and the merged table its own scratch in the same memory: a collector building a table
// per write then allocates nothing per report for merged journeys either. When the scratch can
// extend the table's columns, the first merged table shares them: its copies go after the stored
// touches in the same memory, rather than into a full copy of every column.
//
// `journeyOutline` gives a mode's journeys without the columns (merged ones name their members),
// for what walks touches without a model: the KPIs' influenced revenue in every journey mode.
import type { KeyColumn } from './interner.js'
import { compileJourneys, freshAlloc, type Alloc, type EngineScratch, type JourneyOutcome, type TouchTable } from './table.js'
import type { AttributionTouch, Journey, JourneyDeal, JourneyMode } from './types.js'

interface Group {
  members: number[]
  deals: JourneyDeal[]
}

interface Plan {
  groups: readonly Group[]
  /** Deals moved off their primary's journey onto a merged one. */
  moved: ReadonlySet<JourneyDeal>
}

/**
 * A journey mode's journeys over a table's columns without copies of their touches: stored
 * journey j's touches are [offsets[j], offsets[j+1]), a merged journey's are its members'. A
 * merged TouchTable is one too (its stored part is the stored table's), so is any plain table.
 */
export type JourneyOutline = Pick<TouchTable, 'journeys' | 'offsets' | 'ts' | 'direct'>

function idOf(j: JourneyOutcome | Journey): string | undefined {
  return (j as { id?: string }).id
}

/**
 * The table of a journey mode. `lead` (and any table without multi-lead deals or shared accounts)
 * is the input itself; otherwise a new table with merged journeys appended. The input table's
 * columns and journeys are not changed (its scratch memo keeps the result).
 */
export function journeyTable(input: readonly Journey[] | TouchTable, mode: JourneyMode): TouchTable {
  const table = Array.isArray(input) ? compileJourneys(input) : (input as TouchTable)
  if (mode === 'lead') return table
  // Without accounts, account journeys are deal journeys: one table serves both.
  if (mode === 'account' && !table.journeys.some((j) => j.account != null)) mode = 'deal'
  // A table with scratch keeps its merged tables (their columns live in its scratch: a second
  // build would overwrite the first's), so every report of one load shares them.
  const memo = table.scratch?.memo
  const key = `journeys:${mode}`
  const kept = memo?.get(key) as TouchTable | undefined
  if (kept) return kept
  const p = plan(table, mode)
  const merged = p ? appendMerged(table, p, mode) : table
  memo?.set(key, merged)
  return merged
}

/**
 * The journeys of a mode without their touch columns, for what needs no model over them (the
 * KPIs' influenced revenue): the merged table when it was built already, else its journeys alone.
 * Saves a full copy of the table's columns (~25 MB at 1M touches) per report of another mode.
 */
export function journeyOutline(table: TouchTable, mode: JourneyMode): JourneyOutline {
  if (mode === 'lead') return table
  if (mode === 'account' && !table.journeys.some((j) => j.account != null)) mode = 'deal'
  const memo = table.scratch?.memo
  const built = memo?.get(`journeys:${mode}`) as TouchTable | undefined
  if (built) return built
  const key = `outline:${mode}`
  const kept = memo?.get(key) as JourneyOutline | undefined
  if (kept) return kept
  const p = plan(table, mode)
  const outline: JourneyOutline = p ? { journeys: outcomes(table, p), offsets: table.offsets, ts: table.ts, direct: table.direct } : table
  memo?.set(key, outline)
  return outline
}

/** The merged journeys of a mode (null when there are none): their members and the deals they carry. */
function plan(table: TouchTable, mode: 'deal' | 'account'): Plan | null {
  const journeys = table.journeys
  // Only the leads that multi-lead deals name need finding by ID.
  const named = new Set<string>()
  for (let j = 0; j < journeys.length; j++) {
    const deals = journeys[j].deals
    if (deals) for (const d of deals) if (d.leads) for (const id of d.leads) named.add(id)
  }
  const index = new Map<string, number>()
  const byAccount = new Map<string, number[]>()
  for (let j = 0; j < journeys.length; j++) {
    if (named.size > 0) {
      const id = idOf(journeys[j])
      if (id !== undefined && named.has(id)) index.set(id, j)
    }
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
  return groups.size === 0 ? null : { groups: [...groups.values()], moved }
}

/**
 * The merged table's own engine scratch in the base table's memory: a memo of its own (its
 * conversions and paths are not the base table's), arrays under names of its own.
 */
function scratchOf(base: EngineScratch, mode: JourneyMode): EngineScratch {
  return { memo: new Map(), take: (name, n, make) => base.take(`${name}@${mode}`, n, make) }
}

/** The stored journeys (less the deals moved), then one per group: the merged table's journeys. */
function outcomes(table: TouchTable, { groups, moved }: Plan): JourneyOutcome[] {
  const J = table.journeys.length
  const out: JourneyOutcome[] = table.journeys.slice()
  for (let j = 0; j < J; j++) {
    const o = out[j]
    if (o.deals && o.deals.length > 0 && o.deals.some((d) => moved.has(d))) out[j] = { ...o, deals: o.deals.filter((d) => !moved.has(d)) }
  }
  for (const { members, deals } of groups) {
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
  }
  return out
}

function appendMerged(table: TouchTable, p: Plan, mode: 'deal' | 'account'): TouchTable {
  const { groups } = p
  const J = table.journeys.length
  const n = table.ts.length
  const { offsets, ts } = table
  const base = table.scratch
  // Named engine:… so that the store gives them up once its tables' reports stop using them.
  const alloc: Alloc = base ? (field, size, make) => base.take(`engine:journeys:${field}@${mode}`, size, make) : freshAlloc
  const out = outcomes(table, p)
  // The first merged table of a table extends its columns in place (the stored part is then not
  // copied); a second one (another mode, in use at the same time) copies them.
  const extend = base?.extend && !base.memo.has('journeys:extended') ? base.extend : undefined
  if (extend) base?.memo.set('journeys:extended', mode)
  const grow = <T extends Int32Array | Float64Array | Uint8Array>(col: T, field: string, size: number, make: new (n: number) => T): T => {
    const view = extend?.(col, size)
    if (view) return view
    const a = alloc(field, size, make)
    a.set(col)
    return a
  }
  // Source touch of every copied touch, group after group.
  let copies = 0
  for (const { members } of groups) for (const m of members) copies += offsets[m + 1] - offsets[m]
  const src = alloc('src', copies, Int32Array)
  const newOffsets = alloc('offsets', J + groups.length + 1, Int32Array)
  newOffsets.set(offsets.subarray(0, J + 1))
  let k = 0
  for (let g = 0; g < groups.length; g++) {
    const { members } = groups[g]
    const start = k
    for (const m of members) for (let i = offsets[m]; i < offsets[m + 1]; i++) src[k++] = i
    // Stable: equal times keep member order (primary first).
    const run = Array.from(src.subarray(start, k)).sort((a, b) => ts[a] - ts[b] || 0)
    for (let r = 0; r < run.length; r++) src[start + r] = run[r]
    newOffsets[J + g + 1] = n + k
  }
  const total = n + copies
  // The stored touches as they are, then the copies.
  const newTs = grow(ts, 'ts', total, Float64Array)
  const direct = grow(table.direct, 'direct', total, Uint8Array)
  for (let c = 0; c < copies; c++) {
    newTs[n + c] = ts[src[c]]
    direct[n + c] = table.direct[src[c]]
  }
  const cache = new Map<string, KeyColumn>()
  for (const [dim, col] of table.cache) {
    const ids = grow(col.ids, `key:${dim}`, total, Int32Array)
    for (let c = 0; c < copies; c++) ids[n + c] = col.ids[src[c]]
    cache.set(dim, { ids, keys: col.keys })
  }
  let lists: Array<readonly AttributionTouch[]> | undefined
  if (table.lists) {
    const flat = table.lists.flat()
    lists = [...table.lists]
    for (let g = 0; g < groups.length; g++) lists.push(Array.from(src.subarray(newOffsets[J + g] - n, newOffsets[J + g + 1] - n), (i) => flat[i]))
  }
  return {
    journeys: out, lists, offsets: newOffsets, ts: newTs, direct, cache,
    scratch: base ? scratchOf(base, mode) : undefined,
    baseJourneys: table.baseJourneys ?? J, baseTouches: table.baseTouches ?? n,
  }
}
