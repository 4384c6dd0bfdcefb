import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, ORIGIN, pageEvent, secret, send, startTestServer, visitorId, type TestServer } from './helpers.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.close()
})

const HOUR = 3_600_000

describe('POST /v1/identify', () => {
  it('creates a lead and returns its original source, last non-direct touch and channel', async () => {
    const vid = visitorId()
    const t0 = Date.now() - 5 * HOUR
    await send(`${server.url}/v1/import`, {
      body: {
        events: [
          pageEvent(vid, { ts: t0, touch: { ts: t0, source: 'google', medium: 'cpc', campaign: 'spring', click_id: 'g1', click_id_type: 'gclid' } }),
          pageEvent(vid, { ts: t0 + HOUR, touch: { ts: t0 + HOUR, source: 'newsletter', medium: 'email', campaign: 'may' } }),
          pageEvent(vid, { ts: t0 + 2 * HOUR, touch: { ts: t0 + 2 * HOUR, source: '(direct)', medium: '(none)' } }),
        ],
      },
      headers: { authorization: `Bearer ${server.sk}`, 'content-type': 'application/json' },
    })
    const res = await secret(server, '/v1/identify', { visitorId: vid, email: 'Grace@Example.com', phone: '+44 20 7946 0958', externalId: 'crm-1', traits: { name: 'Grace' } })
    expect(res.status).toBe(200)
    expect(res.body.created).toBe(true)
    expect(res.body.leadId).toEqual(expect.any(String))
    expect(res.body.visitorIds).toEqual([vid])
    expect(res.body.touchCount).toBe(3)
    expect(res.body.firstTouch).toMatchObject({ source: 'google', medium: 'cpc', campaign: 'spring', channel: 'Paid Search' })
    expect(res.body.lastTouch).toMatchObject({ source: 'newsletter', channel: 'Email' })
    expect(res.body.channel).toBe('Paid Search')

    const again = await secret(server, '/v1/identify', { visitorId: visitorId(), email: 'grace@example.com ' })
    expect(again.body).toMatchObject({ leadId: res.body.leadId, created: false })
    expect(again.body.visitorIds).toHaveLength(2)
    // Original source is unchanged by the second device.
    expect(again.body.firstTouch.source).toBe('google')

    const lead = await secret(server, `/v1/leads/${res.body.leadId}`)
    expect(lead.status).toBe(200)
    expect(lead.body.lead).toMatchObject({ id: res.body.leadId, email: 'grace@example.com', phone: '+442079460958', externalId: 'crm-1' })
    expect(lead.body.touches.map((t: { source: string }) => t.source)).toEqual(['google', 'newsletter', '(direct)'])
    expect(JSON.stringify(lead.body)).not.toMatch(/Enc"/)
  })

  it('returns the direct touch as last touch when every touch was direct', async () => {
    const vid = visitorId()
    await collect(server, [pageEvent(vid, { touch: { source: '(direct)', medium: '(none)' } })])
    const res = await secret(server, '/v1/identify', { visitorId: vid, email: 'direct@example.com' })
    expect(res.body.lastTouch).toMatchObject({ source: '(direct)', channel: 'Direct' })
    expect(res.body.channel).toBe('Direct')
  })

  it('turns 50 concurrent identifies of one email into one lead', async () => {
    const email = 'race@example.com'
    const results = await Promise.all(Array.from({ length: 50 }, () => secret(server, '/v1/identify', { visitorId: visitorId(), email })))
    expect(results.every((r) => r.status === 200)).toBe(true)
    expect(new Set(results.map((r) => r.body.leadId)).size).toBe(1)
    expect(results.filter((r) => r.body.created)).toHaveLength(1)
    const lead = await secret(server, `/v1/leads/${results[0].body.leadId}`)
    expect(lead.body.visitorIds).toHaveLength(50)
  })

  it('without a visitor ID (tracker blocked or not allowed) still creates and updates the lead', async () => {
    const res = await secret(server, '/v1/identify', { email: 'blocked@example.com', traits: { form: 'demo' } })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ created: true, visitorIds: [], firstTouch: null, lastTouch: null, touchCount: 0, channel: null })
    // A form's empty hidden field arrives as "" (or null): no visitor either, the same lead.
    for (const visitorId of ['', null]) {
      const again = await secret(server, '/v1/identify', { visitorId, email: 'Blocked@example.com', traits: { plan: 'pro' } })
      expect(again.status).toBe(200)
      expect(again.body).toMatchObject({ leadId: res.body.leadId, created: false, visitorIds: [] })
    }
    const lead = await secret(server, `/v1/leads/${res.body.leadId}`)
    expect(lead.body.lead).toMatchObject({ email: 'blocked@example.com', traits: { form: 'demo', plan: 'pro' }, firstTouchId: null })
    expect(lead.body.visitorIds).toEqual([])
    // When the tracker runs later, its visitor joins the lead with its touches.
    const vid = visitorId()
    await collect(server, [pageEvent(vid, { touch: { source: 'google', medium: 'cpc', campaign: 'late' } })])
    const linked = await secret(server, '/v1/identify', { visitorId: vid, email: 'blocked@example.com' })
    expect(linked.body).toMatchObject({ leadId: res.body.leadId, visitorIds: [vid], touchCount: 1, firstTouch: { campaign: 'late' } })
  })

  it('rejects bad input with coded 400s and keeps serving valid calls', async () => {
    const vid = visitorId()
    const cases: Array<[unknown, string]> = [
      [{ visitorId: vid }, 'CL_ERR_IDENTIFY_NO_KEY'],
      [{ visitorId: '' }, 'CL_ERR_IDENTIFY_NO_KEY'],
      [{ visitorId: vid, email: 'nope' }, 'CL_ERR_BAD_EMAIL'],
      [{ visitorId: vid, phone: 'call me' }, 'CL_ERR_BAD_PHONE'],
      [{ visitorId: 'short', email: 'a@b.co' }, 'CL_ERR_VALIDATION'],
      [{ visitorId: vid, email: 'x'.repeat(400) + '@b.co' }, 'CL_ERR_VALIDATION'],
      [{ visitorId: vid, email: 'a@b.co', traits: JSON.parse('{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}') }, 'CL_ERR_VALIDATION'],
      [{ visitorId: vid, externalId: "'; DELETE FROM leads; --", ts: 12 }, 'CL_ERR_VALIDATION'],
      [[], 'CL_ERR_VALIDATION'],
    ]
    for (const [body, code] of cases) {
      const res = await secret(server, '/v1/identify', body)
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400)
      expect(res.body.error.code).toBe(code)
    }
    const sql = await secret(server, '/v1/identify', { visitorId: vid, externalId: "'; DELETE FROM leads; --" })
    expect(sql.status).toBe(200)
    const lead = await secret(server, `/v1/leads/${sql.body.leadId}`)
    expect(lead.body.lead.externalId).toBe("'; DELETE FROM leads; --")
  })

  it('requires the secret key, and refuses it from an unlisted browser origin', async () => {
    const body = { visitorId: visitorId(), email: 'keys@example.com' }
    const none = await send(`${server.url}/v1/identify`, { body, headers: { 'content-type': 'application/json' } })
    expect(none.status).toBe(401)
    expect(none.body.error.code).toBe('CL_ERR_MISSING_SECRET_KEY')
    const wrong = await secret(server, '/v1/identify', body, { authorization: `Bearer ${server.sk.slice(0, -1)}${server.sk.endsWith('A') ? 'B' : 'A'}` })
    expect(wrong.status).toBe(401)
    expect(wrong.body.error.code).toBe('CL_ERR_BAD_SECRET_KEY')
    const garbage = await secret(server, '/v1/identify', body, { authorization: "Bearer ' OR 1=1 --" })
    expect(garbage.body.error.code).toBe('CL_ERR_BAD_SECRET_KEY')
    const publicKey = await secret(server, '/v1/identify', body, { authorization: `Bearer ${server.pk}` })
    expect(publicKey.body.error.code).toBe('CL_ERR_BAD_SECRET_KEY')
    const browser = await secret(server, '/v1/identify', body, { origin: 'https://evil.example' })
    expect(browser.status).toBe(403)
    expect(browser.body.error.code).toBe('CL_ERR_ORIGIN_NOT_ALLOWED')
    const ownSite = await secret(server, '/v1/identify', body, { origin: ORIGIN })
    expect(ownSite.status).toBe(200)
  })

  it('answers 404 for unknown leads', async () => {
    const res = await secret(server, '/v1/leads/doesnotexist123')
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('CL_ERR_LEAD_NOT_FOUND')
    const bad = await secret(server, `/v1/leads/${encodeURIComponent("1' OR '1'='1")}`)
    expect(bad.status).toBe(400)
  })
})
