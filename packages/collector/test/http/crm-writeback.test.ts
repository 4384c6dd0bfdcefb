// Attribution written back to HubSpot, through a real listening collector (server.ts, so its CRM
// worker runs) and the local HubSpot API stub: identify → the contact's first/last touch; a deal
// webhook → the deal's credited channel and campaign, equal to what the report API credits; the
// properties created once; 429 with Retry-After; a deleted property re-created; a contact HubSpot
// does not have; write-back off sends nothing; rows queued before a restart are sent once after it.

import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULTS, type Config } from '../../src/config.js'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { Pii } from '../../src/identity/pii.js'
import { addConnection, inboundPath } from '../../src/integrations/crm/connections.js'
import { drainOutbox, queueLeadWriteBack } from '../../src/integrations/crm/write-back.js'
import type { FetchLike } from '../../src/integrations/types.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createSite } from '../../src/sites/admin.js'
import { openStore } from '../../src/store/index.js'
import type { CrmConnectionRecord, Store } from '../../src/store/types.js'
import { send, tempDir, visitorId, type TestServer } from './helpers.js'
import { DAY, importEvents, T0, touchEvent, type TouchSpec } from './outcome-helpers.js'
import { startHubSpotStub, type HubSpotStub } from './stubs/hubspot-stub.js'

const CLIENT_SECRET = 'hubspot-app-client-secret'
const FAST = { pollMs: 50, backoff: { baseMs: 50, capMs: 200, giveUpAfterMs: 60_000 } }

let stub: HubSpotStub
let dir: string
let server: RunningServer
let store: Store
let on: { sk: string; record: CrmConnectionRecord }
let off: { sk: string; record: CrmConnectionRecord }

