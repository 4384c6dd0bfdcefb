// Conversions back to ad platforms through a real listening collector (server.ts, so its delivery
// worker runs): the real API path (import with click IDs → identify → deals) queues outbox rows;
// the worker sends them to a fake platform behind a local HTTP server (a test double registered
// only here) with retries on 429/5xx, per-row failures and the give-up; a claimed row that was never
// settled (a crashed collector) is sent again with the same key; feeds are served with HTTP Basic.

import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULTS, type Config } from '../../src/config.js'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { addDestination, feedPath } from '../../src/integrations/destinations/destinations.js'
import { deliverDue } from '../../src/integrations/destinations/delivery.js'
import { Pii } from '../../src/identity/pii.js'
import type { FetchLike } from '../../src/integrations/types.js'
import { conversionKey } from '../../src/integrations/destinations/plan.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createSite } from '../../src/sites/admin.js'
import { openStore } from '../../src/store/index.js'
import type { DestinationRecord, Site, Store } from '../../src/store/types.js'
import { TEST_DESTINATIONS } from '../store/fake-destination.js'
import { send, tempDir, type TestServer, waitFor } from './helpers.js'
import { DAY, identify, importEvents } from './outcome-helpers.js'
import { startFakePlatform, type FakePlatform } from './stubs/fake-platform.js'

let platform: FakePlatform
let dir: string
let server: RunningServer
let site: Site
let sk: string
let api: DestinationRecord
let store: Store
let keys: ReturnType<typeof loadInstallKeys>
const GIVE_UP_MS = 1500


const testServer = (): TestServer => ({ url: server.url, sk } as TestServer)
let n = 0

/** A lead whose visit came from a click of `type` a day ago (or a direct visit), identified with an e-mail. */
async function lead(type: string | null, email = `buyer${++n}-${Date.now()}@corp.example`): Promise<{ leadId: string; clickId: string | null }> {
  const vid = `v${String(++n).padStart(20, '0')}`.slice(-21)
  const clickId = type === null ? null : `${type}-${n}-abc`
  const ts = Date.now() - DAY
  await importEvents(testServer(), [{ id: `e${n}x`.padEnd(21, 'x'), type: 'page', ts, vid, sid: `s${n}`.padEnd(12, 's'), url: 'https://shop.example/',
    touch: { ts, source: 'facebook', medium: 'cpc', campaign: 'spring', click_id: clickId, click_id_type: type, landing: 'https://shop.example/' } }])
  const leadId = await identify(testServer(), { email, visitorId: vid })
  return { leadId, clickId }
}

async function won(leadId: string, dealId: string, amount: number): Promise<void> {
  const r = await send(`${server.url}/v1/deals`, { method: 'POST', body: { deals: [{ dealId, leadId, stage: 'won', amount, ts: Date.now() - 1000 }] }, headers: { authorization: `Bearer ${sk}` } })
  expect(r.status, r.text).toBe(200)
}

const outboxOf = async (destinationId: string) => (await store.conversionCounts()).filter((c) => c.destinationId === destinationId)

beforeAll(async () => {
  platform = await startFakePlatform()
  dir = tempDir('closeloop-destinations-')
  const setup = await openStore({ dataDir: dir, destinations: TEST_DESTINATIONS })
  const created = await createSite(setup, { name: 'b2b', origins: ['https://shop.example'], cookieDomain: null })
  site = created.site
  sk = created.secretKey
  keys = loadInstallKeys({ dataDir: dir, env: {} })
  api = (await addDestination(setup, keys.integrationKey, { site, kind: 'meta', options: { 'api-base': platform.url, 'access-token': platform.token }, send: ['won=Purchase', 'sql=Qualified lead:100'] }, TEST_DESTINATIONS)).record
  await setup.close()
  const config: Config = { ...DEFAULTS, dataDir: dir, port: 0, crmSyncMinutes: 0 }
  server = await startServer(config, { logger: false, destinations: { registry: TEST_DESTINATIONS, pollMs: 40, claimMs: 800, backoff: { baseMs: 50, capMs: 100, giveUpAfterMs: GIVE_UP_MS } } })
  store = server.app.closeloop.store
})

