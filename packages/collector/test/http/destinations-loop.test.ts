// The whole loop with the product's adapters, through a real listening collector and its delivery
// worker: a lead arrives through a Meta ad click and later a Google ad click (import), is identified,
// and wins a deal (the deals API). Meta's Conversions API (a local stub written from Meta's
// documentation) receives one server event with the row key as event_id, the amount, the fbc built
// from the fbclid and its click time, the _fbp the tracker captured and the hashed e-mail; the
// Google Ads feed serves the gclid.
// After a restart of the collector, the same deal sent again adds nothing.

import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULTS, type Config } from '../../src/config.js'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { addDestination, feedPath } from '../../src/integrations/destinations/destinations.js'
import { conversionKey } from '../../src/integrations/destinations/plan.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createSite } from '../../src/sites/admin.js'
import { openStore } from '../../src/store/index.js'
import type { DestinationRecord, Site } from '../../src/store/types.js'
import { send, tempDir, type TestServer, waitFor } from './helpers.js'
import { DAY, identify, importEvents } from './outcome-helpers.js'
import { startMetaStub, type MetaStub } from './stubs/meta-stub.js'

let meta: MetaStub
let dir: string
let config: Config
let server: RunningServer
let site: Site
let sk: string
let metaDest: DestinationRecord
let feed: DestinationRecord
let feedPassword = ''


const start = () => startServer(config, { logger: false, destinations: { pollMs: 50 } })
const testServer = (): TestServer => ({ url: server.url, sk } as TestServer)

beforeAll(async () => {
  meta = await startMetaStub()
  dir = tempDir('closeloop-destinations-loop-')
  const setup = await openStore({ dataDir: dir })
  const created = await createSite(setup, { name: 'b2b', origins: ['https://shop.example'], cookieDomain: null, currency: 'EUR' })
  site = created.site
  sk = created.secretKey
  const key = loadInstallKeys({ dataDir: dir, env: {} }).integrationKey
  metaDest = (await addDestination(setup, key, { site, kind: 'meta', send: ['won=Purchase'], options: { 'pixel-id': meta.pixelId, 'access-token': meta.token, 'api-base': meta.url } })).record
  const f = await addDestination(setup, key, { site, kind: 'google-ads-feed', send: ['won=Closed deal'], options: {} })
  feed = f.record
  feedPassword = f.feed?.password ?? ''
  await setup.close()
  config = { ...DEFAULTS, dataDir: dir, port: 0, crmSyncMinutes: 0 }
  server = await start()
})

