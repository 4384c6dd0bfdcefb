// Journeys → conversions (SPEC §6). A conversion is a journey reaching a stage:
// - lead: the identify time; revenue 0.
// - sql: the first time a deal reached sql or any later stage (opportunity, won) — a deal that
//   jumps straight to opportunity or won has passed sql at that moment; revenue = amount (pipeline).
// - opportunity: the first time a deal reached opportunity or won; revenue = amount (pipeline).
// - won: the first time a deal reached won; revenue = amount.
// `lost` ends nothing here: a deal lost and later won converts when it is won.
// Each deal converts separately, so a lead with two won deals has two won conversions.

import type { TouchTable } from './table.js'
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

export function findConversions(table: TouchTable, kind: ConversionKind, from: number, to: number): ConversionSet {
  const journey: number[] = []
  const ts: number[] = []
  const revenue: number[] = []
  const leadTs: number[] = []
  const oppTs: number[] = []
  const converted = new Uint8Array(table.journeys.length)
  const inWindow = (t: number): boolean => t >= from && t <= to

  for (let j = 0; j < table.journeys.length; j++) {
    const jr = table.journeys[j]
    const identified = typeof jr.identifiedAt === 'number' && Number.isFinite(jr.identifiedAt) ? jr.identifiedAt : NaN
    if (kind === 'lead') {
      if (inWindow(identified)) {
        journey.push(j); ts.push(identified); revenue.push(0); leadTs.push(identified); oppTs.push(NaN)
        converted[j] = 1
      }
      continue
    }
    for (const deal of jr.deals ?? []) {
      const at = kind === 'won' ? firstWon(deal) : firstReached(deal, RANK[kind])
      if (!inWindow(at)) continue
      journey.push(j); ts.push(at); revenue.push(amountOf(deal)); leadTs.push(identified)
      oppTs.push(firstReached(deal, RANK.sql))
      converted[j] = 1
    }
  }
  const count = journey.length
  return {
    kind,
    count,
    journey: Int32Array.from(journey),
    ts: Float64Array.from(ts),
    revenue: Float64Array.from(revenue),
    leadTs: Float64Array.from(leadTs),
    oppTs: Float64Array.from(oppTs),
    closes: new Uint8Array(count).fill(kind === 'won' ? 1 : 0),
    converted,
  }
}
