// HubSpot end to end through a real listening collector (server.ts, so its inbox worker runs) and a
// local HubSpot API stub: signed webhook → durable inbox → worker reads deal, contacts and pipeline
// stages → deal on the lead identified with the contact's e-mail; redelivery, bad signatures,
// unknown connections, malformed bodies, 429 with Retry-After, and pulls with paging.

import { createHmac } from 'node:crypto'
import { rmSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { Pii } from '../../src/identity/pii.js'
import { inboundPath } from '../../src/integrations/crm/connections.js'
import { syncConnection } from '../../src/integrations/crm/inbox.js'
import type { FetchLike } from '../../src/integrations/types.js'
import type { RunningServer } from '../../src/http/server.js'
import { createSite } from '../../src/sites/admin.js'
import type { CrmConnectionRecord, Site, Store } from '../../src/store/types.js'
import { send, type TestServer, waitFor } from './helpers.js'
import { startCrmCollector } from './crm-collector.js'
import { identify } from './outcome-helpers.js'
import { startHubSpotStub, type HubSpotStub } from './stubs/hubspot-stub.js'

const CLIENT_SECRET = 'hubspot-app-client-secret'
const PUBLIC_URL = 'https://cl.example.com'
const CLOSE = Date.UTC(2026, 2, 15)

let stub: HubSpotStub
let dir: string
let server: RunningServer
let site: Site
let sk: string
let record: CrmConnectionRecord
let store: Store


function signed(body: string, path: string, ts = Date.now(), secret = CLIENT_SECRET): Record<string, string> {
  // As HubSpot computes it: HMAC-SHA256(client secret, method + URI + body + timestamp), base64.
  const sig = createHmac('sha256', secret).update(`POST${PUBLIC_URL}${path}${body}${ts}`).digest('base64')
  return { 'content-type': 'application/json', 'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/)', 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': String(ts) }
}

const event = (over: Record<string, unknown>) => ({ subscriptionId: 4242, portalId: 62515, attemptNumber: 0, occurredAt: Date.now(), ...over })

async function post(path: string, body: string, headers: Record<string, string>) {
  return send(`${server.url}${path}`, { raw: body, headers })
}

const testServer = (): TestServer => ({ url: server.url, sk } as TestServer)

async function leadDeals(leadId: string) {
  const r = await send(`${server.url}/v1/leads/${leadId}`, { headers: { authorization: `Bearer ${sk}` } })
  return r.body.deals as Array<{ dealId: string; stage: string; amount: number | null; history: Array<{ stage: string; crmStage: string; amount: number | null }> }>
}

beforeAll(async () => {
  stub = await startHubSpotStub()
  ;({ dir, server, store, site, sk, record } = await startCrmCollector({
    prefix: 'closeloop-crm-', kind: 'hubspot', options: { token: stub.token, 'client-secret': CLIENT_SECRET, 'api-base': stub.url, 'public-url': PUBLIC_URL },
  }))
})

afterAll(async () => {
  await server?.close()
  await stub?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

afterEach(() => stub.failNext(0, 0))

describe('HubSpot webhooks', () => {
  it('stores the secrets encrypted and names the inbound path', () => {
    expect(inboundPath('hubspot', record.id)).toBe(`/v1/crm/hubspot/${record.id}`)
    expect(JSON.stringify(record.options)).not.toContain(stub.token)
    expect(JSON.stringify(record.options)).not.toContain(CLIENT_SECRET)
    expect(record.options['api-base']).toBe(stub.url)
  })

  it('answers after the inbox commit, then the worker writes the deal on the lead with that e-mail; a redelivery changes nothing', async () => {
    const leadId = await identify(testServer(), { email: 'ada@acme.example' })
    stub.contacts.set('901', { id: '901', properties: { email: 'Ada@Acme.example', cl_visitor_id: null, company: 'Acme' } })
    stub.setDeal({ id: '5001', contacts: ['901'], properties: { dealname: 'Acme renewal', amount: '12000.50', dealstage: '7654321', pipeline: 'default', closedate: new Date(CLOSE).toISOString(), deal_currency_code: null, hs_lastmodifieddate: String(CLOSE + 1000) } })
    const path = inboundPath('hubspot', record.id)
    const body = JSON.stringify([event({ eventId: 7001, subscriptionType: 'deal.propertyChange', propertyName: 'dealstage', propertyValue: '7654321', objectId: 5001 })])
    const r = await post(path, body, signed(body, path))
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ ok: true, stored: 1, duplicates: 0 })

    const deals = await waitFor(async () => { const d = await leadDeals(leadId); return d.length > 0 ? d : null })
    // "Signed (finance)" is closed with probability 1.0 in the pipeline: won, whatever its name.
    expect(deals).toMatchObject([{ dealId: '5001', stage: 'won', amount: 12000.5 }])
    expect(deals[0].history.map((s) => [s.stage, s.crmStage])).toEqual([['won', 'Signed (finance)']])
    expect(stub.calls.some((c) => c.path === '/crm/v3/pipelines/deals')).toBe(true)
    expect(stub.calls.find((c) => c.path.startsWith('/crm/v3/objects/deals/5001'))?.path).toBe('/crm/v3/objects/deals/5001?properties=dealname,amount,dealstage,pipeline,closedate,deal_currency_code,hs_lastmodifieddate&associations=contacts')

    // The won deal counts in the report.
    const report = await send(`${server.url}/v1/reports/attribution?conversion=won`, { headers: { authorization: `Bearer ${sk}` } })
    expect(report.status).toBe(200)
    expect(JSON.stringify(report.body)).toContain('12000.5')

    // The same event again: acknowledged, not stored, no further API call.
    const calls = stub.calls.length
    const again = await post(path, body, signed(body, path))
    expect(again.body).toEqual({ ok: true, stored: 0, duplicates: 1 })
    await new Promise((r) => setTimeout(r, 200))
    expect(stub.calls.length).toBe(calls)
    expect((await leadDeals(leadId))[0].history).toHaveLength(1)
    expect((await store.getCrmConnection(record.id))?.lastEventAt).toBeGreaterThan(0)
  })

  it("links by the contact's cl_visitor_id before its e-mail: the lead the form was sent from", async () => {
    // The form was sent from this browser with a work address; the CRM contact holds another one.
    const visitorId = 'Vis1tor_FormSent-0001'
    const fromForm = await identify(testServer(), { email: 'mia@work.example', visitorId })
    const byEmail = await identify(testServer(), { email: 'mia@private.example' })
    stub.contacts.set('904', { id: '904', properties: { email: 'mia@private.example', cl_visitor_id: visitorId, company: null } })
    stub.contacts.set('905', { id: '905', properties: { email: null, cl_visitor_id: 'not a visitor id', company: null } })
    stub.setDeal({ id: '5004', contacts: ['904', '905'], properties: { dealname: 'Mia', amount: '70', dealstage: 'closedwon', pipeline: 'default', closedate: new Date(CLOSE).toISOString(), deal_currency_code: null, hs_lastmodifieddate: String(CLOSE) } })
    const path = inboundPath('hubspot', record.id)
    const body = JSON.stringify([event({ eventId: 7050, subscriptionType: 'deal.creation', objectId: 5004 })])
    expect((await post(path, body, signed(body, path))).status).toBe(200)
    const deals = await waitFor(async () => { const d = await leadDeals(fromForm); return d.length > 0 ? d : null })
    expect(deals).toMatchObject([{ dealId: '5004', stage: 'won', amount: 70 }])
    expect(await leadDeals(byEmail)).toEqual([])
  })

  it('refuses a bad or stale signature with 401 and keeps nothing', async () => {
    const path = inboundPath('hubspot', record.id)
    const body = JSON.stringify([event({ eventId: 7100, subscriptionType: 'deal.creation', objectId: 5100 })])
    // The worker may still be settling an earlier test's row: count once it is idle.
    const pending = await waitFor(async () => ((await store.pendingCrmInbox()) === 0 ? 'idle' : null)).then(() => 0)
    for (const headers of [signed(body, path, Date.now(), 'wrong-secret'), signed(body, path, Date.now() - 6 * 60_000), { 'content-type': 'application/json' }]) {
      const r = await post(path, body, headers)
      expect(r.status).toBe(401)
      expect(r.body.error.code).toBe('CL_ERR_BAD_SIGNATURE')
    }
    expect(await store.pendingCrmInbox()).toBe(pending)
    // Never stored: the same event ID, signed correctly now, is new.
    expect((await post(path, body, signed(body, path))).body).toMatchObject({ stored: 1 })
  })

  it('answers 404 for an unknown connection and 400 with the reason for a malformed batch', async () => {
    const bogus = '/v1/crm/hubspot/crm_doesnotexist'
    const r = await post(bogus, '[]', signed('[]', bogus))
    expect([r.status, r.body.error.code]).toEqual([404, 'CL_ERR_CRM_CONNECTION_NOT_FOUND'])
    const wrongKind = `/v1/crm/pipedrive/${record.id}`
    expect((await post(wrongKind, '[]', signed('[]', wrongKind))).status).toBe(404)
    const path = inboundPath('hubspot', record.id)
    const body = '{"objectId":1}'
    const bad = await post(path, body, signed(body, path))
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ code: 'CL_ERR_VALIDATION', message: expect.stringMatching(/JSON array/) })
  })

  it('retries a deal read that got 429, not before Retry-After, and records the error', async () => {
    const leadId = await identify(testServer(), { email: 'grace@navy.example' })
    stub.contacts.set('902', { id: '902', properties: { email: 'grace@navy.example', cl_visitor_id: null, company: null } })
    stub.setDeal({ id: '5002', contacts: ['902'], properties: { dealname: 'Navy', amount: '800', dealstage: '1234567', pipeline: 'default', closedate: null, deal_currency_code: null, hs_lastmodifieddate: String(CLOSE) } })
    await store.updateSite(site.id, { settings: { ...site.settings, stageMapping: { 'verbal yes': 'opportunity' } } })
    const errorsBefore = (await store.getCrmConnection(record.id))!.errors
    stub.failNext(1, 1)
    const path = inboundPath('hubspot', record.id)
    const body = JSON.stringify([event({ eventId: 7200, subscriptionType: 'deal.creation', objectId: 5002 })])
    const t0 = Date.now()
    expect((await post(path, body, signed(body, path))).status).toBe(200)
    const deals = await waitFor(async () => { const d = await leadDeals(leadId); return d.length > 0 ? d : null })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
    expect(deals).toMatchObject([{ dealId: '5002', stage: 'opportunity', amount: 800 }])
    const c = await store.getCrmConnection(record.id)
    expect(c!.errors).toBe(errorsBefore + 1)
    expect(c!.lastError).toMatch(/429/)
    const metrics = await send(`${server.url}/metrics`)
    expect(metrics.text).toMatch(/closeloop_crm_errors_total\{kind="hubspot",retried="true"\} [1-9]/)
    expect(metrics.text).toMatch(/closeloop_crm_deals_total\{kind="hubspot"\} [1-9]/)
    expect(metrics.text).toMatch(/closeloop_crm_inbox_pending \d+/)
  })

  it('reads the deals of a contact whose e-mail changed', async () => {
    const leadId = await identify(testServer(), { email: 'linus@kernel.example' })
    stub.contacts.set('903', { id: '903', properties: { email: 'old@kernel.example', cl_visitor_id: null, company: null } })
    stub.setDeal({ id: '5003', contacts: ['903'], properties: { dealname: 'Kernel', amount: '50', dealstage: 'closedlost', pipeline: 'default', closedate: new Date(CLOSE).toISOString(), deal_currency_code: null, hs_lastmodifieddate: String(CLOSE) } })
    stub.contacts.get('903')!.properties.email = 'linus@kernel.example'
    const path = inboundPath('hubspot', record.id)
    const body = JSON.stringify([event({ eventId: 7300, subscriptionType: 'contact.propertyChange', propertyName: 'email', propertyValue: 'linus@kernel.example', objectId: 903 })])
    expect((await post(path, body, signed(body, path))).status).toBe(200)
    const deals = await waitFor(async () => { const d = await leadDeals(leadId); return d.length > 0 ? d : null })
    expect(deals).toMatchObject([{ dealId: '5003', stage: 'lost' }])
  })
})