const waitFor = async <T>(fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, what: string, ms = 10_000): Promise<T> => {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const as = (sk: string): TestServer => ({ url: server.url, sk } as TestServer)
const api = (sk: string, path: string, body?: unknown) =>
  send(`${server.url}${path}`, { method: body === undefined ? 'GET' : 'POST', body, headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' } })
const patches = (path: string) => stub.calls.filter((c) => c.method === 'PATCH' && c.path === path)
const props = (call: { body: unknown }) => (call.body as { properties: Record<string, string> }).properties

/** A visitor with these touches (one a day from `start`), identified with `email`; returns the identify answer. */
async function lead(sk: string, email: string, touches: TouchSpec[], start = T0) {
  const vid = visitorId()
  await importEvents(as(sk), touches.map((t, i) => touchEvent(vid, start + i * DAY, t)))
  const r = await api(sk, '/v1/identify', { email, visitorId: vid })
  expect(r.status).toBe(200)
  return r.body as { leadId: string; firstTouch: Record<string, string | null>; lastTouch: Record<string, string | null> }
}

function dealWon(id: string, contactId: string, amount: number, close: number) {
  stub.setDeal({ id, contacts: [contactId], properties: { dealname: `Deal ${id}`, amount: String(amount), dealstage: 'closedwon', pipeline: 'default', closedate: new Date(close).toISOString(), deal_currency_code: null, hs_lastmodifieddate: String(close) } })
}

async function webhook(record: CrmConnectionRecord, dealId: string, eventId: number) {
  const status = await stub.sendWebhook(`${server.url}${inboundPath('hubspot', record.id)}`, [
    { eventId, subscriptionId: 4242, portalId: 62515, attemptNumber: 0, occurredAt: Date.now(), subscriptionType: 'deal.propertyChange', propertyName: 'dealstage', propertyValue: 'closedwon', objectId: Number(dealId) },
  ], CLIENT_SECRET)
  expect(status).toBe(200)
}

beforeAll(async () => {
  stub = await startHubSpotStub()
  dir = tempDir('closeloop-crm-writeback-')
  const setup = await openStore({ dataDir: dir })
  const keys = loadInstallKeys({ dataDir: dir, env: {} })
  const connect = async (name: string, writeBack: boolean) => {
    const created = await createSite(setup, { name, origins: ['https://shop.example'], cookieDomain: null })
    // The stub's server URL is what the collector is reached at: HubSpot signs it.
    const record = await addConnection(setup, keys.integrationKey, { site: created.site, kind: 'hubspot', writeBack, options: { token: stub.token, 'client-secret': CLIENT_SECRET, 'api-base': stub.url } })
    return { sk: created.secretKey, record }
  }
  on = await connect('writes-back', true)
  off = await connect('keeps-quiet', false)
  await setup.close()
  const config: Config = { ...DEFAULTS, dataDir: dir, port: 0, crmSyncMinutes: 0 }
  server = await startServer(config, { logger: false, crm: FAST })
  store = server.app.closeloop.store
})

afterAll(async () => {
  await server?.close()
  await stub?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

afterEach(() => stub.failNext(0, 0))

describe('HubSpot write-back', () => {
  it('after an identify, PATCHes the contact found by e-mail with the lead ID and its first and last touch', async () => {
    stub.contacts.set('801', { id: '801', properties: { email: 'ada@wb.example', cl_visitor_id: null, company: null } })
    const who = await lead(on.sk, 'ada@wb.example', [
      { source: 'google', medium: 'cpc', campaign: 'spring' },
      { source: 'newsletter', medium: 'email', campaign: 'may' },
    ])
    const path = `/crm/v3/objects/contacts/${encodeURIComponent('ada@wb.example')}?idProperty=email`
    const [patch] = await waitFor(() => patches(path).length > 0 && patches(path), 'the contact PATCH')
    // The values identify answered with: the same journey, the same first and last touch.
    expect(props(patch)).toEqual({
      closeloop_lead_id: who.leadId,
      closeloop_first_source: who.firstTouch.source, closeloop_first_medium: who.firstTouch.medium,
      closeloop_first_campaign: who.firstTouch.campaign, closeloop_first_channel: who.firstTouch.channel,
      closeloop_last_source: who.lastTouch.source, closeloop_last_medium: who.lastTouch.medium,
      closeloop_last_campaign: who.lastTouch.campaign, closeloop_last_channel: who.lastTouch.channel,
    })
    expect([who.firstTouch.source, who.firstTouch.campaign, who.lastTouch.source, who.lastTouch.campaign]).toEqual(['google', 'spring', 'newsletter', 'may'])
    expect(stub.contacts.get('801')!.properties).toMatchObject({ closeloop_lead_id: who.leadId, closeloop_first_channel: 'Paid Search', closeloop_last_channel: 'Email' })
    // The properties were created, in the closeloop group, before the PATCH.
    expect([...stub.groups.contacts.keys()]).toEqual(['closeloop'])
    expect([...stub.properties.contacts.keys()].sort()).toEqual(Object.keys(props(patch)).sort())
    expect(stub.properties.contacts.get('closeloop_first_channel')).toMatchObject({ groupName: 'closeloop', type: 'string', fieldType: 'text' })
    const created = stub.calls.findIndex((c) => c.method === 'POST' && c.path === '/crm/v3/properties/contacts')
    expect(created).toBeGreaterThanOrEqual(0)
    expect(created).toBeLessThan(stub.calls.indexOf(patch))
  })

  it('after a deal webhook, PATCHes the deal with the channel and campaign the report credits most, and its contact by ID', async () => {
    // Linear: Paid Search has 3 of 5 touches, but the newsletter campaign "june" 2 of 5: each field is its own dimension's top.
    const close = T0 + 40 * DAY
    stub.contacts.set('802', { id: '802', properties: { email: 'grace@wb.example', cl_visitor_id: null, company: null } })
    const who = await lead(on.sk, 'grace@wb.example', [
      { source: 'google', medium: 'cpc', campaign: 'a' },
      { source: 'bing', medium: 'cpc', campaign: 'b' },
      { source: 'newsletter', medium: 'email', campaign: 'june' },
      { source: 'google', medium: 'cpc', campaign: 'c' },
      { source: 'newsletter', medium: 'email', campaign: 'june' },
    ], T0 + 30 * DAY)
    dealWon('9001', '802', 5000, close)
    await webhook(on.record, '9001', 1)
    const [patch] = await waitFor(() => patches('/crm/v3/objects/deals/9001').length > 0 && patches('/crm/v3/objects/deals/9001'), 'the deal PATCH')

    const day = new Date(close).toISOString().slice(0, 10)
    const top = async (by: string) => {
      const r = await api(on.sk, `/v1/reports/attribution?by=${by}&conversion=won&from=${day}&to=${day}`)
      expect(r.status).toBe(200)
      expect(r.body.model).toBe('linear')
      const rows = (r.body.rows as Array<{ key: string; revenue: number }>).filter((x) => x.revenue > 0).sort((a, b) => b.revenue - a.revenue)
      expect(rows.reduce((s, x) => s + x.revenue, 0)).toBeCloseTo(5000, 6)
      expect(rows.length === 1 || rows[0].revenue > rows[1].revenue).toBe(true)
      return rows[0].key
    }
    expect(props(patch)).toEqual({ closeloop_channel: await top('channel'), closeloop_campaign: await top('campaign') })
    expect(props(patch)).toEqual({ closeloop_channel: 'Paid Search', closeloop_campaign: 'june' })
    expect(stub.deals.get('9001')!.properties).toMatchObject({ closeloop_channel: 'Paid Search', closeloop_campaign: 'june' })

    // The deal named the contact by its CRM ID: from now on the contact is written by ID.
    const [byId] = await waitFor(() => patches('/crm/v3/objects/contacts/802').length > 0 && patches('/crm/v3/objects/contacts/802'), 'the contact PATCH by ID')
    expect(props(byId)).toMatchObject({ closeloop_lead_id: who.leadId, closeloop_first_campaign: 'a', closeloop_last_campaign: 'june' })

    // Properties and groups were created once for each object, however many writes followed.
    const posts = (path: string) => stub.calls.filter((c) => c.method === 'POST' && c.path === path).length
    expect(posts('/crm/v3/properties/contacts')).toBe(9)
    expect(posts('/crm/v3/properties/deals')).toBe(2)
    expect(posts('/crm/v3/properties/contacts/groups')).toBe(1)
    expect(posts('/crm/v3/properties/deals/groups')).toBe(1)

    // The same deal event again changes no value: nothing is sent again.
    const before = stub.calls.filter((c) => c.method === 'PATCH').length
    await webhook(on.record, '9001', 2)
    await waitFor(async () => (await store.pendingCrmInbox()) === 0, 'the inbox drained')
    await sleep(200)
    expect(stub.calls.filter((c) => c.method === 'PATCH').length).toBe(before)
  })

  it('waits out a 429 with its Retry-After, then sends; counts the attempts in /metrics and per connection', async () => {
    stub.contacts.set('803', { id: '803', properties: { email: 'linus@wb.example', cl_visitor_id: null, company: null } })
    const path = `/crm/v3/objects/contacts/${encodeURIComponent('linus@wb.example')}?idProperty=email`
    stub.failNext(1, 1)
    const n0 = stub.calls.length
    const t0 = Date.now()
    await lead(on.sk, 'linus@wb.example', [{ source: 'duckduckgo', medium: 'organic' }])
    await waitFor(() => stub.contacts.get('803')!.properties.closeloop_first_source === 'duckduckgo', 'the contact written after the 429')
    const [refused, patch] = patches(path)
    expect([refused.status, patch.status]).toEqual([429, 200])
    expect(stub.calls.slice(n0).filter((c) => c.status === 429)).toEqual([refused])
    // Not before Retry-After (1 s), though the backoff itself would have waited at most 50 ms.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
    expect(props(patch)).toMatchObject({ closeloop_first_source: 'duckduckgo', closeloop_first_campaign: '' })
    expect(props(patch)).toEqual(props(refused))
    const metrics = (await send(`${server.url}/metrics`)).text
    expect(metrics).toMatch(/closeloop_crm_writebacks_total\{kind="hubspot",object="contact",outcome="retry"\} [1-9]/)
    expect(metrics).toMatch(/closeloop_crm_writebacks_total\{kind="hubspot",object="contact",outcome="sent"\} [1-9]/)
    expect(metrics).toMatch(/closeloop_crm_writebacks_total\{kind="hubspot",object="deal",outcome="sent"\} 1\n/)
    expect(metrics).toMatch(/closeloop_crm_writebacks_pending 0\n/)
    const counts = (await store.crmOutboxCounts()).find((c) => c.connectionId === on.record.id)
    expect(counts).toMatchObject({ pending: 0, failed: 0, lastError: expect.stringMatching(/429/) })
    expect(counts!.sent).toBeGreaterThanOrEqual(4)
  })

  it('re-creates a property deleted in HubSpot, and fails a contact HubSpot does not have with the reason', async () => {
    stub.properties.contacts.delete('closeloop_last_channel')
    stub.contacts.set('804', { id: '804', properties: { email: 'ken@wb.example', cl_visitor_id: null, company: null } })
    await lead(on.sk, 'ken@wb.example', [{ source: 'google', medium: 'cpc', campaign: 'x' }])
    const path = `/crm/v3/objects/contacts/${encodeURIComponent('ken@wb.example')}?idProperty=email`
    await waitFor(() => stub.contacts.get('804')!.properties.closeloop_last_channel === 'Paid Search', 'the contact written')
    // The first PATCH was refused (400 PROPERTY_DOESNT_EXIST), the property created again, the PATCH repeated.
    expect(patches(path).map((c) => c.status)).toEqual([400, 200])
    expect(stub.properties.contacts.has('closeloop_last_channel')).toBe(true)

    const failedBefore = (await store.crmOutboxCounts()).find((c) => c.connectionId === on.record.id)!.failed
    await lead(on.sk, 'nobody@wb.example', [{ source: 'bing', medium: 'cpc' }])
    const counts = await waitFor(async () => {
      const c = (await store.crmOutboxCounts()).find((x) => x.connectionId === on.record.id)
      return c && c.failed > failedBefore && c
    }, 'the write-back failed')
    expect(counts.lastError).toMatch(/404/)
    expect(counts.pending).toBe(0)
  })

  it('sends nothing for a connection without write-back', async () => {
    stub.contacts.set('805', { id: '805', properties: { email: 'quiet@wb.example', cl_visitor_id: null, company: null } })
    const before = stub.calls.length
    const who = await lead(off.sk, 'quiet@wb.example', [{ source: 'google', medium: 'cpc', campaign: 'q' }], T0 + 60 * DAY)
    dealWon('9005', '805', 700, T0 + 70 * DAY)
    await webhook(off.record, '9005', 5)
    await waitFor(async () => (await api(off.sk, `/v1/leads/${who.leadId}`)).body.deals.length > 0, 'the deal written')
    await sleep(300)
    const calls = stub.calls.slice(before)
    expect(calls.filter((c) => c.method !== 'GET')).toEqual([])
    expect((await store.crmOutboxCounts()).find((c) => c.connectionId === off.record.id)).toBeUndefined()
  })
})

describe('HubSpot write-back across a restart', () => {
  it('sends rows queued before the collector stopped once it runs again, once', async () => {
    const dir2 = tempDir('closeloop-crm-writeback-restart-')
    try {
      const keys = loadInstallKeys({ dataDir: dir2, env: {} })
      const pii = new Pii(keys)
      let s = await openStore({ dataDir: dir2 })
      const { site } = await createSite(s, { name: 'restart', origins: ['https://r.example'], cookieDomain: null })
      await addConnection(s, keys.integrationKey, { site, kind: 'hubspot', writeBack: true, options: { token: stub.token, 'client-secret': CLIENT_SECRET, 'api-base': stub.url } })
      stub.contacts.set('806', { id: '806', properties: { email: 'restart@wb.example', cl_visitor_id: null, company: null } })
      const person = pii.protect({ email: 'restart@wb.example' })
      // What the identify route does before answering; then the process stops before the worker ran.
      const outcome = await s.identify({ siteId: site.id, keys: person.keys, emailEnc: person.emailEnc, ts: Date.now(), journey: true })
      expect(await queueLeadWriteBack(s, site.id, outcome.journey ?? (await s.getLead(site.id, outcome.leadId))!, Date.now())).toBe(1)
      await s.close()

      const path = `/crm/v3/objects/contacts/${encodeURIComponent('restart@wb.example')}?idProperty=email`
      expect(patches(path)).toHaveLength(0)
      const again = await startServer({ ...DEFAULTS, dataDir: dir2, port: 0, crmSyncMinutes: 0 }, { logger: false, crm: FAST })
      try {
        await waitFor(() => patches(path).length > 0, 'the PATCH after the restart')
        await sleep(300)
        expect(patches(path)).toHaveLength(1)
        expect(props(patches(path)[0])).toMatchObject({ closeloop_lead_id: outcome.leadId, closeloop_first_source: '' })
        s = again.app.closeloop.store
        expect((await s.crmOutboxCounts())[0]).toMatchObject({ sent: 1, pending: 0, failed: 0 })
      } finally {
        await again.close()
      }
      // The outbox found the contact by its e-mail, held only as a ciphertext: not in the database's bytes.
      const bytes = Buffer.concat(readdirSync(dir2).filter((f) => f.includes('.sqlite')).map((f) => readFileSync(join(dir2, f))))
      expect(bytes.length).toBeGreaterThan(4096)
      expect(bytes.includes(Buffer.from('restart@wb.example'))).toBe(false)
    } finally {
      rmSync(dir2, { recursive: true, force: true })
    }
  })
})

describe('HubSpot write-back retries', () => {
  it("gives up after the policy's limit with the last reason, and a newer write tries again", async () => {
    const dir3 = tempDir('closeloop-crm-writeback-giveup-')
    const keys = loadInstallKeys({ dataDir: dir3, env: {} })
    const s = await openStore({ dataDir: dir3 })
    try {
      const { site } = await createSite(s, { name: 'give-up', origins: ['https://g.example'], cookieDomain: null })
      // A new connection: its properties are not known to exist yet, so the first call of each drain is to the stub.
      const record = await addConnection(s, keys.integrationKey, { site, kind: 'hubspot', writeBack: true, options: { token: stub.token, 'client-secret': CLIENT_SECRET, 'api-base': stub.url } })
      dealWon('9100', '806', 1, T0)
      let clock = 1000
      const ctx = { store: s, pii: new Pii(keys), integrationKey: keys.integrationKey, env: { fetch: globalThis.fetch as FetchLike, now: () => clock } }
      const policy = { backoff: { baseMs: 10, capMs: 10, giveUpAfterMs: 100 }, random: () => 0 }
      const row = (campaign: string) => ({ connectionId: record.id, object: 'deal' as const, target: '9100', contactId: null, emailEnc: null, fields: JSON.stringify({ closeloop_channel: 'Email', closeloop_campaign: campaign }) })
      expect(await s.enqueueCrmOutbox([row('may')], clock)).toBe(1)
      stub.failNext(3, 0, 503)
      const counts = async () => (await s.crmOutboxCounts())[0]
      expect(await drainOutbox(ctx, policy)).toBe(1)
      expect(await counts()).toMatchObject({ pending: 1, failed: 0, lastError: expect.stringMatching(/503/) })
      // Retried once due (never in the same drain), still inside the 100 ms the policy allows.
      expect(await drainOutbox(ctx, policy)).toBe(0)
      clock = 1050
      expect(await drainOutbox(ctx, policy)).toBe(1)
      expect(await counts()).toMatchObject({ pending: 1, failed: 0 })
      clock = 1200
      expect(await drainOutbox(ctx, policy)).toBe(1)
      expect(await counts()).toMatchObject({ pending: 0, failed: 1, lastError: expect.stringMatching(/^gave up after 3 attempts: HubSpot answered 503/) })
      expect(stub.deals.get('9100')!.properties.closeloop_campaign).toBeUndefined()
      // The deal changes again: the row is due again, and HubSpot answers now.
      clock = 1300
      expect(await s.enqueueCrmOutbox([row('june')], clock)).toBe(1)
      expect(await drainOutbox(ctx, policy)).toBe(1)
      expect(await counts()).toMatchObject({ sent: 1, pending: 0, failed: 0 })
      expect(stub.deals.get('9100')!.properties).toMatchObject({ closeloop_channel: 'Email', closeloop_campaign: 'june' })
    } finally {
      await s.close()
      rmSync(dir3, { recursive: true, force: true })
    }
  })
})
