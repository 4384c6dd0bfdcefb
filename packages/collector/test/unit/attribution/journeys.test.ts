// A three-contact deal under each journey mode, hand-computed for every model.
import { describe, expect, it } from 'vitest'
import { buildReport, journeyTable, MODELS, type Journey } from '../../../src/attribution/index.js'
import { credits, day, expectShares, touch } from './helpers.js'

// Champion A (linkedin d0, identified d1) holds the deal; CFO B (google d3, identified d4) and
// C (newsletter d6, identified d7) are its other contacts. Opportunity d5, won d10, 9,000.
// D (facebook d2, identified d2) is A's colleague at the same account, on no deal.
function fixture(): Journey[] {
  return [
    {
      id: 'A', identifiedAt: day(1), account: 'acme', touches: [touch('linkedin/paid_social', 0)],
      deals: [{ dealId: 'd1', amount: 9000, leads: ['A', 'B', 'C'], stages: [{ stage: 'opportunity', ts: day(5) }, { stage: 'won', ts: day(10) }] }],
    },
    { id: 'B', identifiedAt: day(4), touches: [touch('google/cpc', 3)] },
    { id: 'C', identifiedAt: day(7), touches: [touch('newsletter/email', 6)] },
    { id: 'D', identifiedAt: day(2), account: 'acme', touches: [touch('facebook/paid_social', 2)] },
  ]
}

const decay = [Math.pow(2, -10 / 7), Math.pow(2, -7 / 7), Math.pow(2, -4 / 7)]
const dsum = decay[0] + decay[1] + decay[2]
// Merged path linkedin d0 → google d3 → newsletter d6; lead creation d1 (A, the earliest identify),
// opportunity d5, won d10.
const expected: Record<string, Record<string, number>> = {
  first_touch: { linkedin: 1 },
  last_touch: { newsletter: 1 },
  linear: { linkedin: 1 / 3, google: 1 / 3, newsletter: 1 / 3 },
  position_based: { linkedin: 0.4, google: 0.2, newsletter: 0.4 },
  time_decay: { linkedin: decay[0] / dsum, google: decay[1] / dsum, newsletter: decay[2] / dsum },
  // first linkedin 30, lead creation linkedin 30, opportunity google 30, the rest (newsletter) 10.
  w_shaped: { linkedin: 0.6, google: 0.3, newsletter: 0.1 },
  // first 22.5 + lead 22.5 linkedin, opportunity google 22.5, won newsletter 22.5; no rest: /90.
  full_path: { linkedin: 0.5, google: 0.25, newsletter: 0.25 },
  // One converting path through all three (D's facebook path does not lead to them): effects 1, 1, 1.
  markov: { linkedin: 1 / 3, google: 1 / 3, newsletter: 1 / 3 },
  shapley: { linkedin: 1 / 3, google: 1 / 3, newsletter: 1 / 3 },
}

describe('journey=deal: a deal credited across its three contacts', () => {
  for (const model of MODELS) {
    it(model, () => {
      const c = credits({ journeys: journeyTable(fixture(), 'deal'), model })
      expectShares(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.conversions])), expected[model])
      expectShares(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.revenue / 9000])), expected[model])
      expect(Object.values(c).reduce((s, v) => s + v.revenue, 0)).toBeCloseTo(9000, 8)
    })
  }

  it('hand-computed revenue: linear 3,000 each, w_shaped 5,400 / 2,700 / 900', () => {
    const lin = credits({ journeys: journeyTable(fixture(), 'deal'), model: 'linear' })
    expect(lin.linkedin.revenue).toBeCloseTo(3000, 8)
    expect(lin.google.revenue).toBeCloseTo(3000, 8)
    expect(lin.newsletter.revenue).toBeCloseTo(3000, 8)
    const w = credits({ journeys: journeyTable(fixture(), 'deal'), model: 'w_shaped' })
    expect(w.linkedin.revenue).toBeCloseTo(5400, 8)
    expect(w.google.revenue).toBeCloseTo(2700, 8)
    expect(w.newsletter.revenue).toBeCloseTo(900, 8)
  })

  it('touches and lead conversions are counted once per stored touch and lead', () => {
    const r = buildReport({ journeys: journeyTable(fixture(), 'deal'), model: 'linear', by: 'source' })
    expect(r.totals.touches).toBe(4)
    expect(r.totals.leads).toBe(4)
    expect(r.totals.conversions).toBe(1)
    expect(r.totals.revenue).toBe(9000)
    const row = (k: string) => r.rows.find((x) => x.key === k)
    // Each lead converts on its own path: one lead to each source.
    for (const k of ['linkedin', 'google', 'newsletter', 'facebook']) {
      expect(row(k)?.touches).toBe(1)
      expect(row(k)?.leads).toBe(1)
    }
  })
})

describe('journey=lead and journey=account', () => {
  it('lead: the primary lead only (all to linkedin)', () => {
    for (const model of MODELS) {
      expect(credits({ journeys: journeyTable(fixture(), 'lead'), model })).toEqual({ linkedin: { conversions: 1, revenue: 9000 } })
    }
  })

  it('account: every lead of the account plus the deal\'s contacts (linear: 2,250 each of 4)', () => {
    const c = credits({ journeys: journeyTable(fixture(), 'account'), model: 'linear' })
    for (const k of ['linkedin', 'facebook', 'google', 'newsletter']) expect(c[k].revenue).toBeCloseTo(2250, 8)
    // first linkedin d0 30, lead creation (A d1) linkedin 30, opportunity (d5) google 30, rest facebook + newsletter 5 each.
    const w = credits({ journeys: journeyTable(fixture(), 'account'), model: 'w_shaped' })
    expect(w.linkedin.revenue).toBeCloseTo(5400, 8)
    expect(w.google.revenue).toBeCloseTo(2700, 8)
    expect(w.facebook.revenue).toBeCloseTo(450, 8)
    expect(w.newsletter.revenue).toBeCloseTo(450, 8)
  })

  it('a single-lead deal is the same report in every mode, and the table is not copied', () => {
    const js: Journey[] = [{ id: 'X', identifiedAt: day(1), touches: [touch('google/cpc', 0), touch('bing/cpc', 2)], deals: [{ dealId: 'x', amount: 100, stages: [{ stage: 'won', ts: day(3) }] }] }]
    const base = buildReport({ journeys: js, model: 'w_shaped', by: 'source' })
    for (const mode of ['lead', 'deal', 'account'] as const) {
      const t = journeyTable(js, mode)
      expect(t.baseJourneys).toBeUndefined()
      expect(buildReport({ journeys: t, model: 'w_shaped', by: 'source' })).toEqual(base)
    }
  })

  it('a deal naming a lead not in the table uses the leads that are', () => {
    const js = fixture().filter((j) => j.id !== 'C')
    const c = credits({ journeys: journeyTable(js, 'deal'), model: 'linear' })
    expect(c.linkedin.revenue).toBeCloseTo(4500, 8)
    expect(c.google.revenue).toBeCloseTo(4500, 8)
  })
})
