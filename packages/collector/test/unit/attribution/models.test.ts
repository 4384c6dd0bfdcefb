// Hand-computed credits for every model and the path rules of docs/attribution.md.
import { describe, expect, it } from 'vitest'
import { MODELS, UNATTRIBUTED_KEY } from '../../../src/attribution/index.js'
import { credits, direct, expectShares, journey, shares, touch, wonDeal } from './helpers.js'

const p2 = (x: number): number => Math.pow(2, x)

describe('one touch', () => {
  const js = [journey('j', [touch('google/cpc', 0)], { lead: 1, won: 10, amount: 500 })]
  for (const model of MODELS) {
    it(`${model}: 100% to the only touch`, () => {
      expect(credits({ journeys: js, model })).toEqual({ google: { conversions: 1, revenue: 500 } })
    })
  }
})

describe('two touches (google d0, facebook d2; identify d3, opportunity d5, won d10)', () => {
  const js = [journey('j', [touch('google/cpc', 0), touch('facebook/paid_social', 2)], { lead: 3, opp: 5, won: 10 })]
  const decayG = p2(-10 / 7)
  const decayF = p2(-8 / 7)
  const expected: Record<string, Record<string, number>> = {
    first_touch: { google: 1 },
    last_touch: { facebook: 1 },
    linear: { google: 0.5, facebook: 0.5 },
    position_based: { google: 0.5, facebook: 0.5 },
    time_decay: { google: decayG / (decayG + decayF), facebook: decayF / (decayG + decayF) },
    // first google 30; lead-creation and opportunity-creation both facebook 30+30; no rest touch,
    // so the 10% is redistributed in proportion: 30/90 and 60/90.
    w_shaped: { google: 1 / 3, facebook: 2 / 3 },
    // first google 22.5; lead, opp and closed-won all facebook; no rest: 22.5/90 and 67.5/90.
    full_path: { google: 0.25, facebook: 0.75 },
    // one path start→google→facebook→conv: removing either kills it, effects 1 and 1.
    markov: { google: 0.5, facebook: 0.5 },
    shapley: { google: 0.5, facebook: 0.5 },
  }
  for (const model of MODELS) {
    it(model, () => expectShares(shares(js, model), expected[model]))
  }
})

describe('five touches (A d0, B d1 = lead-creation, C d2 = opportunity-creation, D d3, E d4 = closed-won; won d5)', () => {
  const js = [
    journey(
      'j',
      [touch('a/cpc', 0), touch('b/cpc', 1), touch('c/cpc', 2), touch('d/cpc', 3), touch('e/cpc', 4)],
      { lead: 1.5, opp: 2.5, won: 5 },
    ),
  ]
  const w = [5, 4, 3, 2, 1].map((age) => p2(-age / 7))
  const W = w.reduce((a, b) => a + b)
  const expected: Record<string, Record<string, number>> = {
    first_touch: { a: 1 },
    last_touch: { e: 1 },
    linear: { a: 0.2, b: 0.2, c: 0.2, d: 0.2, e: 0.2 },
    position_based: { a: 0.4, b: 0.2 / 3, c: 0.2 / 3, d: 0.2 / 3, e: 0.4 },
    time_decay: { a: w[0] / W, b: w[1] / W, c: w[2] / W, d: w[3] / W, e: w[4] / W },
    w_shaped: { a: 0.3, b: 0.3, c: 0.3, d: 0.05, e: 0.05 },
    full_path: { a: 0.225, b: 0.225, c: 0.225, d: 0.1, e: 0.225 },
    markov: { a: 0.2, b: 0.2, c: 0.2, d: 0.2, e: 0.2 },
    shapley: { a: 0.2, b: 0.2, c: 0.2, d: 0.2, e: 0.2 },
  }
  for (const model of MODELS) {
    it(model, () => expectShares(shares(js, model), expected[model]))
  }
  it('time_decay with halfLifeDays 1 halves per day of age', () => {
    const v = [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2]
    const s = v.reduce((a, b) => a + b)
    expectShares(shares(js, 'time_decay', { halfLifeDays: 1 }), { a: v[0] / s, b: v[1] / s, c: v[2] / s, d: v[3] / s, e: v[4] / s })
  })
})

