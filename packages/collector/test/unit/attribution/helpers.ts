import { buildReport, type AttributionTouch, type DealStageChange, type Journey, type ModelName, type ReportInput } from '../../../src/attribution/index.js'

export const DAY = 86_400_000
export const T0 = Date.UTC(2026, 0, 1)
export const day = (n: number): number => T0 + n * DAY

const CHANNEL: Record<string, string> = {
  'google/cpc': 'Paid Search',
  'bing/cpc': 'Paid Search',
  'google/organic': 'Organic Search',
  'facebook/paid_social': 'Paid Social',
  'newsletter/email': 'Email',
  '(direct)/(none)': 'Direct',
}

/** A touch from "source/medium[/campaign]" on day n. */
export function touch(spec: string, n: number, extra: Partial<AttributionTouch> = {}): AttributionTouch {
  const [source, medium, campaign] = spec.split('/')
  return {
    ts: day(n),
    source,
    medium,
    campaign: campaign ?? null,
    channel: CHANNEL[`${source}/${medium}`] ?? 'Referral',
    ...extra,
  }
}

export const direct = (n: number): AttributionTouch => touch('(direct)/(none)', n)

export function wonDeal(id: string, amount: number, stages: Array<[DealStageChange['stage'], number]>) {
  return { dealId: id, amount, stages: stages.map(([stage, n]) => ({ stage, ts: day(n) })) }
}

/** A journey whose touches are keyed by source; identified on `lead`, one deal won on `won`. */
export function journey(id: string, touches: AttributionTouch[], opts: { lead?: number; opp?: number; won?: number; amount?: number } = {}): Journey {
  const deals = []
  if (opts.won !== undefined || opts.opp !== undefined) {
    const stages: Array<[DealStageChange['stage'], number]> = []
    if (opts.opp !== undefined) stages.push(['opportunity', opts.opp])
    if (opts.won !== undefined) stages.push(['won', opts.won])
    deals.push(wonDeal(`${id}-d`, opts.amount ?? 100, stages))
  }
  return { id, identifiedAt: opts.lead === undefined ? null : day(opts.lead), touches, deals }
}

export type Credits = Record<string, { conversions: number; revenue: number }>

/** Report rows as key → credited conversions/revenue (rows without conversions left out). */
export function credits(input: Omit<ReportInput, 'by'> & { by?: ReportInput['by'] }): Credits {
  const r = buildReport({ by: 'source', ...input })
  const out: Credits = {}
  for (const row of r.rows) if (row.conversions !== 0 || row.revenue !== 0) out[row.key] = { conversions: row.conversions, revenue: row.revenue }
  return out
}

export function shares(journeys: Journey[], model: ModelName, extra: Partial<ReportInput> = {}): Record<string, number> {
  const c = credits({ journeys, model, ...extra })
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.conversions]))
}

/** Deterministic PRNG (mulberry32) so random tests are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function expectShares(actual: Record<string, number>, expected: Record<string, number>, digits = 10): void {
  const keys = new Set([...Object.keys(actual), ...Object.keys(expected)])
  for (const k of keys) {
    const a = actual[k] ?? 0
    const e = expected[k] ?? 0
    if (Math.abs(a - e) > 10 ** -digits) throw new Error(`share of ${k}: expected ${e}, got ${a} (all: ${JSON.stringify(actual)})`)
  }
}