describe('GET /v1/crm/connections', () => {
  it("lists the site's connections with their status and no option value; other sites see none", async () => {
    const r = await send(`${server.url}/v1/crm/connections`, { headers: { authorization: `Bearer ${sk}` } })
    expect(r.status).toBe(200)
    const current = await store.getCrmConnection(record.id)
    expect(r.body).toEqual({ connections: [{
      id: record.id, kind: 'hubspot', writeBack: false, inbound: `/v1/crm/hubspot/${record.id}`, createdAt: record.createdAt,
      lastEventAt: current!.lastEventAt, lastSyncAt: current!.lastSyncAt, errors: current!.errors, lastError: current!.lastError, lastErrorAt: current!.lastErrorAt,
      writeBacks: { sent: 0, pending: 0, failed: 0, lastError: null, lastErrorAt: null },
    }] })
    expect(r.text).not.toContain(stub.token)
    expect(r.text).not.toContain(stub.url)
    const other = await createSite(store, { name: 'other', origins: ['https://other.example'], cookieDomain: null })
    expect((await send(`${server.url}/v1/crm/connections`, { headers: { authorization: `Bearer ${other.secretKey}` } })).body).toEqual({ connections: [] })
    expect((await send(`${server.url}/v1/crm/connections`)).body.error.code).toBe('CL_ERR_MISSING_SECRET_KEY')
  })
})

