// Properties every model must keep on random data.
import { describe, expect, it } from 'vitest'
import { buildReport, DIMENSIONS, MODELS, type AttributionTouch, type Journey } from '../../../src/attribution/index.js'
import { credits, day, direct, expectShares, rng, shares, touch, wonDeal } from './helpers.js'

const SOURCES = ['google/cpc/brand', 'google/cpc/generic', 'facebook/paid_social/retarget', 'newsletter/email/weekly', 'google/organic', 'partner/referral']

function randomJourneys(seed: number, n: number): Journey[] {
  const r = rng(seed)
  const out: Journey[] = []
  for (let i = 0; i < n; i++) {
    const touches: AttributionTouch[] = []
    const len = Math.floor(r() * 7)
    for (let k = 0; k < len; k++) {
      const t = r() * 200
      touches.push(r() < 0.2 ? direct(t) : touch(SOURCES[Math.floor(r() * SOURCES.length)], t, { content: r() < 0.5 ? 'ad1' : null, landing: `https://ex.com/p${Math.floor(r() * 3)}` }))
    }
    const identified = r() < 0.6 ? r() * 220 : null
    const deals = []
    if (identified !== null) {
      const nd = Math.floor(r() * 3)
      for (let d = 0; d < nd; d++) {
        const opp = identified + r() * 30
        const stages: Array<['opportunity' | 'won' | 'lost', number]> = [['opportunity', (opp - day(0)) / 86_400_000]]
        stages[0][1] = opp
        if (r() < 0.6) stages.push(['won', opp + r() * 40])
        else if (r() < 0.5) stages.push(['lost', opp + r() * 40])
        deals.push(wonDeal(`${i}-${d}`, Math.round(r() * 10_000), stages))
      }
    }
    out.push({ id: `j${i}`, identifiedAt: identified === null ? null : day(identified), touches, deals })
  }
  return out
}

describe('credits add up', () => {
  const js = randomJourneys(1, 400)
  for (const conversion of ['lead', 'sql', 'opportunity', 'won'] as const) {
    for (const model of MODELS) {
      it(`${model}, ${conversion}: conversions and revenue sum to the totals, credits ≥ 0, for every dimension`, () => {
        let expectedCount = -1
        for (const by of DIMENSIONS) {
          const r = buildReport({ journeys: js, model, by, conversion, lookbackDays: 60 })
          const conv = r.rows.reduce((s, row) => s + row.conversions, 0)
          const rev = r.rows.reduce((s, row) => s + row.revenue, 0)
          expect(conv).toBeCloseTo(r.totals.conversions, 8)
          expect(rev).toBeCloseTo(r.totals.revenue, 5)
          expect(r.rows.every((row) => row.conversions >= -1e-12 && row.revenue >= -1e-9)).toBe(true)
          if (expectedCount < 0) expectedCount = r.totals.conversions
          expect(r.totals.conversions).toBe(expectedCount)
        }
        expect(expectedCount).toBeGreaterThan(10)
      })
    }
  }
})

describe('order invariance', () => {
  it('every model ignores the order of journeys and of touches in the input', () => {
    const js = randomJourneys(2, 150)
    const shuffled = [...js].reverse().map((j) => ({ ...j, touches: [...j.touches].reverse() }))
    for (const model of MODELS) expectShares(shares(shuffled, model), shares(js, model), 9)
  })

  it('linear and shapley ignore the order of touches on the path; first_touch does not', () => {
    const r = rng(3)
    const base: Journey[] = []
    const permuted: Journey[] = []
    for (let i = 0; i < 60; i++) {
      const specs = Array.from({ length: 1 + Math.floor(r() * 5) }, () => SOURCES[Math.floor(r() * 4)])
      const order = specs.map((_, k) => k).sort(() => r() - 0.5)
      const mk = (seq: string[]): Journey => ({ id: `j${i}`, identifiedAt: day(10), touches: seq.map((s, k) => touch(s, k)), deals: [wonDeal(`d${i}`, 100 + i, [['won', 20]])] })
      base.push(mk(specs))
      permuted.push(mk(order.map((k) => specs[k])))
    }
    for (const model of ['linear', 'shapley'] as const) {
      const a = credits({ journeys: base, model })
      const b = credits({ journeys: permuted, model })
      expectShares(Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v.revenue])), Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.revenue])), 8)
    }
    expect(shares(permuted, 'first_touch')).not.toEqual(shares(base, 'first_touch'))
  })
})
