// The lead funnel: leads identified in a window, grouped by their original source, counted at each
// stage they reached (lead → mql → sql → opportunity → won), with stage-to-stage conversion rates
// and median days between stages. Pure, over the same touch table as the attribution reports.

import { keyColumn } from './keys.js'
import { compileJourneys, type TouchTable } from './table.js'
import type { Journey, JourneyMode } from './types.js'

/** The stages of the funnel, in order; `lost` is not one (it reaches nothing). */
export const FUNNEL_STAGES = ['lead', 'mql', 'sql', 'opportunity', 'won'] as const
export type FunnelStage = (typeof FUNNEL_STAGES)[number]

/** Dimensions a funnel groups by: those of a lead's original-source touch. */
export const FUNNEL_DIMENSIONS = ['channel', 'source', 'medium', 'campaign', 'source_medium'] as const
export type FunnelDimension = (typeof FUNNEL_DIMENSIONS)[number]

/** The row of a lead with no non-direct touch at or before its identify, per dimension. */
export const DIRECT_ORIGIN: Readonly<Record<FunnelDimension, string>> = {
  channel: 'Direct',
  source: '(direct)',
  medium: '(none)',
  campaign: '(not set)',
  source_medium: '(direct) / (none)',
}

/** Key of the funnel's total row. */
export const FUNNEL_TOTAL_KEY = '(total)'

export interface FunnelStep {
  from: FunnelStage
  to: FunnelStage
  /** count(to) / count(from); null when count(from) is 0. */
  rate: number | null
  /** Median days from reaching `from` to reaching `to`, over the leads that reached both; null when none. */
  medianDays: number | null
}

export interface FunnelRow {
  key: string
  /** Leads that reached each stage (or a later one). */
  counts: Record<FunnelStage, number>
  /** One step per consecutive pair of stages, in order (lead→mql … opportunity→won). */
  steps: FunnelStep[]
}

export interface FunnelOptions {
  by: FunnelDimension
  /** Epoch ms, inclusive; null = unbounded. Selects leads by identify time. */
  from?: number | null
  to?: number | null
  /**
   * Which lead a deal's stages advance: `lead` and `deal` the deal's primary lead (the one whose
   * journey holds it); `account` the first identified lead of the primary's account (the
   * primary itself without an account). Default `deal`.
   */
  journey?: JourneyMode
}

export interface FunnelInput extends FunnelOptions {
  journeys: readonly Journey[] | TouchTable
}

export interface Funnel {
  by: FunnelDimension
  journey: JourneyMode
  stages: readonly FunnelStage[]
  /** By lead count, then key. */
  rows: FunnelRow[]
  /** All selected leads, key `(total)`; its medians are over all of them, not of the rows'. */
  total: FunnelRow
}

const DAY = 86_400_000
const RANK: Readonly<Record<string, number>> = { mql: 1, sql: 2, opportunity: 3, won: 4 }
const S = FUNNEL_STAGES.length

/** Per row: counts per stage and the day gaps of each step (to take medians of). */
interface Acc {
  counts: number[]
  gaps: number[][]
}

const newAcc = (): Acc => ({ counts: new Array(S).fill(0), gaps: Array.from({ length: S - 1 }, () => []) })

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

function rowOf(key: string, acc: Acc): FunnelRow {
  const counts = Object.fromEntries(FUNNEL_STAGES.map((s, i) => [s, acc.counts[i]])) as Record<FunnelStage, number>
  const steps: FunnelStep[] = []
  for (let i = 0; i + 1 < S; i++) {
    steps.push({
      from: FUNNEL_STAGES[i],
      to: FUNNEL_STAGES[i + 1],
      rate: acc.counts[i] === 0 ? null : acc.counts[i + 1] / acc.counts[i],
      medianDays: median(acc.gaps[i]),
    })
  }
  return { key, counts, steps }
}

