// Journeys → conversions. A conversion is a journey reaching a stage:
// - lead: the identify time; revenue 0.
// - sql: the first time a deal reached sql or any later stage (opportunity, won) — a deal that
//   jumps straight to opportunity or won has passed sql at that moment; revenue = amount (pipeline).
// - opportunity: the first time a deal reached opportunity or won; revenue = amount (pipeline).
// - won: the first time a deal reached won; revenue = amount.
// `lost` ends nothing here: a deal lost and later won converts when it is won.
// Each deal converts separately, so a lead with two won deals has two won conversions.
// A merged journey (journeys.ts) has no lead conversion of its own; its identify time is the
// earliest of its members' (the lead-creation touch of the merged path).

import { freshAlloc, type Alloc, type TouchTable } from './table.js'
import type { ConversionKind, JourneyDeal, Stage } from './types.js'

export interface ConversionSet {
  kind: ConversionKind
  count: number
  journey: Int32Array
  ts: Float64Array
  revenue: Float64Array
  /** Identify time of the journey, NaN when anonymous (lead-creation position). */
  leadTs: Float64Array
  /** First time the deal reached sql or later, NaN without a deal (opportunity-creation position). */
  oppTs: Float64Array
  /** 1 when the path's last touch is the closed-won touch. */
  closes: Uint8Array
  /** Per journey: 1 when it has a conversion of this kind in the window (for markov's non-converting paths). */
  converted: Uint8Array
}

const RANK: Record<Stage, number> = { lead: 0, mql: 1, sql: 2, opportunity: 3, won: 4, lost: -1 }

/** First time the deal reached a stage of rank ≥ `rank`; NaN if never. */
export function firstReached(deal: JourneyDeal, rank: number): number {
  let best = NaN
  for (const s of deal.stages) {
    if (RANK[s.stage] >= rank && Number.isFinite(s.ts) && !(s.ts >= best)) best = s.ts
  }
  return best
}

function firstWon(deal: JourneyDeal): number {
  let best = NaN
  for (const s of deal.stages) if (s.stage === 'won' && Number.isFinite(s.ts) && !(s.ts >= best)) best = s.ts
  return best
}

function amountOf(deal: JourneyDeal): number {
  const a = deal.amount
  return typeof a === 'number' && Number.isFinite(a) ? a : 0
}

export function findConversions(table: TouchTable, kind: ConversionKind, from: number, to: number, alloc: Alloc = freshAlloc): ConversionSet {
  const inWindow = (t: number): boolean => t >= from && t <= to
  // Two passes, counting then filling typed arrays: at 100k leads, growing JS lists would leave
  // megabytes of large-object garbage per report.
  const each = (f: (j: number, at: number, revenue: number, leadTs: number, oppTs: number) => void): number => {
    let count = 0
    for (let j = 0; j < table.journeys.length; j++) {
      const jr = table.journeys[j]
      const identified = typeof jr.identifiedAt === 'number' && Number.isFinite(jr.identifiedAt) ? jr.identifiedAt : NaN
      if (kind === 'lead') {
        // A merged journey's identify time is its members' (their own lead conversions).
        if (jr.members === undefined && inWindow(identified)) { f(j, identified, 0, identified, NaN); count++ }
        continue
      }
      for (const deal of jr.deals ?? []) {
        const at = kind === 'won' ? firstWon(deal) : firstReached(deal, RANK[kind])
        if (!inWindow(at)) continue
        f(j, at, amountOf(deal), identified, firstReached(deal, RANK.sql))
        count++
      }
    }
    return count
  }
  const count = each(() => {})
  const out: ConversionSet = {
    kind,
    count,
    journey: alloc('journey', count, Int32Array),
    ts: alloc('ts', count, Float64Array),
    revenue: alloc('revenue', count, Float64Array),
    leadTs: alloc('leadTs', count, Float64Array),
    oppTs: alloc('oppTs', count, Float64Array),
    closes: alloc('closes', count, Uint8Array).fill(kind === 'won' ? 1 : 0),
    converted: alloc('converted', table.journeys.length, Uint8Array).fill(0),
  }
  let c = 0
  each((j, at, revenue, leadTs, oppTs) => {
    out.journey[c] = j
    out.ts[c] = at
    out.revenue[c] = revenue
    out.leadTs[c] = leadTs
    out.oppTs[c] = oppTs
    out.converted[j] = 1
    // A merged journey's members converted through it: not non-converting paths.
    const members = table.journeys[j].members
    if (members) for (const m of members) out.converted[m] = 1
    c++
  })
  return out
}
