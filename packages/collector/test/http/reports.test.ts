// Report endpoints against a hand-built business seeded over HTTP; every number is checked against
// the pure engine run on the same journeys built by hand.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildModelsComparison, buildReport, MODELS, type Journey, type SpendRow } from '../../src/attribution/index.js'
import { classifyChannel } from '../../src/ingest/channel.js'
import { secret, startTestServer, visitorId, type TestServer } from './helpers.js'
import { DAY, identify, importEvents, T0, touchEvent, type TouchSpec } from './outcome-helpers.js'

/** A report response without what the route adds to the engine's report (journey mode, KPIs), checked on the way. */
function engineOnly(body: Record<string, unknown>): Record<string, unknown> {
  const { journey, kpis, ...rest } = body
  expect(journey).toBe('deal')
  expect(kpis).toMatchObject({ ltvMonths: 36 })
  return rest
}

let server: TestServer
const journeys: Journey[] = []
const spend: SpendRow[] = []

const GADS: TouchSpec = { source: 'google', medium: 'cpc', campaign: 'brand', click_id_type: 'gclid' }
const META: TouchSpec = { source: 'facebook', medium: 'paid_social', campaign: 'retarget', click_id_type: 'fbclid' }
const LINKEDIN: TouchSpec = { source: 'linkedin', medium: 'paid_social', campaign: 'abm' }
const NEWS: TouchSpec = { source: 'newsletter', medium: 'email', campaign: 'digest' }
const ORGANIC: TouchSpec = { source: 'google', medium: 'organic' }
const DIRECT: TouchSpec = { source: '(direct)', medium: '(none)' }

function engineTouch(t: TouchSpec, ts: number) {
  return { ts, source: t.source, medium: t.medium, campaign: t.campaign ?? null, channel: classifyChannel({ source: t.source, medium: t.medium, campaign: t.campaign ?? '', click_id_type: t.click_id_type }) }
}

/** Seeds one person over HTTP and records the same journey for the engine. */
async function person(id: string, devices: Array<Array<[TouchSpec, number]>>, email: string | null, identifyDay: number, deals: Array<{ id: string; amount: number; stages: Array<[string, string, number]>; currency?: string; sent?: number }>) {
  const touches = []
  const vids = devices.map(() => visitorId())
  for (let d = 0; d < devices.length; d++) {
    await importEvents(server, devices[d].map(([t, day]) => touchEvent(vids[d], T0 + day * DAY, t)))
    touches.push(...devices[d].map(([t, day]) => engineTouch(t, T0 + day * DAY)))
  }
  if (email === null) {
    journeys.push({ id, touches })
    return
  }
  for (const vid of vids) await identify(server, { visitorId: vid, email, ts: T0 + identifyDay * DAY })
  const jDeals = []
  for (const deal of deals) {
    for (const [crmStage, , day] of deal.stages) {
      const r = await secret(server, '/v1/deals', { dealId: deal.id, email, stage: crmStage, amount: deal.sent ?? deal.amount, ...(deal.currency ? { currency: deal.currency } : {}), ts: T0 + day * DAY })
      if (r.status !== 200) throw new Error(r.text)
    }
    jDeals.push({ dealId: deal.id, amount: deal.amount, stages: deal.stages.map(([, stage, day]) => ({ stage: stage as 'won', ts: T0 + day * DAY })) })
  }
  journeys.push({ id, identifiedAt: T0 + identifyDay * DAY, touches, deals: jDeals })
}

