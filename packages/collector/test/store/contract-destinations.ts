// Contract cases of the ad-platform destinations and their conversion outbox, called from
// storeContract so both stores run them. The store is opened with the product's feeds plus a test
// double of an API platform (fake-destination.ts) under the `meta` kind.

import { describe, expect, it } from 'vitest'
import { conversionKey } from '../../src/integrations/destinations/plan.js'
import type { DestinationRecord, NewDestination, Site, Store } from '../../src/store/types.js'
import type { DealWrite, DealWriteResult } from '../../src/outcomes/types.js'
import { emailKey, event, makeSite, rid, touch } from './fixtures.js'

const DAY = 86_400_000
const T = Date.UTC(2026, 5, 1)

function destination(site: Site, kind: string, send: DestinationRecord['send'], options: DestinationRecord['options'] = {}): NewDestination {
  return { id: `dst_${rid(12)}`, siteId: site.id, kind, options, send, feedUser: null, feedSecretHash: null, createdAt: T }
}

const deal = (dealId: string, leadId: string | null, stage: DealWrite['stage'], ts: number, amount: number | null = null, email?: string): DealWrite => ({
  dealId, match: { leadId, keys: email ? [emailKey(email)] : [] }, stage, crmStage: stage, amount, originalAmount: amount, originalCurrency: null, ts,
})

/** A lead whose visitor arrived through a click of `type` at `clickTs` (none: a direct visit; no visitor: the tracker never ran). */
async function leadWith(store: Store, site: Site, opts: { click?: { type: string; id: string; ts: number }; visitor?: boolean; email?: string }): Promise<string> {
  const visitorId = opts.visitor === false ? null : rid()
  if (visitorId !== null) {
    const t = opts.click
      ? touch(opts.click.ts, 'google', 'cpc', { click_id: opts.click.id, click_id_type: opts.click.type })
      : touch(T - DAY, '(direct)', '(none)')
    await store.ingest([event(site.id, visitorId, t.ts, { touch: t })])
  }
  const email = opts.email ?? `${rid(8)}@x.example`
  const r = await store.identify({ siteId: site.id, visitorId, keys: [emailKey(email)], emailEnc: 'v1.cipher-of-email', ts: T })
  return r.leadId
}

const rowsOf = async (store: Store, destinationId: string) =>
  (await store.conversionCounts()).filter((c) => c.destinationId === destinationId)

