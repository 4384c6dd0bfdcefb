// Marketing-sourced vs -influenced revenue and LTV:CAC on a dataset designed so they differ.
import { describe, expect, it } from 'vitest'
import { buildKpis, buildReport, compileJourneys, Engine, journeyOutline, journeyTable, type Journey } from '../../../src/attribution/index.js'
import { day, direct, rng, touch } from './helpers.js'

const won = (id: string, amount: number, n: number) => ({ dealId: id, amount, stages: [{ stage: 'won' as const, ts: day(n) }] })

// Won 20,000 in four deals:
// - P1 (acme): google d0, identified d1, won 10,000 d5 → sourced and influenced.
// - P2: direct d0, identified d1, linkedin d3, won 5,000 d5 → influenced only (its first
//   non-direct touch is after lead creation).
// - P3: direct only, won 2,000 → neither.
// - P4 (globex): direct only, won 3,000 d9; colleague P5 (globex) facebook d2 → influenced
//   through the account only.
// Sourced 10,000; influenced 18,000.
export function kpiDataset(): Journey[] {
  return [
    { id: 'P1', identifiedAt: day(1), account: 'acme', touches: [touch('google/cpc', 0)], deals: [won('w1', 10_000, 5)] },
    { id: 'P2', identifiedAt: day(1), touches: [direct(0), touch('linkedin/paid_social', 3)], deals: [won('w2', 5_000, 5)] },
    { id: 'P3', identifiedAt: day(1), touches: [direct(0)], deals: [won('w3', 2_000, 5)] },
    { id: 'P4', identifiedAt: day(4), account: 'globex', touches: [direct(3)], deals: [won('w4', 3_000, 9)] },
    { id: 'P5', identifiedAt: day(2), account: 'globex', touches: [touch('facebook/paid_social', 2)] },
  ]
}

function kpis(js: Journey[], extra: { ltvMonths?: number; spend?: Array<{ date: string; source: string; medium: string; amount: number }> } = {}) {
  const table = journeyTable(js, 'deal')
  const report = buildReport({ journeys: table, model: 'linear', by: 'source', spend: extra.spend })
  return buildKpis({ journeys: table, accounts: journeyTable(js, 'account'), model: 'linear', by: 'source', rows: report.rows, ltvMonths: extra.ltvMonths })
}

describe('marketing-sourced vs -influenced revenue', () => {
  it('sourced 10,000, influenced 18,000 of 20,000 won', () => {
    const k = kpis(kpiDataset())
    expect(k.marketingSourcedRevenue).toBe(10_000)
    expect(k.marketingInfluencedRevenue).toBe(18_000)
    expect(k.ltvMonths).toBe(36)
    expect(k.ltvToCac).toEqual({})
  })
})

/** Leads in companies of four (some without an account), deals naming 1–3 of them, won or not. */
function randomDataset(seed: number): Journey[] {
  const r = rng(seed)
  const specs = ['google/cpc', 'facebook/paid_social', 'newsletter/email']
  const js: Journey[] = []
  for (let i = 0; i < 60; i++) {
    const touches = Array.from({ length: Math.floor(r() * 5) }, () => (r() < 0.4 ? direct(Math.floor(r() * 60)) : touch(specs[Math.floor(r() * 3)], Math.floor(r() * 60))))
    js.push({ id: `L${i}`, identifiedAt: r() < 0.9 ? day(Math.floor(r() * 60)) : null, account: r() < 0.8 ? `c${i >> 2}` : null, touches, deals: [] })
  }
  for (let d = 0; d < 30; d++) {
    const at = Math.floor(r() * js.length)
    const company = at & ~3
    const leads = r() < 0.4 ? [company + Math.floor(r() * 4), company + Math.floor(r() * 4)].filter((m) => m < js.length).map((m) => `L${m}`) : undefined
    const stage = r() < 0.7 ? 'won' as const : 'opportunity' as const
    ;(js[at].deals as object[]).push({ dealId: `D${d}`, amount: Math.round(r() * 10_000) / 7, leads, stages: [{ stage, ts: day(Math.floor(r() * 70)) }] })
  }
  return js
}

describe('influenced revenue from the account outline', () => {
  // What the KPIs summed before they took an outline: won revenue over an engine of the built
  // account table, paths with a non-direct touch only.
  function engineInfluenced(js: Journey[], opts: { from?: number; to?: number; lookbackDays?: number }): number {
    const p = new Engine(journeyTable(js, 'account'), { by: 'channel', ...opts }).paths('won')
    let sum = 0
    for (let c = 0; c < p.count; c++) if (p.length[c] > 0 && p.keepDirect[c] === 0) sum += p.revenue[c]
    return sum
  }

  it('is the engine\'s sum over the built account table, to the last bit', () => {
    let positive = 0
    for (let seed = 1; seed <= 40; seed++) {
      const js = randomDataset(seed)
      const table = compileJourneys(js)
      const opts = seed % 2 === 0 ? { from: day(20), to: day(50), lookbackDays: 10 } : {}
      const expected = engineInfluenced(js, opts)
      const rows = [{ key: 'google', spend: 0 }]
      for (const accounts of [journeyOutline(table, 'account'), journeyTable(table, 'account')]) {
        const k = buildKpis({ journeys: journeyTable(table, 'deal'), accounts, model: 'linear', by: 'source', rows, ...opts })
        expect(k.marketingInfluencedRevenue, `seed ${seed}`).toBe(expected)
      }
      if (expected > 0) positive++
    }
    expect(positive).toBeGreaterThan(20)
  })

  it('has no columns of its own: it reads the stored table\'s', () => {
    const table = compileJourneys(randomDataset(7))
    const outline = journeyOutline(table, 'account')
    expect(outline.ts).toBe(table.ts)
    expect(outline.journeys.length).toBeGreaterThan(table.journeys.length)
    expect(outline.journeys).toEqual(journeyTable(table, 'account').journeys)
  })
})

describe('LTV:CAC', () => {
  // acme wins again 4,000 after 12 months and 1,000 after 40: its lifetime value over 36 months
  // is 14,000; google spent 2,000 → 7. Over 12 months: 10,000 + 4,000 (won d370 ≤ d5 + 12 months).
  const js = kpiDataset()
  js[0] = { ...js[0], deals: [won('w1', 10_000, 5), won('w1b', 4_000, 370), won('w1c', 1_000, 5 + 1230)] }
  const spend = [{ date: '2026-01-01', source: 'google', medium: 'cpc', amount: 2_000 }]
  it('credited lifetime value over spend, per row with spend', () => {
    expect(kpis(js, { spend }).ltvToCac).toEqual({ google: 7 })
    expect(kpis(js, { spend, ltvMonths: 48 }).ltvToCac).toEqual({ google: 7.5 })
    expect(kpis(js, { spend, ltvMonths: 6 }).ltvToCac).toEqual({ google: 5 })
  })
})