afterAll(async () => {
  await server?.close()
  await meta?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('conversions back to Meta and Google, end to end', () => {
  it('sends a won deal once to Meta with its click and hashes, serves the gclid in the Google feed, and adds nothing after a restart', async () => {
    const vid = 'loopvisitor0000000001'
    const fbTs = Date.now() - 3 * DAY
    const gTs = Date.now() - 2 * DAY
    const touchEvent = (id: string, ts: number, source: string, type: string, clickId: string, fbp?: string) => ({
      id, type: 'page', ts, vid, sid: `${id}-sess`, url: 'https://shop.example/',
      touch: { ts, source, medium: 'cpc', campaign: 'spring', click_id: clickId, click_id_type: type, landing: 'https://shop.example/', fbp },
    })
    // Meta's pixel cookie as the tracker sends it; the newer touch's malformed one is dropped, not the touch.
    const fbp = `fb.1.${fbTs - 60_000}.1234567890`
    await importEvents(testServer(), [
      touchEvent('loopevent000000000001', fbTs, 'facebook', 'fbclid', 'IwAR2loopFbclid', fbp),
      touchEvent('loopevent000000000002', gTs, 'google', 'gclid', 'Cj0KCQloopGclid', 'fb.1.not-a-time.1'),
    ])
    const leadId = await identify(testServer(), { email: ' Grace.Hopper@Navy.example ', visitorId: vid })
    const deal = { deals: [{ dealId: 'loop-1', leadId, stage: 'won', amount: '12000.50', ts: Date.now() - DAY }] }
    const r = await send(`${server.url}/v1/deals`, { method: 'POST', body: deal, headers: { authorization: `Bearer ${sk}` } })
    expect(r.status, r.text).toBe(200)

    const key = conversionKey(metaDest.id, leadId, 'won')
    const event = await waitFor(async () => meta.events.get(`Purchase|${key}`))
    expect(event).toMatchObject({
      event_name: 'Purchase', event_id: key, action_source: 'system_generated',
      user_data: { fbc: `fb.1.${fbTs}.IwAR2loopFbclid`, fbp, em: [createHash('sha256').update('grace.hopper@navy.example').digest('hex')] },
      custom_data: { value: 12000.5, currency: 'EUR', lead_event_source: 'Closeloop', event_source: 'crm' },
    })
    const metaRequests = meta.requests.length

    const csv = await send(`${server.url}${feedPath(feed.id)}`, { headers: { authorization: `Basic ${Buffer.from(`${feed.id}:${feedPassword}`).toString('base64')}` } })
    expect(csv.status).toBe(200)
    expect(csv.text.split('\r\n')[2]).toMatch(/^Cj0KCQloopGclid,Closed deal,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,12000.5,EUR$/)

    // Restart the collector; the CRM sends the same deal again.
    await server.close()
    server = await start()
    const again = await send(`${server.url}/v1/deals`, { method: 'POST', body: deal, headers: { authorization: `Bearer ${sk}` } })
    expect(again.status).toBe(200)
    await new Promise((res) => setTimeout(res, 400))
    expect(meta.requests.length).toBe(metaRequests)
    expect([...meta.events.keys()].filter((k) => k.endsWith(key))).toHaveLength(1)
    const status = (await send(`${server.url}/v1/reports/destinations`, { headers: { authorization: `Bearer ${sk}` } })).body as { destinations: Array<{ id: string; stages: Array<{ stage: string; sent: number; pending: number }> }> }
    expect(status.destinations.map((d) => [d.id, d.stages.map((s) => [s.stage, s.sent, s.pending])])).toEqual([
      [metaDest.id, [['won', 1, 0]]], [feed.id, [['won', 1, 0]]],
    ])
  })

  it('marks Meta failing with the reason when its token expires, and shows it in destinations status', async () => {
    meta.expireToken()
    const vid = 'loopvisitor0000000002'
    await importEvents(testServer(), [{ id: 'loopevent000000000003', type: 'page', ts: Date.now() - DAY, vid, sid: 'loop-sess-3', url: 'https://shop.example/',
      touch: { ts: Date.now() - DAY, source: 'facebook', medium: 'cpc', campaign: 'spring', click_id: 'IwAR2second', click_id_type: 'fbclid', landing: 'https://shop.example/' } }])
    const leadId = await identify(testServer(), { email: 'second@navy.example', visitorId: vid })
    const r = await send(`${server.url}/v1/deals`, { method: 'POST', body: { deals: [{ dealId: 'loop-2', leadId, stage: 'won', amount: 10, ts: Date.now() - 1000 }] }, headers: { authorization: `Bearer ${sk}` } })
    expect(r.status).toBe(200)
    type Report = { destinations: Array<{ id: string; failing: boolean; lastError: string | null; stages: Array<{ failed: number; reasons: Array<{ reason: string }> }> }> }
    const d = await waitFor(async () => {
      const rep = (await send(`${server.url}/v1/reports/destinations`, { headers: { authorization: `Bearer ${sk}` } })).body as Report
      const m = rep.destinations.find((x) => x.id === metaDest.id)
      return m?.failing ? m : null
    })
    expect(d.lastError).toMatch(/token/i)
    expect(d.stages[0].failed + d.stages[0].reasons.length).toBeGreaterThan(0)
  })
})
