import { describe, expect, it } from 'vitest'
import { AttributionError, buildModelsComparison, buildReport, CONVERSIONS, isoWeekOfDay, MODELS, UNATTRIBUTED_KEY, UNMATCHED_SPEND_KEY, type AttributionTouch, type Dimension, type Journey, type SpendRow } from '../../../src/attribution/index.js'
import { toClError } from '../../../src/errors.js'
import { formatModels } from '../../../src/reports/format.js'
import { day, direct, journey, rng, touch, wonDeal } from './helpers.js'

const journeys: Journey[] = [
  journey('a', [touch('google/cpc/brand', 0), touch('facebook/paid_social/retarget', 2)], { lead: 3, opp: 5, won: 10, amount: 1000 }),
  journey('b', [touch('google/cpc/brand', 1)], { lead: 2 }),
  journey('c', [touch('google/cpc/generic', 4), direct(5)], { lead: 6, opp: 7, won: 8, amount: 500 }),
  journey('anon', [touch('google/cpc/brand', 3), direct(4), touch('bing/cpc', 5)]),
]

const row = (r: ReturnType<typeof buildReport>, key: string) => {
  const found = r.rows.find((x) => x.key === key)
  if (!found) throw new Error(`no row ${key} in ${r.rows.map((x) => x.key).join(',')}`)
  return found
}

describe('buildReport', () => {
  it('has the shape and echoes the options', () => {
    const r = buildReport({ journeys, model: 'linear', by: 'source', from: day(0), to: day(30), currency: 'EUR' })
    expect(Object.keys(r)).toEqual(['model', 'by', 'conversion', 'from', 'to', 'lookbackDays', 'currency', 'coverage', 'utmCompleteness', 'totals', 'rows'])
    expect(r).toMatchObject({ model: 'linear', by: 'source', conversion: 'won', from: '2026-01-01T00:00:00.000Z', to: '2026-01-31T00:00:00.000Z', lookbackDays: 90, currency: 'EUR' })
    expect(Object.keys(r.rows[0])).toEqual(['key', 'touches', 'leads', 'conversions', 'revenue', 'spend', 'roas', 'cac', 'costPerLead', 'avgDealSize', 'conversionRate'])
    expect(buildReport({ journeys, model: 'linear', by: 'source' })).toMatchObject({ from: null, to: null })
  })

  it('touches, leads, conversions, revenue and the rates per key', () => {
    const r = buildReport({ journeys, model: 'last_touch', by: 'source' })
    // google touches: a d0, b d1, c d4, anon d3; leads (last touch at identify): a→facebook, b→google, c→google.
    expect(row(r, 'google')).toMatchObject({ touches: 4, leads: 2, conversions: 1, revenue: 500, spend: 0, roas: null, cac: 0, costPerLead: 0, avgDealSize: 500, conversionRate: 0.5 })
    expect(row(r, 'facebook')).toMatchObject({ touches: 1, leads: 1, conversions: 1, revenue: 1000, avgDealSize: 1000, conversionRate: 1 })
    // Direct and anonymous touches count as touches though they get no credit here.
    expect(row(r, '(direct)')).toMatchObject({ touches: 2, leads: 0, conversions: 0, conversionRate: null })
    expect(row(r, 'bing')).toMatchObject({ touches: 1, conversions: 0 })
    expect(r.totals).toMatchObject({ touches: 8, leads: 3, conversions: 2, revenue: 1500, spend: 0, avgDealSize: 750, roas: null })
    expect(r.rows.map((x) => x.key)).toEqual(['facebook', 'google', '(direct)', 'bing'])
  })

  it('touches counted only inside [from, to]', () => {
    const r = buildReport({ journeys, model: 'linear', by: 'source', from: day(2), to: day(4) })
    expect(row(r, 'google').touches).toBe(2)
    expect(r.totals.touches).toBe(4)
  })

  it('coverage: share of conversions and revenue with a non-direct touch', () => {
    const js = [...journeys, journey('d', [direct(1)], { lead: 1, won: 9, amount: 500 }), journey('e', [], { lead: 1, won: 9, amount: 1000 })]
    const r = buildReport({ journeys: js, model: 'linear', by: 'channel' })
    expect(r.coverage.conversions).toBeCloseTo(2 / 4, 12)
    expect(r.coverage.revenue).toBeCloseTo(1500 / 3000, 12)
    expect(row(r, 'Direct').conversions).toBe(1)
    expect(row(r, UNATTRIBUTED_KEY)).toMatchObject({ conversions: 1, revenue: 1000 })
    expect(buildReport({ journeys: [], model: 'linear', by: 'channel' }).coverage).toEqual({ conversions: null, revenue: null })
  })

  it('utmCompleteness: paid touches carrying source, medium and campaign', () => {
    // Paid touches: google brand ×3, facebook retarget, google generic, bing (no campaign) → 5/6.
    const r = buildReport({ journeys, model: 'linear', by: 'channel' })
    expect(r.utmCompleteness).toBeCloseTo(5 / 6, 12)
    expect(buildReport({ journeys: [journey('x', [direct(1)])], model: 'linear', by: 'channel' }).utmCompleteness).toBeNull()
  })

  it('week and month keys are the conversion’s period (ISO week, UTC)', () => {
    const r = buildReport({ journeys, model: 'markov', by: 'week' })
    // won d8 (2026-01-09) and d10 (2026-01-11) are both ISO week 2 of 2026.
    expect(row(r, '2026-W02')).toMatchObject({ conversions: 2, revenue: 1500 })
    const m = buildReport({ journeys, model: 'linear', by: 'month' })
    expect(row(m, '2026-01')).toMatchObject({ conversions: 2, revenue: 1500, touches: 8, leads: 3 })
    expect(isoWeekOfDay(Date.UTC(2025, 11, 29) / 86_400_000)).toBe('2026-W01')
    expect(isoWeekOfDay(Date.UTC(2026, 0, 4) / 86_400_000)).toBe('2026-W01')
    expect(isoWeekOfDay(Date.UTC(2027, 0, 1) / 86_400_000)).toBe('2026-W53')
    expect(isoWeekOfDay(Date.UTC(2021, 0, 3) / 86_400_000)).toBe('2020-W53')
  })

  it('hostile key values are plain data', () => {
    const js = [journey('h', [touch('__proto__/cpc', 0, { campaign: '<script>alert(1)</script>' }), touch('constructor/cpc', 1)], { lead: 1, won: 2, amount: 10 })]
    const r = buildReport({ journeys: js, model: 'linear', by: 'source' })
    expect(row(r, '__proto__').conversions).toBe(0.5)
    expect(row(r, 'constructor').conversions).toBe(0.5)
    const c = buildReport({ journeys: js, model: 'first_touch', by: 'campaign' })
    expect(row(c, '<script>alert(1)</script>').revenue).toBe(10)
  })

  it('rejects bad options with CL_ERR_VALIDATION', () => {
    const bad = [
      { model: 'nope' },
      { by: 'nope' },
      { conversion: 'nope' },
      { lookbackDays: 0 },
      { halfLifeDays: -1 },
      { lookbackDays: Number.NaN },
      { from: day(5), to: day(1) },
    ]
    for (const b of bad) {
      const input = { journeys, model: 'linear', by: 'source', ...b } as Parameters<typeof buildReport>[0]
      try {
        buildReport(input)
        throw new Error(`accepted ${JSON.stringify(b)}`)
      } catch (e) {
        expect(e).toBeInstanceOf(AttributionError)
        expect((e as AttributionError).reason).toBe('invalid_option')
        expect(toClError(e)).toMatchObject({ code: 'CL_ERR_VALIDATION', status: 400, message: (e as Error).message })
      }
    }
  })
})

