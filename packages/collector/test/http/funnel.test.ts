// GET /v1/reports/funnel against a real listening collector seeded over HTTP: leads by original
// source, cumulative stages from their deals, rates and median days, the window and the schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { secret, startTestServer, visitorId, type TestServer } from './helpers.js'
import { DAY, identify, importEvents, T0, touchEvent } from './outcome-helpers.js'

let server: TestServer
const iso = (d: number) => new Date(T0 + d * DAY).toISOString()
const deal = (body: Record<string, unknown>, d: number) => secret(server, '/v1/deals', { ...body, ts: iso(d) })

beforeAll(async () => {
  server = await startTestServer()
  const [a, b, c, d, e, late] = Array.from({ length: 6 }, visitorId)
  await importEvents(server, [
    touchEvent(a, T0, { source: 'google', medium: 'cpc', campaign: 'brand' }),
    touchEvent(b, T0, { source: '(direct)', medium: '(none)' }),
    // After B's identify: not its original source.
    touchEvent(b, T0 + 2 * DAY, { source: 'newsletter', medium: 'email', campaign: 'may' }),
    touchEvent(c, T0, { source: 'google', medium: 'organic' }),
    touchEvent(d, T0, { source: 'facebook', medium: 'paid_social', campaign: 'spring' }),
    touchEvent(e, T0, { source: 'bing', medium: 'cpc', campaign: 'brand' }),
    touchEvent(late, T0, { source: 'google', medium: 'cpc', campaign: 'brand' }),
  ])
  await identify(server, { visitorId: a, email: 'ann@ann.example', ts: T0 + DAY })
  await identify(server, { visitorId: b, email: 'bob@bob.example', ts: T0 + DAY })
  await identify(server, { visitorId: c, email: 'cat@cat.example', ts: T0 + 2 * DAY })
  await identify(server, { visitorId: d, email: 'dan@team.example', ts: T0 + 3 * DAY })
  // Eve, of Dan's account (same e-mail domain), is its first lead.
  await identify(server, { visitorId: e, email: 'eve@team.example', ts: T0 + 2 * DAY })
  await identify(server, { visitorId: late, email: 'lee@lee.example', ts: T0 + 40 * DAY })
  for (const [stage, d] of [['mql', 3], ['sql', 5], ['won', 11]] as const) expect((await deal({ dealId: 'A', email: 'ann@ann.example', stage, amount: 1000 }, d)).status).toBe(200)
  await deal({ dealId: 'B', email: 'bob@bob.example', stage: 'opportunity', amount: 500 }, 4)
  // Dan and Eve on one deal, Dan first: it advances Dan (facebook) only.
  await deal({ dealId: 'DE', emails: ['dan@team.example', 'eve@team.example'], stage: 'won', amount: 900 }, 8)
  await deal({ dealId: 'L', email: 'lee@lee.example', stage: 'won', amount: 100 }, 41)
})
afterAll(() => server?.close())

const counts = (r: { counts: Record<string, number> }) => [r.counts.lead, r.counts.mql, r.counts.sql, r.counts.opportunity, r.counts.won]

describe('GET /v1/reports/funnel', () => {
  it('counts leads by original source through cumulative stages, with rates and median days', async () => {
    const r = await secret(server, `/v1/reports/funnel?by=source&from=${iso(0).slice(0, 10)}&to=${iso(30).slice(0, 10)}`)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ by: 'source', journey: 'deal', stages: ['lead', 'mql', 'sql', 'opportunity', 'won'], from: iso(0), to: new Date(T0 + 31 * DAY - 1).toISOString() })
    const rows = Object.fromEntries(r.body.rows.map((x: { key: string; counts: Record<string, number> }) => [x.key, counts(x)]))
    expect(rows).toEqual({
      google: [2, 1, 1, 1, 1],
      '(direct)': [1, 1, 1, 1, 0],
      facebook: [1, 1, 1, 1, 1],
      bing: [1, 0, 0, 0, 0],
    })
    expect(r.body.rows[0].key).toBe('google')
    expect(r.body.total.key).toBe('(total)')
    expect(counts(r.body.total)).toEqual([5, 3, 3, 3, 2])
    expect(r.body.total.steps.map((s: { rate: number | null }) => s.rate)).toEqual([3 / 5, 1, 1, 2 / 3])
    // Days after identify: Ann mql 2, sql 4, won 10; Bob opportunity 3; Dan won 5.
    // lead→mql 2, 3, 5 → 3; mql→sql 2, 0, 0 → 0; sql→opp 6, 0, 0 → 0; opp→won 0, 0 → 0.
    expect(r.body.total.steps.map((s: { medianDays: number | null }) => s.medianDays)).toEqual([3, 0, 0, 0])
    const bing = r.body.rows.find((x: { key: string }) => x.key === 'bing')
    expect(bing.steps.map((s: { rate: number | null }) => s.rate)).toEqual([0, null, null, null])
  })

  it('groups by channel and campaign; without a window takes every lead', async () => {
    const byCampaign = await secret(server, '/v1/reports/funnel?by=campaign')
    expect(byCampaign.status).toBe(200)
    const leads = Object.fromEntries(byCampaign.body.rows.map((x: { key: string; counts: Record<string, number> }) => [x.key, x.counts.lead]))
    expect(leads).toEqual({ brand: 3, '(not set)': 2, spring: 1 })
    expect(byCampaign.body.total.counts.won).toBe(3)
    const byChannel = await secret(server, '/v1/reports/funnel')
    expect(byChannel.body.by).toBe('channel')
    expect(byChannel.body.rows.find((x: { key: string }) => x.key === 'Direct').counts.lead).toBe(1)
  })

  it('journey=account credits a deal to the first identified lead of its account', async () => {
    const r = await secret(server, '/v1/reports/funnel?by=source&journey=account&to=2026-02-01')
    expect(r.status).toBe(200)
    expect(r.body.journey).toBe('account')
    const rows = Object.fromEntries(r.body.rows.map((x: { key: string; counts: Record<string, number> }) => [x.key, counts(x)]))
    // Dan's deal moves to Eve (bing); the others are alone in their accounts and keep their deals.
    expect(rows).toEqual({
      google: [2, 1, 1, 1, 1],
      '(direct)': [1, 1, 1, 1, 0],
      facebook: [1, 0, 0, 0, 0],
      bing: [1, 1, 1, 1, 1],
    })
    expect(counts(r.body.total)).toEqual([5, 3, 3, 3, 2])
  })

  it('refuses unknown parameters, non-funnel dimensions and a missing key with coded errors', async () => {
    for (const q of ['model=linear', 'by=content', 'by=week', 'journey=team', 'from=2026-02-01&to=2026-01-01']) {
      const bad = await secret(server, `/v1/reports/funnel?${q}`)
      expect(bad.status, q).toBe(400)
      expect(bad.body.error.code).toBe('CL_ERR_VALIDATION')
    }
    const r = await fetch(`${server.url}/v1/reports/funnel`)
    expect(r.status).toBe(401)
  })
})