/**
 * The funnel of the leads identified in [from, to]. A lead's row is its original source: the
 * first non-direct touch at or before its identify, else the direct row (DIRECT_ORIGIN). It
 * reaches `lead` when identified, and a later stage when one of the deals it is credited with
 * (see FunnelOptions.journey) reached that stage or a later one, at the first such time (never
 * before its identify). Stages are cumulative: every lead counted at `won` is counted at each
 * stage before it.
 */
export function buildFunnel(input: FunnelInput): Funnel {
  const table = Array.isArray(input.journeys) ? compileJourneys(input.journeys as readonly Journey[]) : (input.journeys as TouchTable)
  const mode = input.journey ?? 'deal'
  const from = input.from ?? -Infinity
  const to = input.to ?? Infinity
  const col = keyColumn(table, input.by)
  const direct = DIRECT_ORIGIN[input.by]
  const J = table.baseJourneys ?? table.journeys.length
  const { journeys, offsets, ts } = table
  const isLead = (j: number) => journeys[j].members === undefined && typeof journeys[j].identifiedAt === 'number' && Number.isFinite(journeys[j].identifiedAt)

  // Which journey each journey's deals advance.
  const owner = new Int32Array(J)
  for (let j = 0; j < J; j++) owner[j] = j
  if (mode === 'account') {
    const first = new Map<string, number>()
    for (let j = 0; j < J; j++) {
      const account = journeys[j].account
      if (account == null || !isLead(j)) continue
      const f = first.get(account)
      // Ties by lead ID, so the choice does not depend on the store's row order.
      if (f === undefined || earlier(journeys[j], journeys[f])) first.set(account, j)
    }
    for (let j = 0; j < J; j++) {
      const account = journeys[j].account
      if (account != null) owner[j] = first.get(account) ?? j
    }
  }
  // Earliest time each journey reached each stage through the deals it is credited with.
  const best = new Float64Array(J * S).fill(Infinity)
  for (let j = 0; j < J; j++) {
    for (const d of journeys[j].deals ?? []) {
      const o = owner[j] * S
      for (const s of d.stages) {
        const r = RANK[s.stage]
        if (r !== undefined && Number.isFinite(s.ts) && s.ts < best[o + r]) best[o + r] = s.ts
      }
    }
  }

  const rows = new Map<string, Acc>()
  const total = newAcc()
  const reach = new Float64Array(S)
  for (let j = 0; j < J; j++) {
    if (!isLead(j)) continue
    const identified = journeys[j].identifiedAt as number
    if (identified < from || identified > to) continue
    let key = direct
    for (let k = offsets[j]; k < offsets[j + 1] && ts[k] <= identified; k++) {
      if (table.direct[k] === 0) { key = col.keys[col.ids[k]]; break }
    }
    reach[0] = identified
    let next = Infinity
    for (let r = S - 1; r >= 1; r--) {
      next = Math.min(next, best[j * S + r])
      reach[r] = next === Infinity ? Infinity : Math.max(next, identified)
    }
    let acc = rows.get(key)
    if (!acc) rows.set(key, (acc = newAcc()))
    for (let r = 0; r < S && reach[r] !== Infinity; r++) {
      acc.counts[r]++
      total.counts[r]++
      if (r > 0) {
        const gap = (reach[r] - reach[r - 1]) / DAY
        acc.gaps[r - 1].push(gap)
        total.gaps[r - 1].push(gap)
      }
    }
  }
  const out = [...rows.entries()]
    .sort((a, b) => b[1].counts[0] - a[1].counts[0] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([key, acc]) => rowOf(key, acc))
  return { by: input.by, journey: mode, stages: FUNNEL_STAGES, rows: out, total: rowOf(FUNNEL_TOTAL_KEY, total) }
}

function earlier(a: { identifiedAt?: number | null; id?: string }, b: { identifiedAt?: number | null; id?: string }): boolean {
  const ta = a.identifiedAt as number
  const tb = b.identifiedAt as number
  if (ta !== tb) return ta < tb
  return (a.id ?? '') < (b.id ?? '')
}
