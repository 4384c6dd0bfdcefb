// GET /v1/reports/quality against a real listening collector seeded over HTTP: paid-touch tagging,
// untagged paid sources, identity conflicts and rejected events, each counted from what was sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, secret, startTestServer, visitorId, type TestServer } from './helpers.js'
import { DAY, identify, importEvents, T0, touchEvent } from './outcome-helpers.js'

let server: TestServer
let conflict: { kept: string; other: string }
let rejectedCode: string

beforeAll(async () => {
  server = await startTestServer()
  const events = [
    touchEvent(visitorId(), T0, { source: 'google', medium: 'cpc', campaign: 'brand', click_id_type: 'gclid' }),
    touchEvent(visitorId(), T0 + DAY, { source: 'google', medium: 'cpc', campaign: 'generic' }),
    // Paid but untagged: auto-tagged clicks without utm_campaign, and a social ad without one.
    ...[2, 3, 4].map((d) => touchEvent(visitorId(), T0 + d * DAY, { source: 'google', medium: 'cpc', click_id_type: 'gclid' })),
    touchEvent(visitorId(), T0 + 5 * DAY, { source: 'facebook', medium: 'paid_social' }),
    // Not paid: never counted.
    touchEvent(visitorId(), T0 + 6 * DAY, { source: 'google', medium: 'organic' }),
    // Outside the window of the filtered query below.
    touchEvent(visitorId(), T0 + 40 * DAY, { source: 'bing', medium: 'cpc' }),
  ]
  await importEvents(server, events)
  const kept = await identify(server, { visitorId: visitorId(), email: 'ann@example.com' })
  const other = await identify(server, { visitorId: visitorId(), phone: '+14155550100' })
  await identify(server, { visitorId: visitorId(), email: 'ann@example.com', phone: '+14155550100' })
  conflict = { kept, other }
  const r = await collect(server, [{ id: 'not-an-event', type: 'nope' }])
  expect(r.status).toBe(200)
  rejectedCode = r.body.rejected[0].code
  expect(rejectedCode).toMatch(/^CL_ERR_/)
})
afterAll(() => server?.close())

describe('GET /v1/reports/quality', () => {
  it('counts paid touches, UTM completeness and untagged paid sources; lists conflicts and rejections', async () => {
    const r = await secret(server, '/v1/reports/quality')
    expect(r.status).toBe(200)
    expect(r.body.paidTouches).toBe(7)
    expect(r.body.utmCompleteness).toBeCloseTo(2 / 7, 10)
    expect(r.body.untaggedPaid).toEqual([
      { source: 'google', medium: 'cpc', clickIdType: 'gclid', touches: 3 },
      { source: 'bing', medium: 'cpc', clickIdType: null, touches: 1 },
      { source: 'facebook', medium: 'paid_social', clickIdType: null, touches: 1 },
    ])
    expect(r.body.duplicateLeads).toEqual([{ leadIds: [conflict.kept, conflict.other], reason: 'same phone as another lead' }])
    expect(r.body.rejected).toEqual([{ code: rejectedCode, count: 1 }])
  })

  it('takes from/to like the attribution report', async () => {
    const day = (d: number) => new Date(T0 + d * DAY).toISOString().slice(0, 10)
    const r = await secret(server, `/v1/reports/quality?from=${day(0)}&to=${day(10)}`)
    expect(r.status).toBe(200)
    expect(r.body.from).toBe(`${day(0)}T00:00:00.000Z`)
    expect(r.body.paidTouches).toBe(6)
    expect(r.body.untaggedPaid.map((u: { source: string }) => u.source)).toEqual(['google', 'facebook'])
    // The rejection happened now, not in January: it is outside this range.
    expect(r.body.rejected).toEqual([])
  })

  it('refuses unknown parameters and a missing key with coded errors', async () => {
    const bad = await secret(server, '/v1/reports/quality?model=linear')
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('CL_ERR_VALIDATION')
    const r = await fetch(`${server.url}/v1/reports/quality`)
    expect(r.status).toBe(401)
  })
})