describe('spend', () => {
  const spend: SpendRow[] = [
    { date: '2026-01-02', source: 'Google', medium: 'CPC', campaign: 'Brand', amount: 300 }, // exact triple, case-insensitive
    { date: '2026-01-03', source: 'google', medium: 'cpc', campaign: 'unknown', amount: 40 }, // → (google, cpc): brand 3, generic 1
    { date: '2026-01-04', source: 'facebook', medium: 'display', campaign: 'x', amount: 10 }, // → source facebook
    { date: '2026-01-05', source: 'tiktok', medium: 'paid_social', campaign: 'launch', amount: 7 }, // matches nothing
    { date: '2025-06-01', source: 'google', medium: 'cpc', campaign: 'brand', amount: 1e6 }, // outside the window
    { date: '2026-02-30', source: 'google', medium: 'cpc', campaign: 'brand', amount: 1e6 }, // not a date
  ]
  const opts = { journeys, spend, model: 'linear' as const, from: day(0), to: day(30) }

  it('matches (source, medium, campaign), then (source, medium), then source', () => {
    const r = buildReport({ ...opts, by: 'campaign' })
    expect(row(r, 'brand').spend).toBeCloseTo(300 + 30, 10)
    expect(row(r, 'generic').spend).toBeCloseTo(10, 10)
    expect(row(r, 'retarget').spend).toBeCloseTo(10, 10)
    // Unmatched spend keeps its own campaign as key.
    expect(row(r, 'launch')).toMatchObject({ spend: 7, touches: 0, conversions: 0, roas: 0, cac: null })
    expect(r.totals.spend).toBe(357)
    expect(r.rows.reduce((s, x) => s + x.spend, 0)).toBeCloseTo(357, 9)
  })

  it('derives ROAS, CAC and cost per lead with null-safe division', () => {
    const r = buildReport({ ...opts, by: 'source' })
    const g = row(r, 'google')
    expect(g.spend).toBeCloseTo(340, 9)
    // linear: google gets 0.5 of deal a (1000) and all of deal c (500) → 1.5 conversions, 1000 revenue.
    expect(g.conversions).toBeCloseTo(1.5, 12)
    expect(g.revenue).toBeCloseTo(1000, 9)
    expect(g.roas).toBeCloseTo(1000 / 340, 12)
    expect(g.cac).toBeCloseTo(340 / 1.5, 9)
    expect(g.costPerLead).toBeCloseTo(340 / g.leads, 9)
    expect(row(r, 'tiktok')).toMatchObject({ spend: 7, cac: null, costPerLead: null, avgDealSize: null, conversionRate: null })
  })

  it('unmatched spend goes to the injected channel classifier, else (unmatched spend)', () => {
    expect(row(buildReport({ ...opts, by: 'channel' }), UNMATCHED_SPEND_KEY).spend).toBe(7)
    const r = buildReport({ ...opts, by: 'channel', spendChannel: (s) => (s.medium === 'paid_social' ? 'Paid Social' : 'Unassigned') })
    expect(row(r, 'Paid Social').spend).toBeCloseTo(10 + 7, 9)
    expect(row(r, 'Paid Search').spend).toBeCloseTo(340, 9)
  })

  it('by week: spend by its own date', () => {
    const r = buildReport({ ...opts, by: 'week' })
    // 2026-01-02..04 are in ISO week 1; Monday 2026-01-05 starts week 2.
    expect(row(r, '2026-W01').spend).toBe(350)
    expect(row(r, '2026-W02').spend).toBe(7)
  })
})

