// B2B revenue KPIs beside a report: marketing-sourced and marketing-influenced revenue, and the
// lifetime value to acquisition cost of each row with spend. Pure, like the rest of the engine.

import { creditKeys, ratio } from './report.js'
import { Engine } from './engine.js'
import type { JourneyOutline } from './journeys.js'
import type { ChainSolver } from './models/absorbing.js'
import { lowerBound } from './paths.js'
import type { EngineScratch, JourneyOutcome, TouchTable } from './table.js'
import type { DrillDown, JourneyDeal, ModelName, ReportRow, TouchDimension, TimeDimension } from './types.js'

export const KPI_DEFAULTS = { ltvMonths: 36 } as const

export interface Kpis {
  /** Won revenue in the window whose path has a non-direct touch at or before lead creation. */
  marketingSourcedRevenue: number
  /** Won revenue in the window whose account path (or the deal's leads without an account) has a non-direct touch before the close. */
  marketingInfluencedRevenue: number
  ltvMonths: number
  /** Per row key with spend: credited lifetime value of the accounts it won / its spend. */
  ltvToCac: Record<string, number>
}

export interface KpiInput {
  /** The report's table (its journey mode). */
  journeys: TouchTable
  /**
   * The same data as account journeys: journeyOutline(…, 'account'), or the table
   * journeyTable(…, 'account') when the report built it anyway.
   */
  accounts: JourneyOutline
  model: ModelName
  by: TouchDimension | TimeDimension
  from?: number | null
  to?: number | null
  lookbackDays?: number
  halfLifeDays?: number
  drill?: DrillDown
  ltvMonths?: number
  /** The report's rows: their spend is the CAC side. */
  rows: ReadonlyArray<Pick<ReportRow, 'key' | 'spend'>>
  /** Solves markov's chains (EngineOptions.solver). */
  solver?: ChainSolver
}

function wonRevenue(engine: Engine, keep: (c: number) => boolean): number {
  const p = engine.paths('won')
  let sum = 0
  for (let c = 0; c < p.count; c++) if (p.length[c] > 0 && p.keepDirect[c] === 0 && keep(c)) sum += p.revenue[c]
  return sum
}

/**
 * Won revenue in the window of the account journeys whose path (touches at most lookbackMs
 * before the close; a merged journey's are its members') has a non-direct touch. The same sum,
 * in the same order, as wonRevenue over an Engine of journeyTable(…, 'account'), without
 * building that table's columns: a path has a non-direct touch exactly when one of its
 * members' ranges does.
 */
function influencedRevenue(a: JourneyOutline, from: number, to: number, lookbackMs: number): number {
  const { offsets, ts, direct } = a
  const nonDirect = (j: number, lo: number, hi: number): boolean => {
    const end = offsets[j + 1]
    for (let i = lowerBound(ts, offsets[j], end, lo); i < end && ts[i] <= hi; i++) if (direct[i] === 0) return true
    return false
  }
  let sum = 0
  for (let j = 0; j < a.journeys.length; j++) {
    const o = a.journeys[j]
    for (const d of o.deals ?? []) {
      const at = firstWon(d)
      if (!(at >= from && at <= to)) continue
      const low = at - lookbackMs
      if (o.members ? o.members.some((m) => nonDirect(m, low, at)) : nonDirect(j, low, at)) sum += typeof d.amount === 'number' && Number.isFinite(d.amount) ? d.amount : 0
    }
  }
  return sum
}

function firstWon(d: JourneyDeal): number {
  let best = NaN
  for (const s of d.stages) if (s.stage === 'won' && Number.isFinite(s.ts) && !(s.ts >= best)) best = s.ts
  return best
}

function addMonths(t: number, months: number): number {
  const d = new Date(t)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds())
}

/**
 * The table with each account's first won deal worth the account's lifetime value (its won
 * revenue in the ltvMonths from that deal) and every other deal worth 0: a model's revenue credit
 * over it is the lifetime value of the accounts each key won. A deal without an account is its
 * own account.
 */
function lifetimeTable(table: TouchTable, months: number): TouchTable {
  const won: Array<{ j: number; d: JourneyDeal; at: number; account: string }> = []
  table.journeys.forEach((o, j) => {
    for (const d of o.deals ?? []) {
      const at = firstWon(d)
      if (Number.isFinite(at)) won.push({ j, d, at, account: o.account != null ? `a:${o.account}` : `d:${d.dealId}` })
    }
  })
  const first = new Map<string, (typeof won)[number]>()
  for (const w of won) {
    const f = first.get(w.account)
    if (!f || w.at < f.at || (w.at === f.at && w.d.dealId < f.d.dealId)) first.set(w.account, w)
  }
  const value = new Map<JourneyDeal, number>()
  for (const f of first.values()) value.set(f.d, 0)
  for (const w of won) {
    const f = first.get(w.account) as (typeof won)[number]
    if (w.at <= addMonths(f.at, months)) value.set(f.d, (value.get(f.d) ?? 0) + (typeof w.d.amount === 'number' && Number.isFinite(w.d.amount) ? w.d.amount : 0))
  }
  const journeys: JourneyOutcome[] = table.journeys.map((o) => {
    if (!o.deals || o.deals.length === 0) return o
    return { ...o, deals: o.deals.map((d) => ({ ...d, amount: value.get(d) ?? 0 })) }
  })
  // Its deals are worth other amounts, so none of the table's memoised results apply: a memo of
  // its own, with its arrays in the table's scratch under names of its own (as merged tables do),
  // instead of new arrays (~10 MB at 1M touches) left to the GC after every report.
  const base = table.scratch
  const scratch: EngineScratch | undefined = base ? { memo: new Map(), take: (name, n, make) => base.take(`${name}@ltv`, n, make) } : undefined
  return { ...table, journeys, scratch }
}

export function buildKpis(input: KpiInput): Kpis {
  const ltvMonths = input.ltvMonths ?? KPI_DEFAULTS.ltvMonths
  const opts = { from: input.from, to: input.to, lookbackDays: input.lookbackDays, halfLifeDays: input.halfLifeDays, solver: input.solver }
  const journeyEngine = new Engine(input.journeys, { by: 'channel', ...opts })
  const paths = journeyEngine.paths('won')
  const sourced = wonRevenue(journeyEngine, (c) => paths.leadPos[c] >= 0)
  const influenced = influencedRevenue(input.accounts, journeyEngine.from, journeyEngine.to, journeyEngine.lookbackMs)

  const ltvToCac: Record<string, number> = {}
  const spending = input.rows.filter((r) => r.spend > 0)
  if (spending.length > 0) {
    const engine = new Engine(lifetimeTable(input.journeys, ltvMonths), { by: input.by, ...opts, inside: input.drill?.inside })
    const credit = creditKeys(engine, input.model, 'won', input.drill)
    for (const r of spending) {
      const k = engine.keys.find(r.key)
      const ltv = k === undefined || k >= credit.revenue.length ? 0 : credit.revenue[k]
      ltvToCac[r.key] = ratio(ltv, r.spend) as number
    }
  }
  return { marketingSourcedRevenue: sourced, marketingInfluencedRevenue: influenced, ltvMonths, ltvToCac }
}
