// Marketing-sourced vs -influenced revenue and LTV:CAC on a dataset designed so they differ.
import { describe, expect, it } from 'vitest'
import { buildKpis, buildReport, journeyTable, type Journey } from '../../../src/attribution/index.js'
import { day, direct, touch } from './helpers.js'

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