describe('buildModelsComparison', () => {
  it('puts every model side by side on the same rows', () => {
    const cmp = buildModelsComparison({ journeys, by: 'source', spend: [{ date: '2026-01-02', source: 'google', amount: 100 }] })
    expect(cmp.models).toEqual(MODELS)
    expect(cmp.totals).toMatchObject({ conversions: 2, revenue: 1500, spend: 100, touches: 8 })
    const google = cmp.rows.find((r) => r.key === 'google')
    expect(google?.spend).toBe(100)
    // first_touch: a, b and c all start on google → 3 leads, both won deals (1000 + 500), spend 100.
    expect(google?.models.first_touch).toEqual({ leads: 3, conversions: 2, revenue: 1500, roas: 15, cac: 50, costPerLead: 100 / 3, avgDealSize: 750, conversionRate: 2 / 3 })
    // last_touch: leads a→facebook, b→google, c→google; won c→google (generic, direct skipped), a→facebook.
    expect(google?.models.last_touch).toEqual({ leads: 2, conversions: 1, revenue: 500, roas: 5, cac: 100, costPerLead: 50, avgDealSize: 500, conversionRate: 0.5 })
    expect(cmp.rows.find((r) => r.key === 'facebook')?.models.first_touch).toEqual({ leads: 0, conversions: 0, revenue: 0, roas: null, cac: null, costPerLead: null, avgDealSize: null, conversionRate: null })
    expect(google?.models.linear.conversions).toBeCloseTo(1.5, 12)
    expect(cmp.totals).toEqual({ touches: 8, leads: 3, conversions: 2, revenue: 1500, spend: 100, roas: 15, cac: 50, costPerLead: 100 / 3, avgDealSize: 750, conversionRate: 2 / 3 })
    // `closeloop report --model all --format csv`: every model column, <model>_<field>.
    const [head, ...lines] = formatModels(cmp, 'csv').trimEnd().split('\r\n').map((l) => l.split(','))
    expect(head.slice(0, 11)).toEqual(['source', 'touches', 'spend', 'first_touch_leads', 'first_touch_conversions', 'first_touch_revenue', 'first_touch_roas', 'first_touch_cac', 'first_touch_costPerLead', 'first_touch_avgDealSize', 'first_touch_conversionRate'])
    expect(head).toHaveLength(3 + 8 * MODELS.length)
    const csvGoogle = Object.fromEntries(head.map((h, i) => [h, lines.find((l) => l[0] === 'google')?.[i]]))
    expect(csvGoogle).toMatchObject({ spend: '100', last_touch_leads: '2', last_touch_costPerLead: '50', last_touch_conversionRate: '0.5', shapley_revenue: String(google?.models.shapley.revenue) })
    for (const m of MODELS) {
      expect(cmp.rows.reduce((s, r) => s + r.models[m].conversions, 0)).toBeCloseTo(2, 12)
      const single = buildReport({ journeys, by: 'source', model: m })
      for (const r of single.rows) expect(cmp.rows.find((x) => x.key === r.key)?.models[m].conversions).toBeCloseTo(r.conversions, 12)
    }
  })

  // Random journeys (anonymous ones, direct touches, several deals, touches outside the window) and spend.
  const SOURCES = ['google/cpc/brand', 'google/cpc/generic', 'facebook/paid_social/retarget', 'newsletter/email/weekly', 'google/organic', 'partner/referral']
  function randomBusiness(seed: number, n: number): { journeys: Journey[]; spend: SpendRow[] } {
    const r = rng(seed)
    const js: Journey[] = []
    for (let i = 0; i < n; i++) {
      const touches: AttributionTouch[] = []
      const len = Math.floor(r() * 6)
      for (let k = 0; k < len; k++) touches.push(r() < 0.2 ? direct(r() * 120) : touch(SOURCES[Math.floor(r() * SOURCES.length)], r() * 120))
      const identified = r() < 0.6 ? r() * 130 : null
      const deals = []
      if (identified !== null) {
        for (let d = Math.floor(r() * 3); d > 0; d--) {
          const opp = identified + r() * 20
          deals.push(wonDeal(`${i}-${d}`, Math.round(r() * 10_000), r() < 0.6 ? [['sql', opp - 1], ['opportunity', opp], ['won', opp + r() * 30]] : [['opportunity', opp]]))
        }
      }
      js.push({ id: `j${i}`, identifiedAt: identified === null ? null : day(identified), touches, deals })
    }
    const spend: SpendRow[] = []
    for (let d = 0; d < 120; d += 3) {
      const date = new Date(day(d)).toISOString().slice(0, 10)
      spend.push({ date, source: 'google', medium: 'cpc', campaign: 'brand', amount: Math.round(r() * 300) })
      spend.push({ date, source: 'facebook', medium: 'paid_social', amount: Math.round(r() * 200) })
      spend.push({ date, source: 'tiktok', medium: 'paid_social', amount: 25 })
    }
    return { journeys: js, spend }
  }

  const business = randomBusiness(7, 300)
  const cases: Array<{ by: Dimension; from?: number; to?: number }> = [
    { by: 'source' },
    { by: 'channel', from: day(30), to: day(100) },
    { by: 'campaign', from: day(10), to: day(60) },
    { by: 'week', from: day(20), to: day(90) },
  ]
  for (const conversion of CONVERSIONS) {
    for (const c of cases) {
      it(`every model's column equals that model's own report row (${conversion}, by=${c.by}${c.from ? ', windowed' : ''})`, () => {
        const input = { ...business, ...c, conversion, lookbackDays: 45, spendChannel: () => 'Paid Other' }
        const cmp = buildModelsComparison(input)
        const byKey = new Map(cmp.rows.map((r) => [r.key, r]))
        expect(byKey.size).toBe(cmp.rows.length)
        for (const model of MODELS) {
          const single = buildReport({ ...input, model })
          expect(cmp.totals).toEqual(single.totals)
          expect(cmp.coverage).toEqual(single.coverage)
          const seen = new Set<string>()
          for (const { key, touches, spend, ...figures } of single.rows) {
            const row = byKey.get(key)
            expect(row, `${model}: row ${key}`).toBeDefined()
            expect({ touches: row?.touches, spend: row?.spend }).toEqual({ touches, spend })
            expect(row?.models[model], `${model}: row ${key}`).toEqual(figures)
            seen.add(key)
          }
          // Rows the single-model report leaves out have nothing under this model.
          for (const row of cmp.rows) {
            if (seen.has(row.key)) continue
            expect(row.models[model], `${model}: extra row ${row.key}`).toEqual({ leads: 0, conversions: 0, revenue: 0, roas: null, cac: null, costPerLead: null, avgDealSize: null, conversionRate: null })
            expect([row.touches, row.spend]).toEqual([0, 0])
          }
        }
        // Not vacuous: leads, spend and conversions all present, and the models disagree somewhere.
        expect(cmp.totals.leads).toBeGreaterThan(0)
        expect(cmp.totals.conversions).toBeGreaterThan(0)
        expect(cmp.totals.spend).toBeGreaterThan(0)
        if (c.by !== 'week' && conversion !== 'lead') {
          expect(cmp.rows.some((r) => r.models.first_touch.costPerLead !== r.models.last_touch.costPerLead)).toBe(true)
        }
      })
    }
  }
})