beforeAll(async () => {
  server = await startTestServer()
  expect((await secret(server, '/v1/rates', { rates: [{ currency: 'EUR', rate: 1.5 }] })).status).toBe(200)
  await person('A', [[[GADS, 0], [META, 3], [DIRECT, 5]]], 'a@example.com', 5.1, [{ id: 'A1', amount: 10_000, stages: [['Qualified To Buy', 'sql', 7], ['Closed Won', 'won', 20]] }])
  await person('B', [[[NEWS, 2], [ORGANIC, 4]]], 'b@example.com', 4.2, [{ id: 'B1', amount: 6_000, sent: 4_000, currency: 'EUR', stages: [['opportunity', 'opportunity', 10], ['won', 'won', 30]] }])
  await person('C', [[[LINKEDIN, 1]], [[GADS, 6]]], 'c@example.com', 6.5, [{ id: 'C1', amount: 3_000, stages: [['closedwon', 'won', 15]] }])
  await person('D', [[[{ ...GADS, campaign: 'generic' }, 1], [DIRECT, 2]]], null, 0, [])
  await person('E', [[[DIRECT, 3]]], 'e@example.com', 3.1, [{ id: 'E1', amount: 500, stages: [['won', 'won', 8]] }])
  await person('F', [[[META, 8]]], 'f@example.com', 8.5, [{ id: 'F1', amount: 700, stages: [['sql', 'sql', 9], ['closed lost', 'lost', 12]] }])
  const rows: SpendRow[] = []
  for (let d = 0; d < 10; d++) {
    rows.push({ date: new Date(T0 + d * DAY).toISOString().slice(0, 10), source: 'google', medium: 'cpc', campaign: 'brand', amount: 100 })
    rows.push({ date: new Date(T0 + d * DAY).toISOString().slice(0, 10), source: 'facebook', medium: 'paid_social', campaign: 'retarget', amount: 40 })
  }
  rows.push({ date: new Date(T0).toISOString().slice(0, 10), source: 'linkedin', medium: 'paid_social', campaign: 'abm', amount: 300 })
  rows.push({ date: new Date(T0).toISOString().slice(0, 10), source: 'tiktok', medium: 'cpc', campaign: 'test', amount: 25 })
  expect((await secret(server, '/v1/spend', { rows })).body.accepted).toBe(rows.length)
  spend.push(...rows)
})
afterAll(async () => { await server.close() })

const spendChannel = (r: SpendRow): string => classifyChannel({ source: r.source, medium: r.medium ?? '', campaign: r.campaign ?? '' })

/** Same numbers up to float summation order. */
function rounded(v: unknown): unknown {
  if (typeof v === 'number') return Math.round(v * 1e6) / 1e6
  if (Array.isArray(v)) return v.map(rounded)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rounded(x)]))
  return v
}

describe('GET /v1/reports/attribution', () => {
  for (const model of MODELS) {
    it(`${model} by channel matches the engine on the same journeys`, async () => {
      const r = await secret(server, `/v1/reports/attribution?model=${model}&by=channel`)
      expect(r.status).toBe(200)
      const expected = buildReport({ model, by: 'channel', journeys, spend, currency: 'USD', spendChannel })
      expect(rounded(engineOnly(r.body))).toEqual(rounded(expected))
      expect(r.body.totals.revenue).toBeCloseTo(19_500)
    })
  }

  it('credits revenue to the right campaigns (last touch) with spend, ROAS and window', async () => {
    const r = await secret(server, '/v1/reports/attribution?model=last_touch&by=campaign&from=2026-01-10&to=2026-01-31&conversion=won')
    expect(r.status).toBe(200)
    // In the window: A won day 20 (last non-direct: retarget), C day 15 (brand), E day 8 (direct
    // only, no campaign). B (day 30 = Feb 4) is out.
    const byKey = Object.fromEntries(r.body.rows.map((x: { key: string }) => [x.key, x]))
    expect(byKey.retarget.revenue).toBe(10_000)
    expect(byKey.brand.revenue).toBe(3_000)
    expect(byKey['(not set)'].revenue).toBe(500)
    expect(r.body.totals.conversions).toBe(3)
    expect(r.body.totals.revenue).toBe(13_500)
    expect(r.body.from).toBe('2026-01-10T00:00:00.000Z')
    expect(r.body.to).toBe('2026-01-31T23:59:59.999Z')
    expect(r.body.currency).toBe('USD')
    const expected = buildReport({ model: 'last_touch', by: 'campaign', from: Date.UTC(2026, 0, 10), to: Date.UTC(2026, 0, 31, 23, 59, 59, 999), journeys, spend, currency: 'USD', spendChannel })
    expect(rounded(engineOnly(r.body))).toEqual(rounded(expected))
  })

  for (const [by, conversion] of [['source_medium', 'opportunity'], ['week', 'won'], ['month', 'lead'], ['source', 'sql'], ['landing', 'won']] as const) {
    it(`by=${by} conversion=${conversion} matches the engine`, async () => {
      const r = await secret(server, `/v1/reports/attribution?model=time_decay&by=${by}&conversion=${conversion}&halfLifeDays=3&lookbackDays=30`)
      expect(r.status).toBe(200)
      if (by === 'landing') {
        // Landing pages group without their query string (which carries click IDs).
        expect(r.body.rows.map((x: { key: string }) => x.key)).toContain('https://shop.example/')
        return
      }
      const expected = buildReport({ model: 'time_decay', by, conversion, halfLifeDays: 3, lookbackDays: 30, journeys, spend, currency: 'USD', spendChannel })
      expect(rounded(engineOnly(r.body))).toEqual(rounded(expected))
    })
  }

  it('drills down: a channel filter keeps its campaigns with the same credit', async () => {
    const all = await secret(server, '/v1/reports/attribution?model=linear&by=campaign')
    const social = await secret(server, `/v1/reports/attribution?model=linear&by=campaign&channel=${encodeURIComponent('Paid Social')}`)
    expect(social.status).toBe(200)
    const keys = social.body.rows.map((r: { key: string }) => r.key).sort()
    // `test` is TikTok spend that matched no touch: Paid Social's spend, so in its drill-down too.
    expect(keys).toEqual(['abm', 'retarget', 'test'])
    const channels = await secret(server, '/v1/reports/attribution?model=linear&by=channel')
    const parent = channels.body.rows.find((r: { key: string }) => r.key === 'Paid Social')
    expect(social.body.rows.reduce((s: number, r: { spend: number }) => s + r.spend, 0)).toBeCloseTo(parent.spend)
    for (const row of social.body.rows) {
      const same = all.body.rows.find((r: { key: string }) => r.key === row.key)
      expect(rounded(row)).toEqual(rounded(same))
    }
    expect(social.body.totals.revenue).toBeCloseTo(social.body.rows.reduce((s: number, r: { revenue: number }) => s + r.revenue, 0))
    const sm = await secret(server, `/v1/reports/attribution?model=linear&by=source_medium&channel=${encodeURIComponent('Paid Search')}`)
    expect(sm.body.rows.map((r: { key: string }) => r.key)).toEqual(['google / cpc'])
    expect(sm.body.rows[0].spend).toBe(1000)
    const week = await secret(server, '/v1/reports/attribution?by=week&channel=Email')
    expect(week.status).toBe(400)
  })

  it('validates the query with coded 400s', async () => {
    for (const q of ['model=magic', 'by=planet', 'conversion=hug', 'from=yesterday', 'lookbackDays=0', 'lookbackDays=abc', 'halfLifeDays=-2', 'from=2026-02-01&to=2026-01-01', 'bogus=1', `from=${encodeURIComponent("' OR '1'='1")}`, 'to=hello%207', 'from=2026-02-30']) {
      const r = await secret(server, `/v1/reports/attribution?${q}`)
      expect([q, r.status, r.body.error?.code]).toEqual([q, 400, 'CL_ERR_VALIDATION'])
    }
    const anon = await fetch(`${server.url}/v1/reports/attribution`)
    expect(anon.status).toBe(401)
  })
})