describe('coinciding W-shaped / full-path positions', () => {
  it('first = lead-creation and opportunity-creation = closed-won add up', () => {
    // identify at d0.5: lead-creation is A (also first); opportunity at d2: C (also closed-won).
    const js = [journey('j', [touch('a/cpc', 0), touch('b/cpc', 1), touch('c/cpc', 2)], { lead: 0.5, opp: 2, won: 3 })]
    expectShares(shares(js, 'w_shaped'), { a: 0.6, b: 0.1, c: 0.3 })
    expectShares(shares(js, 'full_path'), { a: 0.45, b: 0.1, c: 0.45 })
  })
  it('a lead conversion has no opportunity-creation touch: its 30% is redistributed proportionally', () => {
    const js = [journey('j', [touch('a/cpc', 0), touch('b/cpc', 1), touch('c/cpc', 2)], { lead: 2.5 })]
    // first A 30, lead-creation C 30, rest B 10 → /70.
    expectShares(shares(js, 'w_shaped', { conversion: 'lead' }), { a: 3 / 7, b: 1 / 7, c: 3 / 7 })
    // full_path: no opportunity, no closed-won → first 22.5, lead 22.5, rest 10 → /55.
    expectShares(shares(js, 'full_path', { conversion: 'lead' }), { a: 22.5 / 55, b: 10 / 55, c: 22.5 / 55 })
  })
  it('a lead-creation touch outside the lookback window is absent and its weight redistributed', () => {
    // identify d0 (touch A d0 is lead-creation), but the won conversion at d100 only looks back 90 days.
    const js = [journey('j', [touch('a/cpc', 0), touch('b/cpc', 20), touch('c/cpc', 50), touch('d/cpc', 60)], { lead: 0, opp: 50, won: 100 })]
    // path B, C, D: first B 30, opp C 30, rest D 10 → /70.
    expectShares(shares(js, 'w_shaped'), { b: 3 / 7, c: 3 / 7, d: 1 / 7 })
  })
})

describe('direct touches', () => {
  it('a direct-only path credits direct', () => {
    const js = [journey('j', [direct(0), direct(1)], { lead: 1, won: 2 })]
    for (const model of MODELS) expectShares(shares(js, model), { '(direct)': 1 })
  })
  it('direct touches mixed in are dropped', () => {
    const js = [journey('j', [touch('google/cpc', 0), direct(1), touch('facebook/paid_social', 2), direct(3)], { lead: 3, won: 4 })]
    expectShares(shares(js, 'last_touch'), { facebook: 1 })
    expectShares(shares(js, 'linear'), { google: 0.5, facebook: 0.5 })
    expectShares(shares(js, 'position_based'), { google: 0.5, facebook: 0.5 })
    expectShares(shares(js, 'shapley'), { google: 0.5, facebook: 0.5 })
    expectShares(shares(js, 'markov'), { google: 0.5, facebook: 0.5 })
  })
  it('an explicit direct flag wins over the source', () => {
    const js = [journey('j', [touch('google/cpc', 0), touch('weird/none', 1, { direct: true })], { lead: 1, won: 2 })]
    expectShares(shares(js, 'last_touch'), { google: 1 })
  })
})

describe('path window', () => {
  const js = [journey('j', [touch('google/cpc', 0), touch('facebook/paid_social', 100), touch('bing/cpc', 121)], { lead: 100, won: 120 })]
  it('touches older than lookbackDays are cut off', () => {
    expectShares(shares(js, 'linear'), { facebook: 1 })
    expectShares(shares(js, 'linear', { lookbackDays: 120 }), { google: 0.5, facebook: 0.5 })
  })
  it('the lookback boundary is inclusive', () => {
    expectShares(shares(js, 'first_touch', { lookbackDays: 120 }), { google: 1 })
    expectShares(shares(js, 'first_touch', { lookbackDays: 119.999 }), { facebook: 1 })
  })
  it('touches after the conversion never count', () => {
    expectShares(shares(js, 'last_touch', { lookbackDays: 365 }), { facebook: 1 })
  })
  it('a conversion with an empty path goes to the unattributed row with its revenue', () => {
    const empty = [journey('e', [touch('google/cpc', 50)], { lead: 1, won: 10, amount: 70 })]
    for (const model of MODELS) {
      expect(credits({ journeys: empty, model })).toEqual({ [UNATTRIBUTED_KEY]: { conversions: 1, revenue: 70 } })
    }
  })
})

describe('from/to and deals', () => {
  const js = [
    journey('early', [touch('google/cpc', 0)], { lead: 1, won: 10, amount: 100 }),
    journey('late', [touch('facebook/paid_social', 30)], { lead: 31, won: 40, amount: 200 }),
  ]
  it('from/to select conversions by conversion time, inclusive', () => {
    expect(credits({ journeys: js, model: 'linear', from: Date.UTC(2026, 0, 20) })).toEqual({ facebook: { conversions: 1, revenue: 200 } })
    expect(credits({ journeys: js, model: 'linear', to: Date.UTC(2026, 0, 11) })).toEqual({ google: { conversions: 1, revenue: 100 } })
    expect(credits({ journeys: js, model: 'linear', from: Date.UTC(2026, 1, 10), to: Date.UTC(2026, 1, 10) })).toEqual({ facebook: { conversions: 1, revenue: 200 } })
  })
  it('each deal of a lead is its own conversion with its own path', () => {
    const j = journey('multi', [touch('google/cpc', 0), touch('facebook/paid_social', 10)], { lead: 1 })
    j.deals = [wonDeal('d1', 100, [['won', 5]]), wonDeal('d2', 300, [['opportunity', 12], ['won', 20]]), wonDeal('d3', 999, [['lost', 25]])]
    const c = credits({ journeys: [j], model: 'linear' })
    expect(c.google.conversions).toBeCloseTo(1.5, 12)
    expect(c.google.revenue).toBeCloseTo(250, 10)
    expect(c.facebook.conversions).toBeCloseTo(0.5, 12)
    expect(c.facebook.revenue).toBeCloseTo(150, 10)
  })
})