describe('HubSpot pull', () => {
  it('pulls deals modified since the cursor, page by page, and resumes from the stored cursor', async () => {
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    const ctx = { store, pii: new Pii(keys), integrationKey: keys.integrationKey, env: { fetch: globalThis.fetch as FetchLike, now: Date.now } }
    const leadId = await identify(testServer(), { email: 'pull@many.example' })
    stub.contacts.set('950', { id: '950', properties: { email: 'pull@many.example', cl_visitor_id: null, company: null } })
    for (let i = 0; i < 130; i++) {
      stub.setDeal({ id: String(6000 + i), contacts: ['950'], properties: { dealname: `d${i}`, amount: String(i), dealstage: 'appointmentscheduled', pipeline: 'default', closedate: null, deal_currency_code: null, hs_lastmodifieddate: String(CLOSE + 10_000 + i) } })
    }
    const first = await syncConnection(ctx, (await store.getCrmConnection(record.id))!)
    expect(first.errors).toEqual([])
    expect(first.deals).toBeGreaterThanOrEqual(130)
    const searches = stub.calls.filter((c) => c.path === '/crm/v3/objects/deals/search')
    expect(searches.length).toBeGreaterThanOrEqual(2)
    expect(searches.some((c) => (c.body as { after?: string }).after === '100')).toBe(true)
    const after = await store.getCrmConnection(record.id)
    expect(after!.cursor).toBe(String(CLOSE + 10_000 + 129))
    expect(after!.lastSyncAt).toBeGreaterThan(0)
    expect((await leadDeals(leadId)).length).toBe(130)

    // Next pull: only what changed since (GTE the cursor: the newest one again, and the one changed).
    stub.deals.get('6005')!.properties.dealstage = 'closedwon'
    stub.deals.get('6005')!.properties.hs_lastmodifieddate = String(CLOSE + 20_000)
    const second = await syncConnection(ctx, after!)
    expect(second.deals).toBe(2)
    expect((await leadDeals(leadId)).find((d) => d.dealId === '6005')?.stage).toBe('won')
  })

  it('waits for Retry-After on a 429 during a pull', async () => {
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    const ctx = { store, pii: new Pii(keys), integrationKey: keys.integrationKey, env: { fetch: globalThis.fetch as FetchLike, now: Date.now } }
    stub.failNext(1, 1)
    const t0 = Date.now()
    const r = await syncConnection(ctx, (await store.getCrmConnection(record.id))!, { random: () => 0 })
    expect(r.errors).toEqual([])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
  })
})