export function destinationsContract(getStore: () => Store): void {
  describe('destinations and the conversion outbox', () => {
    it('adds, lists, gets and removes a destination with its outbox', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const d = { ...destination(site, 'google-ads-feed', { won: { name: 'Closed deal', value: null } }), feedUser: 'feed_x', feedSecretHash: 'ab'.repeat(32) }
      const stored = { ...d, lastSentAt: null, lastError: null, lastErrorAt: null }
      expect(await store.addDestination(d)).toEqual(stored)
      expect(await store.getDestination(d.id)).toEqual(stored)
      await store.updateDestinationStatus(d.id, { sentAt: 7000 })
      await store.updateDestinationStatus(d.id, { error: { reason: 'x'.repeat(900), at: 8000 } })
      const failing = await store.getDestination(d.id)
      expect([failing?.lastSentAt, failing?.lastErrorAt, failing?.lastError?.length]).toEqual([7000, 8000, 500])
      expect((await store.listDestinations(site.id)).map((x) => x.id)).toEqual([d.id])
      expect((await store.listDestinations()).map((x) => x.id)).toContain(d.id)
      const lead = await leadWith(store, site, { click: { type: 'gclid', id: 'Cj0gclid1', ts: T - DAY } })
      await store.upsertDeals(site.id, [deal(`d-${rid(6)}`, lead, 'won', T + DAY, 900)])
      expect(await rowsOf(store, d.id)).toHaveLength(1)
      expect(await store.removeDestination(d.id)).toBe(true)
      expect(await store.removeDestination(d.id)).toBe(false)
      expect(await store.getDestination(d.id)).toBeNull()
      expect(await rowsOf(store, d.id)).toEqual([])
    })

    it('queues one row per (destination, lead, stage) with the deal write, first reach only, matched by click in its window', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const feed = destination(site, 'google-ads-feed', { sql: { name: 'Qualified lead', value: 100 }, won: { name: 'Closed deal', value: null } })
      await store.addDestination(feed)
      const lead = await leadWith(store, site, { click: { type: 'gclid', id: 'Cj0KCQ-abc_1', ts: T - 10 * DAY } })
      const id = `d-${rid(6)}`
      const results: DealWriteResult[] = await store.upsertDeals(site.id, [deal(id, lead, 'sql', T + DAY), deal(id, lead, 'opportunity', T + 2 * DAY)])
      expect(results.every((r) => r.changed)).toBe(true)
      // Rows are there as soon as the deal write resolved: the same transaction.
      const sent = await store.feedConversions(feed.id, 0, T + 3 * DAY)
      expect(sent).toEqual([expect.objectContaining({
        key: conversionKey(feed.id, lead, 'sql'), destinationId: feed.id, siteId: site.id, leadId: lead, stage: 'sql', conversionName: 'Qualified lead',
        value: 100, revenue: null, currency: 'USD', occurredAt: T + DAY, matchBy: 'click', click: { type: 'gclid', value: 'Cj0KCQ-abc_1', ts: T - 10 * DAY },
        status: 'pending', emailEnc: 'v1.cipher-of-email', phoneEnc: null,
      })])
      // Back to sql later, then won with the amount: sql is not queued again; won sends the deal amount.
      await store.upsertDeals(site.id, [deal(id, lead, 'lost', T + 3 * DAY), deal(id, lead, 'sql', T + 4 * DAY)])
      await store.upsertDeals(site.id, [deal(id, lead, 'won', T + 5 * DAY, 4200)])
      const all = await store.feedConversions(feed.id, 0, T + 6 * DAY)
      expect(all.map((r) => [r.stage, r.value, r.revenue, r.occurredAt, r.status])).toEqual([
        ['sql', 100, null, T + DAY, 'sent'], ['won', 4200, 4200, T + 5 * DAY, 'pending'],
      ])
      // Served once: marked sent; a later window leaves the older rows out.
      expect((await store.feedConversions(feed.id, T + 2 * DAY, T + 7 * DAY)).map((r) => [r.stage, r.status, r.sentAt])).toEqual([['won', 'sent', T + 6 * DAY]])
    })

    it('records why a lead cannot be sent: no consent, no click ID, outside the window', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const feed = destination(site, 'microsoft-ads-feed', { won: { name: 'Deal', value: null } })
      await store.addDestination(feed)
      const inWindow = await leadWith(store, site, { click: { type: 'msclkid', id: 'ms1', ts: T - 89 * DAY } })
      const late = await leadWith(store, site, { click: { type: 'msclkid', id: 'ms2', ts: T - 91 * DAY } })
      const google = await leadWith(store, site, { click: { type: 'gclid', id: 'g1', ts: T - DAY } })
      const noVisitor = await leadWith(store, site, { visitor: false })
      await store.upsertDeals(site.id, [
        deal(`a-${rid(4)}`, inWindow, 'won', T, 10), deal(`b-${rid(4)}`, late, 'won', T, 20),
        deal(`c-${rid(4)}`, google, 'won', T, 40), deal(`e-${rid(4)}`, noVisitor, 'won', T, 80),
      ])
      const counts = (await rowsOf(store, feed.id)).map((c) => [c.status, c.reason, c.rows, c.revenue]).sort((a, b) => Number(a[3]) - Number(b[3]))
      expect(counts).toEqual([['pending', null, 1, 10], ['unmatched', 'outside_window', 1, 20], ['unmatched', 'no_click_id', 1, 40], ['unmatched', 'no_consent', 1, 80]])
      // Unmatched rows are never handed out.
      expect((await store.feedConversions(feed.id, 0, T)).map((r) => r.leadId)).toEqual([inWindow])
    })

    it('queues a deal that waited for its person when identify links it', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const feed = destination(site, 'google-ads-feed', { won: { name: 'Won', value: null }, lead: { name: 'Lead', value: 1 } })
      await store.addDestination(feed)
      const email = `late-${rid(6)}@x.example`
      const [r] = await store.upsertDeals(site.id, [deal(`p-${rid(4)}`, null, 'won', T - DAY, 300, email)])
      expect(r.leadId).toBeNull()
      expect(await rowsOf(store, feed.id)).toEqual([])
      const visitorId = rid()
      const t = touch(T - 2 * DAY, 'google', 'cpc', { click_id: 'gcl-late', click_id_type: 'gclid' })
      await store.ingest([event(site.id, visitorId, t.ts, { touch: t })])
      const { leadId } = await store.identify({ siteId: site.id, visitorId, keys: [emailKey(email)], ts: T })
      const rows = await store.feedConversions(feed.id, 0, T)
      expect(rows.map((x) => [x.leadId, x.stage, x.value, x.occurredAt, x.click?.value])).toEqual([
        [leadId, 'won', 300, T - DAY, 'gcl-late'], [leadId, 'lead', 1, T, 'gcl-late'],
      ])
    })

    it('claims due API rows once until the claim expires, settles them, and counts by status', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const api = destination(site, 'meta', { won: { name: 'Purchase', value: null } }, { 'api-base': 'http://127.0.0.1:1', 'access-token': 'v1.secret' })
      const feed = destination(site, 'google-ads-feed', { won: { name: 'Won', value: null } })
      await store.addDestination(api)
      await store.addDestination(feed)
      const leads = [
        await leadWith(store, site, { click: { type: 'fbclid', id: 'fb1', ts: T - DAY } }),
        await leadWith(store, site, { click: { type: 'gclid', id: 'g2', ts: T - DAY } }), // identity match (e-mail) for the API, click for the feed
        await leadWith(store, site, {}),
      ]
      await store.upsertDeals(site.id, leads.map((l, i) => deal(`w${i}-${rid(4)}`, l, 'won', T, 100 * (i + 1))))
      const mine = async (now: number, until: number) => (await store.claimConversions(now, until, 1000)).filter((r) => r.destinationId === api.id || r.destinationId === feed.id)
      const claimed = await mine(Date.now(), Date.now() + 60_000)
      // Feed rows are pulled by the platform, never claimed.
      expect(claimed.map((r) => [r.destinationId, r.matchBy, r.revenue]).sort()).toEqual([[api.id, 'click', 100], [api.id, 'identity', 200], [api.id, 'identity', 300]])
      expect(claimed.every((r) => r.emailEnc === 'v1.cipher-of-email' && r.attempts === 0)).toBe(true)
      // Claimed: not handed out again until the claim runs out (a crashed worker's rows come back with the same keys).
      expect(await mine(Date.now(), Date.now() + 60_000)).toEqual([])
      const again = await mine(Date.now() + 61_000, Date.now() + 120_000)
      expect(again.map((r) => r.key).sort()).toEqual(claimed.map((r) => r.key).sort())
      const [a, b, c] = again.sort((x, y) => Number(x.revenue) - Number(y.revenue))
      await store.settleConversions([
        { key: a.key, outcome: { status: 'sent', at: 5000 } },
        { key: b.key, outcome: { status: 'retry', at: Date.now() + 300_000, reason: 'platform answered 429' } },
        { key: c.key, outcome: { status: 'failed', reason: 'invalid fbc' } },
      ])
      // A late settle of a row already final changes nothing.
      await store.settleConversions([{ key: c.key, outcome: { status: 'sent', at: 6000 } }])
      const counts = (await rowsOf(store, api.id)).map((x) => [x.status, x.reason, x.rows, x.revenue]).sort((p, q) => Number(p[3]) - Number(q[3]))
      expect(counts).toEqual([['sent', null, 1, 100], ['pending', 'platform answered 429', 1, 200], ['failed', 'invalid fbc', 1, 300]])
      expect(await mine(Date.now() + 200_000, Date.now() + 400_000)).toEqual([])
      const retried = await mine(Date.now() + 301_000, Date.now() + 400_000)
      expect(retried.map((r) => [r.key, r.attempts])).toEqual([[b.key, 1]])
      expect((await store.conversionCounts(site.id)).every((x) => x.destinationId === api.id || x.destinationId === feed.id)).toBe(true)
    })

    it("hands out the lead's newest captured Meta browser ID (fbp) with a claimed row", async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const api = destination(site, 'meta', { won: { name: 'Purchase', value: null } }, { 'api-base': 'http://127.0.0.1:1', 'access-token': 'v1.secret' })
      await store.addDestination(api)
      // One person on two browsers: the phone's touch is the newest with an fbp; a later touch without one does not clear it.
      const [laptop, phone] = [rid(), rid()]
      const fbpOld = 'fb.1.1780000000000.1111111111', fbpNew = 'fb.2.1780300000000.2222222222'
      const touches = [
        [laptop, touch(T - 5 * DAY, 'facebook', 'cpc', { click_id: 'IwAR-fb1', click_id_type: 'fbclid', fbp: fbpOld })],
        [phone, touch(T - 3 * DAY, 'facebook', 'cpc', { click_id: 'IwAR-fb2', click_id_type: 'fbclid', fbp: fbpNew })],
        [laptop, touch(T - 2 * DAY, 'google', 'cpc', { click_id: 'g-late', click_id_type: 'gclid', fbp: null })],
      ] as const
      await store.ingest(touches.map(([v, t]) => event(site.id, v, t.ts, { touch: t })))
      const email = `fbp-${rid(6)}@x.example`
      const { leadId } = await store.identify({ siteId: site.id, visitorId: laptop, keys: [emailKey(email)], ts: T })
      await store.identify({ siteId: site.id, visitorId: phone, keys: [emailKey(email)], ts: T })
      const other = await leadWith(store, site, { click: { type: 'fbclid', id: 'IwAR-none', ts: T - DAY } })
      await store.upsertDeals(site.id, [deal(`f1-${rid(4)}`, leadId, 'won', T, 10), deal(`f2-${rid(4)}`, other, 'won', T, 20)])
      const claimed = (await store.claimConversions(Date.now(), Date.now() + 60_000, 1000)).filter((r) => r.destinationId === api.id)
      expect(claimed.map((r) => [r.leadId, r.fbp]).sort()).toEqual([[leadId, fbpNew], [other, null]].sort())
      // The touch keeps it as stored (the person's data, for access requests).
      const held = await store.exportPerson(site.id, { emailHash: emailKey(email).hash })
      expect(held.touches.map((t) => t.fbp ?? null)).toEqual([fbpOld, fbpNew, null])
    })

    it('erasing a person deletes their conversion rows', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const api = destination(site, 'meta', { won: { name: 'Purchase', value: null } }, { 'api-base': 'http://127.0.0.1:1', 'access-token': 'v1.secret' })
      await store.addDestination(api)
      const email = `gone-${rid(6)}@x.example`
      const lead = await leadWith(store, site, { email })
      await store.upsertDeals(site.id, [deal(`g-${rid(4)}`, lead, 'won', T, 50)])
      expect((await rowsOf(store, api.id)).map((x) => x.rows)).toEqual([1])
      await store.erase(site.id, { emailHash: emailKey(email).hash }, [])
      expect(await rowsOf(store, api.id)).toEqual([])
    })
  })
}