describe('drill-down and journeys without touches', () => {
  it('a lead with no touches counts as (unattributed) overall, and in no channel\'s drill-down', async () => {
    const own = await startTestServer()
    try {
      const vid = visitorId()
      await importEvents(own, [touchEvent(vid, T0, GADS)])
      await identify(own, { visitorId: vid, email: 'touched@example.com', ts: T0 + DAY })
      // Identified from a device that never sent a page view (e.g. a form posted from the CRM).
      await identify(own, { visitorId: visitorId(), email: 'untouched@example.com', ts: T0 + DAY })
      for (const [email, dealId] of [['touched@example.com', 'T1'], ['untouched@example.com', 'U1']])
        expect((await secret(own, '/v1/deals', { dealId, email, stage: 'won', amount: 1000, ts: T0 + 2 * DAY })).status).toBe(200)
      const all = await secret(own, '/v1/reports/attribution?model=linear&by=channel')
      const rows = (r: typeof all) => r.body.rows.map((x: { key: string; revenue: number }) => [x.key, x.revenue]).sort()
      expect(rows(all)).toEqual([['(unattributed)', 1000], ['Paid Search', 1000]])
      const drill = await secret(own, `/v1/reports/attribution?model=linear&by=source_medium&channel=${encodeURIComponent('Paid Search')}`)
      expect(rows(drill)).toEqual([['google / cpc', 1000]])
    } finally {
      await own.close()
    }
  })
})

