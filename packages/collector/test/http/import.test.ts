import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, pageEvent, secret, startTestServer, visitorId, type TestServer } from './helpers.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer({ importMaxEvents: 1000 })
})
afterAll(async () => {
  await server.close()
})

describe('POST /v1/import', () => {
  it('stores events with ts as given, deduplicates, and reports bad events', async () => {
    const vid = visitorId()
    const old = Date.UTC(2024, 0, 15, 12)
    const events = [
      pageEvent(vid, { ts: old, touch: { ts: old, source: 'bing', medium: 'cpc' } }),
      ...Array.from({ length: 500 }, (_, i) => pageEvent(vid, { ts: old + i * 1000 })),
      pageEvent(vid, { ts: 'yesterday' }),
    ]
    const res = await secret(server, '/v1/import', { events })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ accepted: 501, duplicates: 0, rejected: [{ index: 501, code: 'CL_ERR_INVALID_EVENT' }] })
    const replay = await secret(server, '/v1/import', { events: events.slice(0, 10) })
    expect(replay.body).toMatchObject({ accepted: 0, duplicates: 10 })

    const held = await server.store.exportPerson(server.site.id, { visitorId: vid })
    expect(Math.min(...held.events.map((e) => Number(e.ts)))).toBe(old)
    const lead = await secret(server, '/v1/identify', { visitorId: vid, externalId: 'imp-1' })
    expect(lead.body.firstTouch).toMatchObject({ ts: old, source: 'bing', channel: 'Paid Search' })
  })

  it('an imported touch earlier than the original source becomes it; a collected one never does', async () => {
    const vid = visitorId()
    const now = Date.now()
    const live = pageEvent(vid, { ts: now - 60_000, touch: { ts: now - 60_000, source: 'google', medium: 'cpc' } })
    expect((await collect(server, [live], { sentAt: now })).body.accepted).toBe(1)
    const lead = await secret(server, '/v1/identify', { visitorId: vid, email: 'backfill@example.com' })
    expect(lead.body.firstTouch).toMatchObject({ source: 'google' })
    // A second device whose clock runs a day early, collected after the link: not the original source.
    const device = visitorId()
    expect((await secret(server, '/v1/identify', { visitorId: device, email: 'backfill@example.com' })).status).toBe(200)
    const skewed = pageEvent(device, { ts: now - 86_400_000, touch: { ts: now - 86_400_000, source: 'bing', medium: 'cpc' } })
    expect((await collect(server, [skewed], { sentAt: now - 86_400_000 + 1000 })).body.accepted).toBe(1)
    // identify again (idempotent) answers with the lead's original source.
    const source = async () => (await secret(server, '/v1/identify', { visitorId: vid, email: 'backfill@example.com' })).body.firstTouch
    expect(await source()).toMatchObject({ source: 'google' })
    // The CRM backfills the trade-show scan of last month: it is the original source now.
    const tradeshow = pageEvent(vid, { ts: now - 30 * 86_400_000, touch: { ts: now - 30 * 86_400_000, source: 'tradeshow', medium: 'offline' } })
    expect((await secret(server, '/v1/import', { events: [tradeshow] })).body.accepted).toBe(1)
    expect(await source()).toMatchObject({ source: 'tradeshow', medium: 'offline' })
  })

  it('needs the secret key and honours the event cap', async () => {
    const vid = visitorId()
    const pub = await secret(server, '/v1/import', { events: [pageEvent(vid)] }, { authorization: `Bearer ${server.pk}` })
    expect(pub.status).toBe(401)
    const none = await secret(server, '/v1/import', { events: [pageEvent(vid)] }, { authorization: '' })
    expect(none.body.error.code).toBe('CL_ERR_MISSING_SECRET_KEY')
    const many = await secret(server, '/v1/import', { events: Array.from({ length: 1001 }, () => pageEvent(vid)) })
    expect(many.status).toBe(413)
    expect(many.body.error.code).toBe('CL_ERR_TOO_MANY_EVENTS')
    expect((await secret(server, '/v1/import', { events: [pageEvent(vid)] })).body.accepted).toBe(1)
  })
})
