// Retention through `serve` (startServer: its daily job runs at once here): a site set to keep raw
// data 30 days loses older events and touches, keeps its leads with their first and newest touch,
// its won revenue in the reports, and the other site's data; rejected rows older than 30 days go.

import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULTS, type Config } from '../../src/config.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createSite, updateSite } from '../../src/sites/admin.js'
import { applyRetention, RetentionJob } from '../../src/sites/retention.js'
import { openStore } from '../../src/store/index.js'
import type { Site } from '../../src/store/types.js'
import { ORIGIN, secret, tempDir, visitorId, type TestServer } from './helpers.js'
import { DAY, identify, importEvents, touchEvent } from './outcome-helpers.js'

const dir = tempDir('closeloop-retention-')
let server: RunningServer
const now = Date.now()
let shop: TestServer
let other: TestServer

const as = (site: Site, sk: string): TestServer => ({ url: server.url, sk, site, pk: site.publicKey } as TestServer)

beforeAll(async () => {
  const setup = await openStore({ dataDir: dir })
  const a = await createSite(setup, { name: 'shop', origins: [ORIGIN], cookieDomain: null })
  const b = await createSite(setup, { name: 'other', origins: [ORIGIN], cookieDomain: null })
  await setup.close()
  const config: Config = { ...DEFAULTS, dataDir: dir, port: 0, crmSyncMinutes: 0 }
  // A first pass far away: the test fills the store, then runs the pass itself.
  server = await startServer(config, { logger: false, retention: { firstDelayMs: 3_600_000 } })
  shop = as(a.site, a.secretKey)
  other = as(b.site, b.secretKey)
})
afterAll(async () => {
  await server?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('retention', () => {
  it('deletes raw data past the site setting and keeps leads, their first and newest touch, and revenue', async () => {
    const lead = visitorId()
    const anon = visitorId()
    const ago = (d: number) => now - d * DAY
    await importEvents(shop, [
      touchEvent(lead, ago(100), { source: 'google', medium: 'cpc', campaign: 'first' }),
      touchEvent(lead, ago(80), { source: 'bing', medium: 'cpc', campaign: 'middle' }),
      touchEvent(lead, ago(60), { source: 'newsletter', medium: 'email', campaign: 'newest' }),
      touchEvent(anon, ago(90), { source: 'google', medium: 'cpc', campaign: 'anon-old' }),
      touchEvent(anon, ago(5), { source: 'google', medium: 'cpc', campaign: 'anon-new' }),
    ])
    const otherVisitor = visitorId()
    await importEvents(other, [touchEvent(otherVisitor, ago(100), { source: 'google', medium: 'cpc', campaign: 'other' })])
    const leadId = await identify(shop, { email: 'kept@example.com', visitorId: lead, ts: ago(59) })
    expect((await secret(shop, '/v1/deals', { dealId: 'ret-1', email: 'kept@example.com', stage: 'won', amount: 500, ts: ago(50) })).status).toBe(200)
    const store = server.app.closeloop.store
    await store.recordRejected([{ siteId: shop.site.id, receivedAt: ago(31), code: 'CL_ERR_VALIDATION', payload: '{}' }, { siteId: shop.site.id, receivedAt: ago(29), code: 'CL_ERR_VALIDATION', payload: '{}' }])
    const before = (await secret(shop, '/v1/reports/attribution?model=first_touch&by=campaign&conversion=won')).body

    await updateSite(store, 'shop', { retentionDays: '30' })
    const run = await applyRetention(store, now)
    expect(run.sites).toEqual([{ siteId: shop.site.id, touches: 2, events: 4 }])
    expect(run.rejected).toBeGreaterThanOrEqual(1)

    const journey = (await secret(shop, `/v1/leads/${leadId}`)).body
    expect(journey.touches.map((t: { campaign: string }) => t.campaign)).toEqual(['first', 'newest'])
    expect(journey.deals).toMatchObject([{ dealId: 'ret-1', stage: 'won', amount: 500 }])
    const anonHeld = await secret(shop, `/v1/privacy/export?visitorId=${anon}`)
    expect(anonHeld.body.touches.map((t: { campaign: string }) => t.campaign)).toEqual(['anon-new'])
    // The lead's original source still earns the won revenue.
    const after = (await secret(shop, '/v1/reports/attribution?model=first_touch&by=campaign&conversion=won')).body
    const credited = (rows: Array<{ key: string; revenue: number }>) => rows.filter((r) => r.revenue > 0).map((r) => [r.key, r.revenue])
    expect(credited(after.rows)).toEqual(credited(before.rows))
    expect(credited(after.rows)).toEqual([['first', 500]])
    expect(after.totals.revenue).toBe(500)
    // The other site keeps everything; rejected rows of the last 30 days stay.
    expect((await store.exportPerson(other.site.id, { visitorId: otherVisitor })).touches.map((t) => t.campaign)).toEqual(['other'])
    expect((await store.listRejected(shop.site.id)).map((r) => r.receivedAt)).toEqual([now - 29 * DAY])
  })

  it('runs as a job: a pass soon after start, then one a day', async () => {
    const store = server.app.closeloop.store
    const vid = visitorId()
    await importEvents(shop, [touchEvent(vid, now - 40 * DAY, { source: 'google', medium: 'cpc', campaign: 'job' })])
    const passes: unknown[] = []
    const job = new RetentionJob(store, (fields) => passes.push(fields), { firstDelayMs: 10, intervalMs: 50 })
    job.start()
    for (let i = 0; i < 100 && passes.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    await job.stop()
    expect(passes[0]).toMatchObject({ sites: [{ siteId: shop.site.id, touches: 1, events: 1 }] })
    expect((await store.exportPerson(shop.site.id, { visitorId: vid })).events).toEqual([])
  })

  it('takes --retention-days as days or "keep", and refuses anything else with a coded error', async () => {
    const store = server.app.closeloop.store
    expect((await updateSite(store, 'other', { retentionDays: '365' })).settings.retentionDays).toBe(365)
    expect((await updateSite(store, 'other', { retentionDays: 'keep' })).settings.retentionDays).toBeUndefined()
    for (const bad of ['-1', '36500', 'a month', '1.5']) {
      await expect(updateSite(store, 'other', { retentionDays: bad })).rejects.toMatchObject({ code: 'CL_ERR_BAD_CONFIG' })
    }
  })
})
