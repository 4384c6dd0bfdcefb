import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { secret, send, startTestServer, visitorId, type TestServer } from './helpers.js'
import { DAY, identify, importEvents, T0, touchEvent } from './outcome-helpers.js'

let server: TestServer
beforeAll(async () => { server = await startTestServer() })
afterAll(async () => { await server.close() })

async function knownLead(email: string): Promise<string> {
  const vid = visitorId()
  await importEvents(server, [touchEvent(vid, T0, { source: 'google', medium: 'cpc', campaign: 'brand' })])
  return identify(server, { visitorId: vid, email, ts: T0 + 1000 })
}

describe('POST /v1/deals', () => {
  it('needs the secret key', async () => {
    const r = await send(`${server.url}/v1/deals`, { body: { dealId: 'x', email: 'a@b.co', stage: 'won' } })
    expect(r.status).toBe(401)
    expect(r.body.error.code).toBe('CL_ERR_MISSING_SECRET_KEY')
  })

  it('matches by normalised email, maps CRM stage names and keeps every change as history', async () => {
    const leadId = await knownLead('ada@example.com')
    const post = (stage: string, day: number, amount?: number) =>
      secret(server, '/v1/deals', { dealId: 'D-1', email: '  ADA@Example.COM ', stage, ...(amount === undefined ? {} : { amount }), ts: T0 + day * DAY })
    const first = await post('Qualified To Buy', 2, 5000)
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ dealId: 'D-1', leadId, stage: 'sql', linked: true, changed: true, pending: [] })
    expect((await post('presentationscheduled', 5, 5000)).body.stage).toBe('opportunity')
    const won = await post('Closed Won', 9, 7500)
    expect(won.body).toMatchObject({ stage: 'won', changed: true })
    // A webhook retry of the same stage is not a change.
    expect((await post('closed_won', 12)).body).toMatchObject({ stage: 'won', changed: false })
    // A late-arriving older change becomes history but does not move the current stage back.
    expect((await post('MQL', 1)).body).toMatchObject({ stage: 'won', changed: true })

    const deals = await server.store.getDeals(server.site.id, leadId)
    expect(deals).toHaveLength(1)
    expect(deals[0]).toMatchObject({ dealId: 'D-1', stage: 'won', amount: 7500 })
    expect(deals[0].history.map((h) => [h.stage, h.ts, h.amount])).toEqual([
      ['mql', T0 + DAY, null], ['sql', T0 + 2 * DAY, 5000], ['opportunity', T0 + 5 * DAY, 5000], ['won', T0 + 9 * DAY, 7500],
    ])
    expect(deals[0].history.map((h) => h.crmStage)).toEqual(['MQL', 'Qualified To Buy', 'presentationscheduled', 'Closed Won'])
  })

  it('matches by leadId and by externalId; an unknown leadId is a 404', async () => {
    const vid = visitorId()
    await importEvents(server, [touchEvent(vid, T0, { source: 'bing', medium: 'cpc', campaign: 'x' })])
    const leadId = await identify(server, { visitorId: vid, externalId: 'crm-42', ts: T0 + 1 })
    expect((await secret(server, '/v1/deals', { dealId: 'D-ext', externalId: 'crm-42', stage: 'sql' })).body.leadId).toBe(leadId)
    expect((await secret(server, '/v1/deals', { dealId: 'D-lead', leadId, stage: 'won', amount: 10 })).body.leadId).toBe(leadId)
    const missing = await secret(server, '/v1/deals', { dealId: 'D-nolead', leadId: 'nope-not-a-lead', stage: 'won' })
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('CL_ERR_LEAD_NOT_FOUND')
  })

  it('keeps a deal of an unknown person and links it when the person is identified later', async () => {
    const pending = await secret(server, '/v1/deals', { dealId: 'D-later', email: 'grace@example.com', stage: 'won', amount: 900, ts: T0 + 20 * DAY })
    expect(pending.status).toBe(200)
    expect(pending.body).toMatchObject({ leadId: null, linked: false, stage: 'won' })
    const leadId = await knownLead('Grace@Example.com')
    const deals = await server.store.getDeals(server.site.id, leadId)
    expect(deals.map((d) => [d.dealId, d.stage, d.amount])).toEqual([['D-later', 'won', 900]])
    // Updates after the link keep it.
    expect((await secret(server, '/v1/deals', { dealId: 'D-later', email: 'grace@example.com', stage: 'won', amount: 950 })).body.leadId).toBe(leadId)
  })

  it('reads a bare day as the end of that UTC day, so the day\'s visits come before the deal', async () => {
    // The visit is at noon on the deal's day: a deal at midnight would come before it, unattributed.
    const vid = visitorId()
    const noon = Date.UTC(2026, 11, 4, 12)
    await importEvents(server, [touchEvent(vid, noon, { source: 'newsletter', medium: 'email', campaign: 'dec' })])
    const leadId = await identify(server, { visitorId: vid, email: 'sameday@example.com', ts: noon + 1000 })
    const r = await secret(server, '/v1/deals', { dealId: 'D-day', email: 'sameday@example.com', stage: 'won', amount: 321, ts: '2026-12-04' })
    expect(r.status).toBe(200)
    const [deal] = await server.store.getDeals(server.site.id, leadId)
    expect(deal.history.map((h) => h.ts)).toEqual([Date.UTC(2026, 11, 4, 23, 59, 59, 999)])
    const report = await secret(server, '/v1/reports/attribution?model=last_touch&by=campaign&conversion=won&from=2026-12-01&to=2026-12-31')
    expect(report.status).toBe(200)
    // (Other tests' deals without a time are dated now and may fall in this window too.)
    expect(report.body.rows.find((x: { key: string }) => x.key === 'dec')?.revenue).toBe(321)
  })

  it('uses the site stageMapping before the built-in aliases', async () => {
    await server.store.updateSite(server.site.id, { settings: { stageMapping: { 'Stage 4 - Signed': 'won', 'Closed Won': 'opportunity' } } })
    server.app.closeloop.sites.clear()
    try {
      await knownLead('map@example.com')
      expect((await secret(server, '/v1/deals', { dealId: 'D-map', email: 'map@example.com', stage: 'stage 4: signed' })).body.stage).toBe('won')
      expect((await secret(server, '/v1/deals', { dealId: 'D-map2', email: 'map@example.com', stage: 'Closed Won' })).body.stage).toBe('opportunity')
    } finally {
      await server.store.updateSite(server.site.id, { settings: {} })
      server.app.closeloop.sites.clear()
    }
  })

  it('refuses unknown stages, missing persons and bad input with codes', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ dealId: 'D-x', email: 'a@b.co', stage: 'Waiting for legal' }, 400, 'CL_ERR_UNKNOWN_STAGE'],
      [{ dealId: 'D-x', stage: 'won' }, 400, 'CL_ERR_DEAL_NO_PERSON'],
      [{ dealId: 'D-x', email: 'not-an-email', stage: 'won' }, 400, 'CL_ERR_BAD_EMAIL'],
      [{ dealId: 'D-x', email: 'a@b.co', stage: 'won', amount: -5 }, 400, 'CL_ERR_VALIDATION'],
      [{ dealId: 'D-x', email: 'a@b.co', stage: 'won', amount: 5, currency: 'JPY' }, 422, 'CL_ERR_NO_FX_RATE'],
      [{ dealId: 'D-x', email: 'a@b.co', stage: 'won', currency: 'dollars', amount: 1 }, 400, 'CL_ERR_BAD_CURRENCY'],
      [{ dealId: 'x'.repeat(201), email: 'a@b.co', stage: 'won' }, 400, 'CL_ERR_VALIDATION'],
      [{ dealId: 'D-x', email: 'a@b.co', stage: 'won', ts: 'yesterday' }, 400, 'CL_ERR_VALIDATION'],
      // Date.parse guesses 2001-07-01 and 2026-03-02 for these two.
      [{ dealId: 'D-x', email: 'a@b.co', stage: 'won', ts: 'hello 7' }, 400, 'CL_ERR_VALIDATION'],
      [{ dealId: 'D-x', email: 'a@b.co', stage: 'won', ts: '2026-02-30' }, 400, 'CL_ERR_VALIDATION'],
    ]
    for (const [body, status, code] of cases) {
      const r = await secret(server, '/v1/deals', body)
      expect([r.status, r.body.error?.code], JSON.stringify(body)).toEqual([status, code])
    }
  })

  it('in a batch keeps the valid deals and reports the others by index', async () => {
    await knownLead('batch@example.com')
    const r = await secret(server, '/v1/deals', {
      deals: [
        { dealId: 'B-1', email: 'batch@example.com', stage: 'sql', amount: '1,200.50', ts: '2026-01-10T10:00:00Z' },
        { dealId: 'B-2', email: 'batch@example.com', stage: 'nonsense' },
        'not an object',
        { dealId: 'B-3', email: 'someone-new@example.com', stage: 'closedlost' },
      ],
    })
    expect(r.status).toBe(200)
    expect(r.body.accepted).toBe(2)
    // B-3's person is not known yet: stored, held until identified.
    expect(r.body.pending).toBe(1)
    expect(r.body.deals.map((d: { dealId: string; stage: string; linked: boolean }) => [d.dealId, d.stage, d.linked])).toEqual([['B-1', 'sql', true], ['B-3', 'lost', false]])
    expect(r.body.rejected.map((x: { index: number; code: string }) => [x.index, x.code])).toEqual([[1, 'CL_ERR_UNKNOWN_STAGE'], [2, 'CL_ERR_VALIDATION']])
    const empty = await secret(server, '/v1/deals', { deals: [] })
    expect(empty.status).toBe(400)
  })
})

describe('POST /v1/deals with several people', () => {
  it('links the known, lists the pending as sent, and a journey=deal report credits all of them', async () => {
    const champion = await knownLead('champ@b2b.example')
    const r = await secret(server, '/v1/deals', { dealId: 'B2B-1', leadIds: [champion], emails: ['cfo@b2b.example'], stage: 'won', amount: 900, ts: T0 + 5 * DAY })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ leadId: champion, linked: true, pending: ['cfo@b2b.example'] })
  })

  it('refuses a leadId this site does not have, and too many people', async () => {
    const unknown = await secret(server, '/v1/deals', { dealId: 'B2B-2', leadIds: ['lead_nope'], emails: ['x@b2b.example'], stage: 'won' })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('CL_ERR_LEAD_NOT_FOUND')
    const many = await secret(server, '/v1/deals', { dealId: 'B2B-3', emails: Array.from({ length: 51 }, (_, i) => `p${i}@b2b.example`), stage: 'won' })
    expect(many.status).toBe(400)
  })
})