describe('report loads', () => {
  it('serve the reports that follow from one load until something is written', async () => {
    const day = new Date(T0).toISOString().slice(0, 10)
    const brandSpend = (amount: number) => secret(server, '/v1/spend', { rows: [{ date: day, source: 'google', medium: 'cpc', campaign: 'brand', amount }] })
    // A write first, so no load of the earlier tests is reused.
    expect((await brandSpend(100)).status).toBe(200)
    const spy = vi.spyOn(server.store, 'loadReportTable')
    try {
      const q = '/v1/reports/attribution?by=campaign&model='
      const first = await secret(server, q + 'linear')
      await secret(server, q + 'markov')
      await secret(server, '/v1/reports/attribution?by=campaign&model=linear&conversion=opportunity')
      expect(spy).toHaveBeenCalledTimes(1)
      // A write: the next report loads again, and sees it.
      expect((await brandSpend(107)).status).toBe(200)
      const again = await secret(server, q + 'linear')
      expect(spy).toHaveBeenCalledTimes(2)
      const brand = (r: typeof first) => r.body.rows.find((x: { key: string }) => x.key === 'brand').spend
      expect(brand(again) - brand(first)).toBeCloseTo(7, 6)
      // Put the original row back for the other tests.
      await brandSpend(100)
    } finally {
      spy.mockRestore()
    }
  })
})

describe('GET /v1/reports/models', () => {
  it('puts every model side by side, equal to the engine', async () => {
    const r = await secret(server, '/v1/reports/models?by=campaign&conversion=won')
    expect(r.status).toBe(200)
    expect(r.body.models).toEqual([...MODELS])
    const expected = buildModelsComparison({ by: 'campaign', conversion: 'won', journeys, spend, currency: 'USD', spendChannel })
    expect(rounded(engineOnly(r.body))).toEqual(rounded(expected))
  })

  it("gives each model the full figures of that model's attribution report, row by row", async () => {
    const q = 'by=channel&conversion=sql&from=2026-01-01&to=2026-01-31'
    const cmp = (await secret(server, `/v1/reports/models?${q}`)).body
    expect(cmp.totals.leads).toBe(5)
    for (const model of MODELS) {
      const single = (await secret(server, `/v1/reports/attribution?model=${model}&${q}`)).body
      expect(cmp.totals).toEqual(single.totals)
      expect(single.rows.length).toBeGreaterThan(0)
      for (const { key, touches, spend, ...figures } of single.rows) {
        const row = cmp.rows.find((x: { key: string }) => x.key === key)
        expect([model, key, row?.touches, row?.spend]).toEqual([model, key, touches, spend])
        expect([model, key, row?.models[model]]).toEqual([model, key, figures])
      }
    }
    // Leads are credited per model: B's lead (newsletter day 2, organic day 4) is Email's under
    // first_touch, not under last_touch; Paid Social's leads (A's META, C's LinkedIn, F) vary by model.
    const email = cmp.rows.find((x: { key: string }) => x.key === 'Email')
    expect([email.models.first_touch.leads, email.models.last_touch.leads]).toEqual([1, 0])
    const social = cmp.rows.find((x: { key: string }) => x.key === 'Paid Social')
    expect(social.spend).toBeGreaterThan(0)
    expect(new Set(MODELS.map((m) => social.models[m].leads)).size).toBeGreaterThan(1)
    for (const m of MODELS) expect(social.models[m].costPerLead).toBeCloseTo(social.spend / social.models[m].leads, 9)
  })
})

describe('GET /v1/reports/series', () => {
  it('gives revenue by channel per month equal to the attribution report of each month', async () => {
    const r = await secret(server, '/v1/reports/series?model=linear&period=month&from=2026-01-01&to=2026-02-28')
    expect(r.status).toBe(200)
    expect(r.body.periods).toEqual(['2026-01-01', '2026-02-01'])
    for (const [i, [from, to]] of [['2026-01-01', '2026-01-31'], ['2026-02-01', '2026-02-28']].entries()) {
      const month = await secret(server, `/v1/reports/attribution?model=linear&by=channel&from=${from}&to=${to}`)
      for (const row of month.body.rows.filter((x: { revenue: number }) => x.revenue > 0)) {
        const series = r.body.channels.find((c: { channel: string }) => c.channel === row.key)
        expect(series.revenue[i]).toBeCloseTo(row.revenue)
      }
    }
    const total = r.body.channels.reduce((s: number, c: { revenue: number[] }) => s + c.revenue[0] + c.revenue[1], 0)
    expect(total).toBeCloseTo(19_500)
    const weeks = await secret(server, '/v1/reports/series?period=week&from=2026-01-05&to=2026-01-18')
    expect(weeks.body.periods).toEqual(['2026-01-05', '2026-01-12'])
    expect((await secret(server, '/v1/reports/series?period=day')).status).toBe(400)
  })
})