afterAll(async () => {
  await server?.close()
  await platform?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('conversion delivery', () => {
  it('stores the token encrypted and sends a won deal once, with the row key as event ID, the amount and the decrypted e-mail', async () => {
    expect(JSON.stringify(api.options)).not.toContain(platform.token)
    const { leadId, clickId } = await lead('fbclid', 'Ada.Buyer@Corp.example')
    await won(leadId, 'deal-1', 5000)
    const key = conversionKey(api.id, leadId, 'won')
    const got = await waitFor(async () => platform.counted.get(key))
    expect(got).toMatchObject({ event_id: key, event_name: 'Purchase', value: 5000, currency: 'USD', click: clickId, email: 'ada.buyer@corp.example' })
    expect(platform.requests.at(-1)?.authorization).toBe(`Bearer ${platform.token}`)
    await waitFor(async () => (await outboxOf(api.id)).some((c) => c.status === 'sent'))
    // The same stage again (a CRM resend) queues nothing more.
    await won(leadId, 'deal-1', 5000)
    await new Promise((r) => setTimeout(r, 200))
    expect(platform.requests.flatMap((q) => q.events).filter((e) => e.event_id === key)).toHaveLength(1)
    const metrics = (await send(`${server.url}/metrics`)).text
    expect(metrics).toMatch(/closeloop_conversions\{kind="meta",status="sent"\} [1-9]/)
    expect(metrics).toMatch(/closeloop_conversion_deliveries_total\{kind="meta",outcome="sent"\} [1-9]/)
  })

  it('retries after a 429 no sooner than its Retry-After, with the same event ID', async () => {
    const { leadId } = await lead('fbclid')
    const before = platform.requests.length
    platform.script.push({ status: 429, retryAfter: '1' })
    const t0 = Date.now()
    await won(leadId, 'deal-429', 700)
    const key = conversionKey(api.id, leadId, 'won')
    await waitFor(async () => platform.counted.get(key))
    const mine = platform.requests.slice(before).filter((q) => q.events.some((e) => e.event_id === key))
    expect(mine).toHaveLength(2)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
  })

  it('fails the row the platform refuses with its reason and sends the rest of the batch', async () => {
    const a = await lead('fbclid')
    const b = await lead(null) // matched by e-mail
    const keyA = conversionKey(api.id, a.leadId, 'sql')
    const keyB = conversionKey(api.id, b.leadId, 'sql')
    platform.script.push({ refuse: { [keyA]: 'Invalid parameter: fbc is older than 7 days' } })
    const r = await send(`${server.url}/v1/deals`, { method: 'POST', headers: { authorization: `Bearer ${sk}` }, body: { deals: [
      { dealId: 'q-a', leadId: a.leadId, stage: 'sql', ts: Date.now() - 500 }, { dealId: 'q-b', leadId: b.leadId, stage: 'sql', ts: Date.now() - 500 },
    ] } })
    expect(r.status).toBe(200)
    await waitFor(async () => platform.counted.get(keyB))
    const failed = await waitFor(async () => (await outboxOf(api.id)).find((c) => c.status === 'failed' && c.stage === 'sql'))
    expect(failed).toMatchObject({ reason: 'Invalid parameter: fbc is older than 7 days', rows: 1 })
    expect(platform.counted.get(keyB)).toMatchObject({ event_name: 'Qualified lead', value: 100 })
    expect(platform.counted.has(keyA)).toBe(false)
  })

  it('gives up with the last reason once the retry window has passed', async () => {
    const { leadId } = await lead('fbclid')
    for (let i = 0; i < 200; i++) platform.script.push({ status: 503 })
    await won(leadId, 'deal-503', 10)
    const failed = await waitFor(async () => (await outboxOf(api.id)).find((c) => c.status === 'failed' && c.reason?.includes('503')), GIVE_UP_MS + 5000)
    expect(failed.reason).toBe('gave up after 0 days of retries: platform answered 503')
    // The destination is failing with that reason, until its next send.
    const report = (await send(`${server.url}/v1/reports/destinations`, { headers: { authorization: `Bearer ${sk}` } })).body as { destinations: Array<{ id: string; failing: boolean; lastError: string | null }> }
    expect(report.destinations.find((d) => d.id === api.id)).toMatchObject({ failing: true, lastError: expect.stringContaining('503') })
    platform.script.length = 0
  })

  it('sends a row again with the same key when the collector that claimed it died mid-request (the platform counts it once)', async () => {
    const { leadId } = await lead('fbclid')
    const key = conversionKey(api.id, leadId, 'won')
    // The server's worker sends the row; the platform processes it, but the answer never comes back.
    platform.script.push({ hang: true })
    await won(leadId, 'deal-crash', 321)
    await waitFor(async () => platform.requests.some((q) => q.events.some((e) => e.event_id === key)))
    expect((await outboxOf(api.id)).some((c) => c.status === 'pending')).toBe(true)
    // A second collector sharing the store takes the row once the claim has run out, and sends it with the same key.
    const other = await openStore({ dataDir: dir, destinations: TEST_DESTINATIONS })
    try {
      const ctx = { store: other, pii: new Pii(keys), integrationKey: keys.integrationKey, registry: TEST_DESTINATIONS, env: { fetch: globalThis.fetch as FetchLike, now: Date.now } }
      expect(await deliverDue(ctx, { claimMs: 800 })).toBe(0)
      await new Promise((r) => setTimeout(r, 850))
      expect(await deliverDue(ctx, { claimMs: 800 })).toBe(1)
    } finally {
      await other.close()
    }
    const sends = platform.requests.filter((q) => q.events.some((e) => e.event_id === key))
    expect(sends).toHaveLength(2)
    expect(sends[1].events.find((e) => e.event_id === key)).toMatchObject({ value: 321, event_name: 'Purchase' })
    expect([...platform.counted.keys()].filter((k) => k === key)).toHaveLength(1)
    // The first collector's late answer (a broken connection) does not undo the sent row.
    platform.release()
    await new Promise((r) => setTimeout(r, 200))
    const rows = await store.claimConversions(Date.now() + 10 * DAY, Date.now() + 11 * DAY, 1000)
    expect(rows.map((r) => r.key)).not.toContain(key)
  })
})

describe('feeds', () => {
  let feed: DestinationRecord
  let password: string

  beforeAll(async () => {
    const added = await addDestination(store, keys.integrationKey, { site, kind: 'google-ads-feed', options: {}, send: ['won=Closed deal', 'sql=Qualified lead:50'] })
    feed = added.record
    password = added.feed?.password ?? ''
    expect(added.feed?.user).toBe(feed.id)
    expect(JSON.stringify(feed)).not.toContain(password)
  })

  const get = (id: string, auth?: string) => send(`${server.url}${feedPath(id)}`, { headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} })

  it('serves the last 90 days in the Google template to the feed credentials only', async () => {
    const g = await lead('gclid')
    await won(g.leadId, 'deal-feed', 1234.5)
    const r = await get(feed.id, `${feed.id}:${password}`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    const lines = r.text.split('\r\n')
    expect(lines.slice(0, 2)).toEqual(['Parameters:TimeZone=+0000', 'Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency'])
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${g.clickId},Closed deal,\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,1234.5,USD$`)))
    // fbclid leads are not Google's: not in the feed.
    expect(r.text).not.toContain('fbclid-')
    // Served rows count as sent.
    expect((await outboxOf(feed.id)).find((c) => c.stage === 'won' && c.status === 'sent')?.rows).toBeGreaterThanOrEqual(1)
  })

  it('refuses missing or wrong credentials, unknown feeds and API destinations with coded errors', async () => {
    const none = await get(feed.id)
    expect([none.status, none.body.error?.code ?? none.body.code]).toEqual([401, 'CL_ERR_BAD_FEED_CREDENTIALS'])
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /)
    expect((await get(feed.id, `${feed.id}:wrong`)).status).toBe(401)
    expect((await get(feed.id, `someone:${password}`)).status).toBe(401)
    const unknown = await get('dst_nope', `dst_nope:${password}`)
    expect(unknown.status).toBe(404)
    const notFeed = await get(api.id, `${api.id}:${password}`)
    expect(notFeed.status).toBe(404)
    expect(JSON.stringify(notFeed.body)).toContain('CL_ERR_NOT_A_FEED')
  })
})
