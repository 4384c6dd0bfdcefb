// Accounts over real HTTP: identify's company and e-mail domain place leads, deals name several
// people with a company, GET /v1/accounts/{id} shows what was sent, and deals that would join two
// companies or name another site's lead are refused per item with nothing stored.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importDealsCsv } from '../../src/outcomes/csv-import.js'
import { createSite } from '../../src/sites/admin.js'
import { secret, send, startTestServer, visitorId, type TestServer } from './helpers.js'
import { DAY, identify, importEvents, T0, touchEvent } from './outcome-helpers.js'

let server: TestServer
beforeAll(async () => { server = await startTestServer() })
afterAll(async () => { await server.close() })

async function personWithTouch(email: string, ts: number, source: string, extra: Record<string, unknown> = {}): Promise<string> {
  const vid = visitorId()
  await importEvents(server, [touchEvent(vid, ts, { source, medium: 'cpc', campaign: `${source}-c` })])
  return identify(server, { visitorId: vid, email, ts: ts + 1000, ...extra })
}

const lead = async (id: string) => (await secret(server, `/v1/leads/${id}`)).body

describe('accounts', () => {
  it('places leads by company or e-mail domain and shows the account with its people, touches and deals', async () => {
    const ann = await personWithTouch('ann@acme.example', T0, 'linkedin', { company: 'Acme Corp' })
    const bob = await personWithTouch('Bob@Mail.Acme.example', T0 + DAY, 'google', { company: '  ACME corp ' })
    const carol = await personWithTouch('carol@gmail.com', T0 + 2 * DAY, 'bing')
    const dave = await personWithTouch('dave@eu.beta.example', T0 + 3 * DAY, 'newsletter')

    const accountId = (await lead(ann)).lead.accountId
    expect(accountId).toMatch(/^acc_/)
    expect((await lead(bob)).lead.accountId).toBe(accountId)
    expect((await lead(carol)).lead.accountId).toBeNull()
    const betaId = (await lead(dave)).lead.accountId
    expect(betaId).toMatch(/^acc_/)
    expect(betaId).not.toBe(accountId)

    const deal = await secret(server, '/v1/deals', { dealId: 'ACME-1', leadIds: [ann, bob], emails: ['later@acme.example'], company: 'Acme Corp', stage: 'won', amount: 5000, ts: T0 + 9 * DAY })
    expect(deal.body).toMatchObject({ leadId: ann, linked: true, pending: ['later@acme.example'] })

    const r = await secret(server, `/v1/accounts/${accountId}`)
    expect(r.status).toBe(200)
    expect(r.body.account).toMatchObject({ id: accountId, name: 'Acme Corp', domain: null, source: 'crm' })
    expect(r.body.leadCount).toBe(2)
    expect(r.body.leads.map((l: any) => [l.id, l.email, l.firstTouch?.source])).toEqual([[ann, 'ann@acme.example', 'linkedin'], [bob, 'bob@mail.acme.example', 'google']])
    expect(r.body.leads[0].createdAt).toEqual(expect.any(Number))
    expect(r.body.touches.map((t: any) => [t.leadId, t.source, t.ts])).toEqual([[ann, 'linkedin', T0], [bob, 'google', T0 + DAY]])
    expect(r.body.deals).toHaveLength(1)
    expect(r.body.deals[0]).toMatchObject({ dealId: 'ACME-1', leadId: ann, leadIds: [ann, bob], stage: 'won', amount: 5000 })

    const beta = await secret(server, `/v1/accounts/${betaId}`)
    expect(beta.body.account).toMatchObject({ domain: 'beta.example', name: null, source: 'domain' })
    expect(beta.body.leads.map((l: any) => l.id)).toEqual([dave])
    expect(beta.body.deals).toEqual([])

    // The dashboard session or the key; unknown and malformed IDs are refused.
    expect((await send(`${server.url}/v1/accounts/${accountId}`)).status).toBe(401)
    const missing = await secret(server, '/v1/accounts/acc_nope')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('CL_ERR_ACCOUNT_NOT_FOUND')
    expect((await secret(server, '/v1/accounts/not-an-account')).status).toBe(400)
  })

  it("refuses per item a deal that would join two companies, and one naming another site's lead", async () => {
    const eve = await personWithTouch('eve@gamma.example', T0, 'google', { company: 'Gamma' })
    const frank = await personWithTouch('frank@delta.example', T0, 'bing')
    const { site: other } = await createSite(server.store, { name: 'Other shop', origins: ['https://other.example'] })
    const stranger = (await server.store.identify({ siteId: other.id, keys: [{ kind: 'external', hash: 'x'.repeat(64) }], ts: T0 })).leadId

    const r = await secret(server, '/v1/deals', { deals: [
      { dealId: 'G-1', leadIds: [frank, eve], company: 'Delta', stage: 'sql', amount: 10 },
      { dealId: 'G-2', leadIds: [frank], company: 'Delta', stage: 'won', amount: 20 },
      { dealId: 'G-3', leadIds: [frank, stranger], stage: 'won', amount: 30 },
    ] })
    expect(r.status).toBe(200)
    expect(r.body.accepted).toBe(1)
    expect(r.body.deals.map((d: any) => d.dealId)).toEqual(['G-2'])
    expect(r.body.rejected.map((x: any) => [x.index, x.code])).toEqual([[0, 'CL_ERR_ACCOUNT_CONFLICT'], [2, 'CL_ERR_LEAD_NOT_FOUND']])
    // Nothing of the refused deals is stored; eve stays in Gamma, frank joined Delta through G-2.
    expect((await server.store.getDeals(server.site.id, frank)).map((d) => d.dealId)).toEqual(['G-2'])
    expect((await server.store.getDeals(server.site.id, eve))).toEqual([])
    const gamma = (await lead(eve)).lead.accountId
    expect((await secret(server, `/v1/accounts/${gamma}`)).body.account.name).toBe('Gamma')
    const delta = (await lead(frank)).lead.accountId
    expect((await secret(server, `/v1/accounts/${delta}`)).body.deals.map((d: any) => [d.dealId, d.leadIds])).toEqual([['G-2', [frank]]])
    expect(await server.store.getDeals(other.id, stranger)).toEqual([])

    // A single deal: the refusal is the request's.
    const single = await secret(server, '/v1/deals', { dealId: 'G-4', leadId: eve, company: 'Delta', stage: 'won' })
    expect(single.status).toBe(409)
    expect(single.body.error.code).toBe('CL_ERR_ACCOUNT_CONFLICT')

    // The CSV's company column takes the same path.
    const csv = ['dealId,leadId,company,stage,amount', `C-1,${frank},Delta,won,40`, `C-2,${eve},Delta,won,50`].join('\n')
    const result = await importDealsCsv(server.store, server.site, csv, server.app.closeloop.pii)
    expect(result.accepted).toBe(1)
    expect(result.errors.map((e) => [e.line, e.code])).toEqual([[3, 'CL_ERR_ACCOUNT_CONFLICT']])
  })
})
