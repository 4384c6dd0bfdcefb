import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect, pageEvent, secret, startTestServer, visitorId, type TestServer } from './helpers.js'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.close()
})

describe('privacy', () => {
  it('exports everything about a person, then erases them and drops their later data', async () => {
    const vid = visitorId()
    const other = visitorId()
    await collect(server, [pageEvent(vid, { touch: { source: 'google', medium: 'organic' } }), pageEvent(other)])
    const id = await secret(server, '/v1/identify', { visitorId: vid, email: 'erase.me@example.com', phone: '+14155550132' })
    expect(id.status).toBe(200)

    expect((await secret(server, '/v1/deals', { dealId: 'erase-deal', email: 'erase.me@example.com', stage: 'won', amount: 900 })).status).toBe(200)
    const exported = await secret(server, `/v1/privacy/export?email=${encodeURIComponent('Erase.Me@example.com')}`)
    expect(exported.status).toBe(200)
    expect(exported.body.leads).toHaveLength(1)
    expect(exported.body.leads[0].lead.email).toBe('erase.me@example.com')
    expect(exported.body.leads[0].touches).toHaveLength(1)
    expect(exported.body.touches.map((t: { source: string }) => t.source)).toEqual(['google'])
    expect(exported.body.events.length).toBeGreaterThanOrEqual(1)
    expect(exported.body.leads[0].deals).toMatchObject([{ dealId: 'erase-deal', stage: 'won', amount: 900 }])
    expect((await secret(server, '/v1/reports/attribution?model=first_touch')).body.totals.revenue).toBe(900)

    // Erase by phone: the email and the visitor are suppressed too.
    const erased = await secret(server, '/v1/privacy/erase', { phone: '+1 (415) 555-0132' })
    expect(erased.status).toBe(200)
    expect(erased.body.erased).toMatchObject({ leads: 1, deals: 1 })
    // Their won revenue is gone from the reports with them.
    const report = await secret(server, '/v1/reports/attribution?model=first_touch')
    expect(report.body.totals.revenue).toBe(0)

    const after = await secret(server, `/v1/privacy/export?visitorId=${vid}`)
    expect(after.body.leads).toHaveLength(0)
    expect(after.body.events).toHaveLength(0)

    const later = await collect(server, [pageEvent(vid), pageEvent(other)])
    expect(later.body.accepted).toBe(1)
    expect(later.body.rejected).toEqual([{ index: 0, code: 'CL_ERR_SUPPRESSED' }])
    const reidentify = await secret(server, '/v1/identify', { visitorId: visitorId(), email: 'erase.me@example.com' })
    expect(reidentify.status).toBe(409)
    expect(reidentify.body.error.code).toBe('CL_ERR_SUPPRESSED')
    // The untouched visitor is still there.
    const kept = await secret(server, `/v1/privacy/export?visitorId=${other}`)
    expect(kept.body.events).toHaveLength(2)
  })

  it('requires a selector and the secret key', async () => {
    const none = await secret(server, '/v1/privacy/erase', {})
    expect(none.status).toBe(400)
    expect(none.body.error.code).toBe('CL_ERR_PRIVACY_NO_SELECTOR')
    const badEmail = await secret(server, '/v1/privacy/export?email=nope')
    expect(badEmail.body.error.code).toBe('CL_ERR_BAD_EMAIL')
    const noKey = await secret(server, '/v1/privacy/export?email=a@b.co', undefined, { authorization: '' })
    expect(noKey.status).toBe(401)
  })
})
