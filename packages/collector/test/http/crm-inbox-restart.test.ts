// The CRM inbox across a restart, on a real SQLite file and the local HubSpot API stub: webhook
// changes stored and the store closed before any processing are processed after reopening, and
// write the deal once however often the row is processed. Plus the connector's write-back calls.

import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { Pii } from '../../src/identity/pii.js'
import { addConnection, loadConnection } from '../../src/integrations/crm/connections.js'
import { drainInbox } from '../../src/integrations/crm/inbox.js'
import type { FetchLike } from '../../src/integrations/types.js'
import { normalizeEmail, matchHash } from '../../src/identity/match-keys.js'
import { createSite } from '../../src/sites/admin.js'
import { openStore } from '../../src/store/index.js'
import { tempDir } from './helpers.js'
import { startHubSpotStub, type HubSpotStub } from './stubs/hubspot-stub.js'

let stub: HubSpotStub
const dir = tempDir('closeloop-crm-restart-')

beforeAll(async () => {
  stub = await startHubSpotStub()
})
afterAll(async () => {
  await stub?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('CRM inbox across a restart', () => {
  it('processes rows stored before the store closed, writing the deal once', async () => {
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    let store = await openStore({ dataDir: dir })
    const { site } = await createSite(store, { name: 'restart', origins: ['https://r.example'], cookieDomain: null })
    const record = await addConnection(store, keys.integrationKey, { site, kind: 'hubspot', writeBack: false, options: { token: stub.token, 'client-secret': 's', 'api-base': stub.url } })
    const lead = await store.identify({ siteId: site.id, keys: [{ kind: 'email', hash: matchHash(normalizeEmail('cto@r.example') as string, keys.matchKey) }], ts: Date.UTC(2026, 0, 1) })
    stub.contacts.set('1', { id: '1', properties: { email: 'cto@r.example', cl_visitor_id: null, company: null } })
    stub.setDeal({ id: '77', contacts: ['1'], properties: { dealname: 'R', amount: '900', dealstage: 'closedwon', pipeline: 'default', closedate: '2026-02-01T00:00:00.000Z', deal_currency_code: null, hs_lastmodifieddate: String(Date.UTC(2026, 1, 1)) } })
    const item = (eventId: string) => ({ key: `event:${eventId}`, item: JSON.stringify({ object: 'deal', id: '77', change: 'changed', occurredAt: Date.now(), eventId }) })
    // What the route does before answering 200; then the process dies without processing.
    await store.enqueueCrmInbox(record.id, [item('1'), item('2')], Date.now())
    await store.close()

    store = await openStore({ dataDir: dir })
    const ctx = { store, pii: new Pii(keys), integrationKey: keys.integrationKey, env: { fetch: globalThis.fetch as FetchLike, now: Date.now } }
    expect(await store.pendingCrmInbox()).toBe(2)
    expect(await drainInbox(ctx)).toBe(2)
    expect(await store.pendingCrmInbox()).toBe(0)
    const deals = await store.getDeals(site.id, lead.leadId)
    expect(deals).toMatchObject([{ dealId: '77', stage: 'won', amount: 900 }])
    expect(deals[0].history).toHaveLength(1)
    // A redelivery after the restart is recognised; nothing more to do.
    expect(await store.enqueueCrmInbox(record.id, [item('1')], Date.now())).toEqual({ stored: 0, duplicates: 1 })
    expect(await drainInbox(ctx)).toBe(0)
    await store.close()
  })
})

describe('CRM inbox drain', () => {
  it('tries a row once per drain even when its retry is due at once', async () => {
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    const store = await openStore({ dataDir: dir })
    const record = (await store.listCrmConnections())[0]
    const ctx = { store, pii: new Pii(keys), integrationKey: keys.integrationKey, env: { fetch: globalThis.fetch as FetchLike, now: Date.now } }
    await store.enqueueCrmInbox(record.id, [{ key: 'event:again', item: JSON.stringify({ object: 'deal', id: '77', change: 'changed', occurredAt: 1, eventId: 'again' }) }], Date.now())
    stub.failNext(5, 0)
    const before = stub.calls.length
    expect(await drainInbox(ctx, { random: () => 0 })).toBe(1)
    expect(stub.calls.length - before).toBe(1)
    expect(await store.pendingCrmInbox()).toBe(1)
    stub.failNext(0, 0)
    expect(await drainInbox(ctx)).toBe(1)
    expect(await store.pendingCrmInbox()).toBe(0)
    await store.close()
  })
})

describe('HubSpot write-back', () => {
  it('PATCHes deal and contact properties, retries a 429 with its Retry-After, fails a missing object', async () => {
    const keys = loadInstallKeys({ dataDir: dir, env: {} })
    const store = await openStore({ dataDir: dir })
    const site = (await store.getSiteByName('restart'))!
    const record = (await store.listCrmConnections()).find((c) => c.siteId === site.id)!
    const { adapter, connection } = loadConnection(record, keys.integrationKey)
    const env = { fetch: globalThis.fetch as FetchLike, now: Date.now }
    expect(await adapter.writeBack(connection, { object: 'deal', dealId: '77', fields: { closeloop_channel: 'Paid Search', closeloop_campaign: null } }, env)).toEqual({ status: 'sent' })
    expect(stub.deals.get('77')!.properties).toMatchObject({ closeloop_channel: 'Paid Search', closeloop_campaign: '' })
    const fields = { closeloop_lead_id: 'L1', closeloop_first_source: 'google', closeloop_first_medium: 'cpc', closeloop_first_campaign: null, closeloop_first_channel: 'Paid Search', closeloop_last_source: null, closeloop_last_medium: null, closeloop_last_campaign: null, closeloop_last_channel: null }
    expect(await adapter.writeBack(connection, { object: 'contact', contactId: null, email: 'cto@r.example', fields }, env)).toEqual({ status: 'sent' })
    expect(stub.contacts.get('1')!.properties.closeloop_lead_id).toBe('L1')
    stub.failNext(1, 7)
    expect(await adapter.writeBack(connection, { object: 'deal', dealId: '77', fields: { closeloop_channel: 'x', closeloop_campaign: null } }, env)).toMatchObject({ status: 'retry', retryAfterMs: 7000 })
    expect(await adapter.writeBack(connection, { object: 'deal', dealId: '999', fields: { closeloop_channel: 'x', closeloop_campaign: null } }, env)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/404/) })
    await store.close()
  })
})
