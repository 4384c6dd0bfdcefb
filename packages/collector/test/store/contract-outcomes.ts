// Contract cases of the closing-the-loop storage (deals, spend, rates, report load), called from
// storeContract so every implementation runs them.

import { describe, expect, it } from 'vitest'
import { keyColumn } from '../../src/attribution/keys.js'
import { compileJourneys, type TouchTable } from '../../src/attribution/table.js'
import { buildReport, journeyTable } from '../../src/attribution/index.js'
import type { DealWrite, ReportLoadOptions } from '../../src/outcomes/types.js'
import type { Store } from '../../src/store/types.js'
import { companyAccount, domainAccount } from '../../src/store/accounts.js'
import { emailKey, event, externalKey, makeSite, rid, touch } from './fixtures.js'

const DAY = 86_400_000
const T = Date.UTC(2026, 0, 1)

function deal(dealId: string, stage: DealWrite['stage'], ts: number, extra: Partial<DealWrite> = {}): DealWrite {
  return { dealId, match: { leadId: null, keys: [emailKey(`${dealId}@x.example`)] }, stage, crmStage: stage.toUpperCase(), amount: 100, originalAmount: 100, originalCurrency: null, ts, ...extra }
}

/** A table as sorted plain data: journeys (outcome + touches in order) in a canonical order. */
export function tableContent(table: TouchTable, extra: ReportLoadOptions['extra'] = null): string[] {
  const col = (d: string) => table.cache.get(d) as { ids: Int32Array; keys: string[] }
  const [ch, so, me, ca] = ['channel', 'source', 'medium', 'campaign'].map(col)
  const ex = extra ? keyColumn(table, extra) : null
  const out: string[] = []
  for (let j = 0; j < table.journeys.length; j++) {
    const touches: unknown[] = []
    for (let i = table.offsets[j]; i < table.offsets[j + 1]; i++) {
      touches.push([table.ts[i], ch.keys[ch.ids[i]], so.keys[so.ids[i]], me.keys[me.ids[i]], ca.keys[ca.ids[i]], table.direct[i], ...(ex ? [ex.keys[ex.ids[i]]] : [])])
    }
    const jr = table.journeys[j]
    const deals = [...(jr.deals ?? [])].map((d) => ({ ...d, stages: [...d.stages].sort((a, b) => a.ts - b.ts) })).sort((a, b) => (a.dealId < b.dealId ? -1 : 1))
    out.push(JSON.stringify({ identifiedAt: jr.identifiedAt ?? null, deals, touches }))
  }
  return out.sort()
}

/** loadReportTable holds exactly what loadReportData's journeys compile to. */
export async function expectSameReportInput(store: Store, siteId: string, opts: ReportLoadOptions): Promise<string[]> {
  const table = await store.loadReportTable(siteId, opts)
  const data = await store.loadReportData(siteId, opts)
  const expected = tableContent(compileJourneys(data.journeys), opts.extra)
  expect(tableContent(table.table, opts.extra)).toEqual(expected)
  expect(table.spend).toEqual(data.spend)
  // Keys without a touch in range are not keys of the table (spend matching falls back for them).
  for (const d of ['channel', 'source', 'medium', 'campaign']) {
    const c = table.table.cache.get(d)!
    expect(new Set(c.ids).size).toBe(c.keys.length)
  }
  return expected
}

export function outcomesContract(getStore: () => Store): void {
  describe('deals', () => {
    it('upserts by dealId, keeps each change as history, ignores repeats, orders by time', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const vid = rid()
      const lead = await store.identify({ siteId: site.id, visitorId: vid, keys: [emailKey('d1@x.example')], ts: T })
      const r1 = await store.upsertDeals(site.id, [deal('d1', 'sql', T + DAY), deal('d1', 'won', T + 5 * DAY, { amount: 250, originalAmount: 200, originalCurrency: 'EUR' })])
      expect(r1.map((r) => [r.leadId, r.stage, r.changed])).toEqual([[lead.leadId, 'sql', true], [lead.leadId, 'won', true]])
      const r2 = await store.upsertDeals(site.id, [deal('d1', 'won', T + 6 * DAY, { amount: 250, originalAmount: 200, originalCurrency: 'EUR' }), deal('d1', 'mql', T)])
      expect(r2.map((r) => [r.stage, r.changed])).toEqual([['won', false], ['won', true]])
      const [d] = await store.getDeals(site.id, lead.leadId)
      expect(d).toMatchObject({ dealId: 'd1', stage: 'won', amount: 250, originalAmount: 200, originalCurrency: 'EUR' })
      expect(d.history.map((h) => [h.stage, h.crmStage, h.ts, h.amount])).toEqual([
        ['mql', 'MQL', T, 100], ['sql', 'SQL', T + DAY, 100], ['won', 'WON', T + 5 * DAY, 250],
      ])
    })

    it('keeps deals of unknown people and links them by email or external key', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const byExternal = deal('p2', 'won', T, { match: { leadId: null, keys: [externalKey('crm-9')] } })
      const r = await store.upsertDeals(site.id, [deal('p1', 'opportunity', T), byExternal])
      expect(r.map((x) => x.leadId)).toEqual([null, null])
      // identify links pending deals itself (same transaction).
      const a = await store.identify({ siteId: site.id, visitorId: rid(), keys: [emailKey('p1@x.example')], ts: T + DAY })
      expect((await store.getDeals(site.id, a.leadId)).map((x) => x.dealId)).toEqual(['p1'])
      const b = await store.identify({ siteId: site.id, visitorId: rid(), keys: [externalKey('crm-9')], ts: T + DAY })
      expect((await store.getDeals(site.id, b.leadId)).map((x) => x.dealId)).toEqual(['p2'])
      expect(await store.linkPendingDeals(site.id, b.leadId, [externalKey('crm-9')])).toBe(0)
    })

    it('erasure removes the person\'s deals, linked or pending by their key, with their history, and no one else\'s', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const a = await store.identify({ siteId: site.id, visitorId: rid(), keys: [emailKey('gone@x.example')], ts: T })
      await store.upsertDeals(site.id, [
        deal('linked', 'sql', T + DAY, { match: { leadId: a.leadId, keys: [] } }),
        deal('linked', 'won', T + 2 * DAY, { match: { leadId: a.leadId, keys: [] } }),
        // Sent by the CRM for the person's external ID before any identify linked it.
        deal('pending', 'opportunity', T + DAY, { match: { leadId: null, keys: [externalKey('crm-gone')] } }),
        deal('bystander', 'won', T + DAY),
      ])
      const erased = await store.erase(site.id, { emailHash: emailKey('gone@x.example').hash, externalIdHash: externalKey('crm-gone').hash }, ['supp-gone'])
      expect(erased).toMatchObject({ leads: 1, deals: 2 })
      const report = await store.loadReportData(site.id, { touchesFrom: null, touchesTo: null })
      expect(report.journeys.flatMap((j) => (j.deals ?? []).map((d) => d.dealId))).not.toContain('linked')
      // Upserting an erased deal again starts a new history: nothing of the old one is left.
      await store.upsertDeals(site.id, [deal('linked', 'lead', T + 3 * DAY, { match: { leadId: null, keys: [emailKey('new@x.example')] } })])
      const b = await store.identify({ siteId: site.id, visitorId: rid(), keys: [emailKey('new@x.example')], ts: T + 4 * DAY })
      expect((await store.getDeals(site.id, b.leadId)).map((d) => d.history.map((h) => h.stage))).toEqual([['lead']])
      const other = await store.identify({ siteId: site.id, visitorId: rid(), keys: [emailKey('bystander@x.example')], ts: T })
      expect((await store.getDeals(site.id, other.leadId)).map((d) => [d.dealId, d.history.length])).toEqual([['bystander', 1]])
    })

    it('reports an unknown leadId without storing anything', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const [r] = await store.upsertDeals(site.id, [deal('u1', 'won', T, { match: { leadId: 'no-such-lead', keys: [] } })])
      expect(r.unknownLead).toBe(true)
      expect((await store.loadReportData(site.id, { touchesFrom: null, touchesTo: null })).journeys).toEqual([])
    })
  })

  describe('spend and rates', () => {
    it('upserts spend by (date, source, medium, campaign) and rates by (currency, date)', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const row = { date: '2026-01-02', source: 'google', medium: 'cpc', campaign: 'a', amount: 10, originalAmount: 10, originalCurrency: null }
      expect(await store.upsertSpend(site.id, [row, { ...row, campaign: '' }])).toEqual({ inserted: 2, updated: 0 })
      expect(await store.upsertSpend(site.id, [{ ...row, amount: 12 }])).toEqual({ inserted: 0, updated: 1 })
      await store.upsertRates(site.id, [{ currency: 'EUR', date: null, rate: 1.1 }, { currency: 'EUR', date: '2026-01-01', rate: 1.2 }])
      await store.upsertRates(site.id, [{ currency: 'EUR', date: null, rate: 1.15 }])
      expect(await store.listRates(site.id)).toEqual([{ currency: 'EUR', date: null, rate: 1.15 }, { currency: 'EUR', date: '2026-01-01', rate: 1.2 }])
      const { spend } = await store.loadReportData(site.id, { touchesFrom: null, touchesTo: null })
      expect(spend.map((s) => [s.campaign, s.amount]).sort((x, y) => Number(x[1]) - Number(y[1]))).toEqual([[null, 10], ['a', 12]])
    })
  })

  describe('quality stats', () => {
    it('counts paid touches in the range, groups the untagged ones, and counts rejections by code', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const paid = (ts: number, extra: Parameters<typeof touch>[3] = {}) => event(site.id, rid(), ts, { touch: touch(ts, 'google', 'cpc', extra) })
      await store.ingest([
        paid(T),
        paid(T + 1, { campaign: null, click_id_type: 'gclid' }),
        paid(T + 2, { campaign: '(not set)', click_id_type: 'gclid' }),
        paid(T + 3, { campaign: ' ' }),
        event(site.id, rid(), T + 4, { touch: touch(T + 4, 'blog', 'referral', { campaign: null }) }),
        paid(T + 10 * DAY, { campaign: null }),
      ])
      await store.recordRejected([
        { siteId: site.id, receivedAt: T, code: 'CL_ERR_INVALID_EVENT', payload: '{}' },
        { siteId: site.id, receivedAt: T + 1, code: 'CL_ERR_INVALID_EVENT', payload: '{}' },
        { siteId: site.id, receivedAt: T + 2, code: 'CL_ERR_EVENT_TOO_LARGE', payload: '{}' },
        { siteId: site.id, receivedAt: T + 10 * DAY, code: 'CL_ERR_INVALID_EVENT', payload: '{}' },
      ])
      const q = await store.qualityStats(site.id, T, T + DAY)
      expect(q).toEqual({
        paidTouches: 4,
        completePaid: 1,
        untaggedPaid: [
          { source: 'google', medium: 'cpc', clickIdType: 'gclid', touches: 2 },
          { source: 'google', medium: 'cpc', clickIdType: null, touches: 1 },
        ],
        rejected: [{ code: 'CL_ERR_INVALID_EVENT', count: 2 }, { code: 'CL_ERR_EVENT_TOO_LARGE', count: 1 }],
        dropped: { bot: 0, origin: 0, suppressed: 0 },
      })
      const all = await store.qualityStats(site.id, null, null)
      expect([all.paidTouches, all.completePaid, all.rejected[0]]).toEqual([5, 1, { code: 'CL_ERR_INVALID_EVENT', count: 3 }])
      const other = await makeSite(store)
      expect(await store.qualityStats(other.site.id, null, null)).toEqual({ paidTouches: 0, completePaid: 0, untaggedPaid: [], rejected: [], dropped: { bot: 0, origin: 0, suppressed: 0 } })
    })

    it('adds dropped-event counts per site, UTC day and reason, and sums them over a range', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const other = await makeSite(store)
      const day = Date.UTC(2026, 2, 10)
      await store.countDropped([
        { siteId: site.id, reason: 'bot', receivedAt: day + 1000, count: 2 },
        { siteId: site.id, reason: 'bot', receivedAt: day + 20 * 3_600_000, count: 3 },
        { siteId: site.id, reason: 'origin', receivedAt: day + 5, count: 1 },
        { siteId: other.site.id, reason: 'bot', receivedAt: day, count: 7 },
      ])
      await store.countDropped([{ siteId: site.id, reason: 'suppressed', receivedAt: day + 2 * DAY, count: 4 }])
      expect((await store.qualityStats(site.id, null, null)).dropped).toEqual({ bot: 5, origin: 1, suppressed: 4 })
      // A range that starts inside a day counts that day; one that ends before it does not.
      expect((await store.qualityStats(site.id, day + 12 * 3_600_000, day + DAY)).dropped).toEqual({ bot: 5, origin: 1, suppressed: 0 })
      expect((await store.qualityStats(site.id, day + DAY, null)).dropped).toEqual({ bot: 0, origin: 0, suppressed: 4 })
      expect((await store.qualityStats(site.id, null, day - 1)).dropped).toEqual({ bot: 0, origin: 0, suppressed: 0 })
      expect((await store.qualityStats(other.site.id, null, null)).dropped).toEqual({ bot: 7, origin: 0, suppressed: 0 })
    })
  })

  describe('deals with several people', () => {
    it('links known people, keeps unknown ones pending until identify, and loads the same deal journey both ways', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const [va, vb, vc] = [rid(), rid(), rid()]
      await store.ingest([
        event(site.id, va, T, { touch: touch(T, 'linkedin', 'paid_social') }),
        event(site.id, vb, T + 3 * DAY, { touch: touch(T + 3 * DAY, 'google', 'cpc') }),
        event(site.id, vc, T + 6 * DAY, { touch: touch(T + 6 * DAY, 'newsletter', 'email') }),
      ])
      const a = await store.identify({ siteId: site.id, visitorId: va, keys: [emailKey('champ@acme.example')], ts: T + DAY })
      const b = await store.identify({ siteId: site.id, visitorId: vb, keys: [emailKey('cfo@acme.example')], ts: T + 4 * DAY })
      const three: DealWrite = deal('b2b', 'won', T + 10 * DAY, {
        match: { leadId: a.leadId, keys: [] }, amount: 9000,
        contacts: [{ leadId: null, keys: [emailKey('cfo@acme.example')] }, { leadId: null, keys: [emailKey('it@acme.example')] }],
      })
      const [, r] = await store.upsertDeals(site.id, [{ ...three, stage: 'opportunity', crmStage: 'OPP', ts: T + 5 * DAY }, three])
      expect(r).toMatchObject({ leadId: a.leadId, pending: [2] })
      const other = await makeSite(store)
      const [bad] = await store.upsertDeals(other.site.id, [{ ...three, dealId: 'x' }])
      expect(bad.unknownLead).toBe(true)

      const opts = { touchesFrom: null, touchesTo: null }
      await store.loadReportTable(site.id, opts).then((t) => t.release?.())
      let data = await store.loadReportData(site.id, opts)
      expect(data.journeys.find((j) => j.id === a.leadId)?.deals?.[0].leads).toEqual([a.leadId, b.leadId])
      await expectSameReportInput(store, site.id, opts)

      // The pending person identifies: the deal now names all three (the report cache refreshed it).
      const c = await store.identify({ siteId: site.id, visitorId: vc, keys: [emailKey('it@acme.example')], ts: T + 7 * DAY })
      data = await store.loadReportData(site.id, opts)
      expect(data.journeys.find((j) => j.id === a.leadId)?.deals?.[0].leads).toEqual([a.leadId, b.leadId, c.leadId])
      await expectSameReportInput(store, site.id, opts)
      const table = await store.loadReportTable(site.id, opts)
      const viaTable = buildReport({ journeys: journeyTable(table.table, 'deal'), model: 'w_shaped', by: 'source' })
      table.release?.()
      const viaData = buildReport({ journeys: journeyTable(data.journeys, 'deal'), model: 'w_shaped', by: 'source' })
      expect(viaTable).toEqual(viaData)
      const revenue = Object.fromEntries(viaTable.rows.map((x) => [x.key, Math.round(x.revenue)]))
      expect(revenue).toEqual({ linkedin: 5400, google: 2700, newsletter: 900 })
    })
  })

  describe('accounts', () => {
    it('places a lead by its e-mail domain, none for free mail; a company wins and moves the lead alone', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const [va, vc] = [rid(), rid()]
      await store.ingest([
        event(site.id, va, T, { touch: touch(T, 'linkedin', 'paid_social') }),
        event(site.id, vc, T + DAY, { touch: touch(T + DAY, 'google', 'cpc') }),
      ])
      const acmeDomain = domainAccount(site.id, 'acme.example').id
      const a = await store.identify({ siteId: site.id, visitorId: va, keys: [emailKey('champ@acme.example')], accountDomain: 'acme.example', ts: T + DAY, journey: true })
      if (a.journey) expect(a.journey.lead.accountId).toBe(acmeDomain)
      const free = await store.identify({ siteId: site.id, keys: [emailKey('someone@gmail.com')], accountDomain: null, ts: T })
      const c = await store.identify({ siteId: site.id, visitorId: vc, keys: [emailKey('cfo@acme.example')], accountDomain: 'acme.example', ts: T + 2 * DAY })
      expect((await store.getLead(site.id, free.leadId))?.lead.accountId).toBeNull()
      expect((await store.getLead(site.id, c.leadId))?.lead.accountId).toBe(acmeDomain)
      expect(await store.getAccount(site.id, acmeDomain)).toMatchObject({
        account: { id: acmeDomain, source: 'domain', domain: 'acme.example', name: null }, leadIds: [a.leadId, c.leadId], deals: [],
      })

      // The CRM company wins over the domain; the lead moves alone, its colleague stays.
      const acme = companyAccount(site.id, 'Acme Inc').id
      await store.identify({ siteId: site.id, keys: [emailKey('champ@acme.example')], company: 'Acme Inc', accountDomain: 'acme.example', ts: T + 3 * DAY })
      expect(await store.getAccount(site.id, acme)).toMatchObject({ account: { source: 'crm', name: 'Acme Inc', domain: null }, leadIds: [a.leadId] })
      expect((await store.getAccount(site.id, acmeDomain))?.leadIds).toEqual([c.leadId])
      // The domain alone does not take a lead out of its CRM company; the same company in other case and spacing is the same account.
      await store.identify({ siteId: site.id, keys: [emailKey('champ@acme.example')], accountDomain: 'acme.example', ts: T + 4 * DAY })
      await store.identify({ siteId: site.id, keys: [emailKey('champ@acme.example')], company: '  ACME   inc ', ts: T + 4 * DAY })
      expect((await store.getLead(site.id, a.leadId))?.lead.accountId).toBe(acme)

      // Reports see the account at once (SQLite: the report cache refreshed the lead): one account journey of both.
      const opts = { touchesFrom: null, touchesTo: null }
      await store.loadReportTable(site.id, opts).then((t) => t.release?.())
      await store.identify({ siteId: site.id, keys: [emailKey('cfo@acme.example')], company: 'acme inc', ts: T + 5 * DAY })
      const data = await store.loadReportData(site.id, opts)
      expect(data.journeys.filter((j) => j.account === acme).map((j) => j.id).sort()).toEqual([a.leadId, c.leadId].sort())
      const table = await store.loadReportTable(site.id, opts)
      const deal3 = deal('acme-1', 'won', T + 9 * DAY, { match: { leadId: c.leadId, keys: [] }, amount: 1000 })
      expect(table.table.journeys.filter((j) => j.account === acme)).toHaveLength(2)
      table.release?.()
      await store.upsertDeals(site.id, [deal3])
      const viaTable = await store.loadReportTable(site.id, opts)
      const fromTable = buildReport({ journeys: journeyTable(viaTable.table, 'account'), model: 'linear', by: 'source' })
      viaTable.release?.()
      const fromData = buildReport({ journeys: journeyTable((await store.loadReportData(site.id, opts)).journeys, 'account'), model: 'linear', by: 'source' })
      expect(fromTable).toEqual(fromData)
      expect(Object.fromEntries(fromTable.rows.filter((x) => x.revenue > 0).map((x) => [x.key, x.revenue]))).toEqual({ linkedin: 500, google: 500 })

      // Another company moves the lead alone; the former account and everything stored stay.
      const beta = companyAccount(site.id, 'Beta GmbH').id
      await store.identify({ siteId: site.id, keys: [emailKey('champ@acme.example')], company: 'Beta GmbH', ts: T + 6 * DAY })
      expect((await store.getAccount(site.id, beta))?.leadIds).toEqual([a.leadId])
      expect(await store.getAccount(site.id, acme)).toMatchObject({ leadIds: [c.leadId], deals: [{ dealId: 'acme-1', leadIds: [c.leadId] }] })
      expect(await store.getAccount(site.id, 'acc_none')).toBeNull()
      const other = await makeSite(store)
      expect(await store.getAccount(other.site.id, beta)).toBeNull()
    })

    it("a deal's company places its known people; one in another CRM company refuses the deal (nothing stored)", async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const a = await store.identify({ siteId: site.id, keys: [emailKey('a@acme.example')], company: 'Acme', ts: T })
      const d = await store.identify({ siteId: site.id, keys: [emailKey('d@gmail.com')], ts: T })
      const acme = companyAccount(site.id, 'Acme').id
      const both: DealWrite = deal('big', 'won', T + DAY, {
        match: { leadId: a.leadId, keys: [] }, company: 'ACME',
        contacts: [{ leadId: d.leadId, keys: [] }, { leadId: null, keys: [emailKey('later@acme.example')] }],
      })
      const [ok] = await store.upsertDeals(site.id, [both])
      expect(ok).toMatchObject({ leadId: a.leadId, pending: [2] })
      expect(ok.accountConflict).toBeUndefined()
      // a and d were created in the same millisecond or not: their order among equals is the ID's.
      const account = await store.getAccount(site.id, acme)
      expect([...(account?.leadIds ?? [])].sort()).toEqual([a.leadId, d.leadId].sort())
      expect(account).toMatchObject({ deals: [{ dealId: 'big', leadIds: [a.leadId, d.leadId], stage: 'won' }] })

      const [refused] = await store.upsertDeals(site.id, [deal('beta-deal', 'sql', T + 2 * DAY, { match: { leadId: d.leadId, keys: [] }, company: 'Beta' })])
      expect(refused.accountConflict).toBe(d.leadId)
      expect((await store.getDeals(site.id, d.leadId)).map((x) => x.dealId)).toEqual([])
      expect((await store.getLead(site.id, d.leadId))?.lead.accountId).toBe(acme)
      expect(await store.getAccount(site.id, companyAccount(site.id, 'Beta').id)).toBeNull()
      expect((await store.getAccount(site.id, acme))?.deals.map((x) => x.dealId)).toEqual(['big'])
    })
  })

  describe('report load', () => {
    it('builds every journey in a few scans: leads across devices, anonymous visitors, deals, windows', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const [v1, v2, anon] = [rid(), rid(), rid()]
      await store.ingest([
        event(site.id, v1, T, { touch: touch(T, 'google', 'cpc', { landing: 'https://x.example/p?gclid=1' }) }),
        event(site.id, v2, T + 2 * DAY, { touch: touch(T + 2 * DAY, 'bing', 'cpc') }),
        event(site.id, anon, T + DAY, { touch: touch(T + DAY, 'ref.example', 'referral') }),
        event(site.id, anon, T + 40 * DAY, { touch: touch(T + 40 * DAY, 'ref.example', 'referral') }),
      ])
      const lead = await store.identify({ siteId: site.id, visitorId: v1, keys: [emailKey('j@x.example')], ts: T + 3 * DAY })
      await store.identify({ siteId: site.id, visitorId: v2, keys: [emailKey('j@x.example')], ts: T + 4 * DAY })
      await store.upsertDeals(site.id, [deal('j', 'won', T + 9 * DAY, { match: { leadId: lead.leadId, keys: [] }, amount: 500 })])

      const all = await store.loadReportData(site.id, { touchesFrom: null, touchesTo: null, extra: 'landing' })
      const byId = Object.fromEntries(all.journeys.map((j) => [j.id, j]))
      const j = byId[lead.leadId]
      expect(j.identifiedAt).toBe(T + 3 * DAY)
      expect([...j.touches].sort((a, b) => a.ts - b.ts).map((t) => [t.source, t.landing ?? null])).toEqual([['google', 'https://x.example/p'], ['bing', null]])
      expect(j.deals).toEqual([{ dealId: 'j', amount: 500, stages: [{ stage: 'won', ts: T + 9 * DAY }] }])
      const anonymous = all.journeys.filter((x) => x.id !== lead.leadId)
      expect(anonymous).toHaveLength(1)
      expect(anonymous[0].identifiedAt ?? null).toBeNull()
      expect(anonymous[0].touches).toHaveLength(2)

      const window = await store.loadReportData(site.id, { touchesFrom: T + DAY, touchesTo: T + 10 * DAY })
      const touches = window.journeys.flatMap((x) => x.touches.map((t) => t.ts)).sort((a, b) => a - b)
      expect(touches).toEqual([T + DAY, T + 2 * DAY])
    })
  })

  describe('report table', () => {
    it('equals the compiled journeys through ingests, retries, identifies, shared devices, deals and erasure', async () => {
      const store = getStore()
      const { site } = await makeSite(store)
      const other = (await makeSite(store)).site
      const all: ReportLoadOptions = { touchesFrom: null, touchesTo: null }
      const windowed: ReportLoadOptions = { touchesFrom: T + 2 * DAY, touchesTo: T + 20 * DAY }
      const check = async () => {
        await expectSameReportInput(store, site.id, all)
        await expectSameReportInput(store, site.id, windowed)
        // By content, term and landing too; 'term' first and last, so touches written since the
        // previous check reach a table that already held that column.
        for (const extra of ['term', 'content', 'landing', 'term'] as const) {
          await expectSameReportInput(store, site.id, { ...all, extra })
          await expectSameReportInput(store, site.id, { ...windowed, extra })
        }
      }
      const [v1, v2, v3, anon] = [rid(), rid(), rid(), rid()]
      const retry = event(site.id, v1, T + 5 * DAY, { touch: touch(T + 5 * DAY, 'bing', 'cpc', { campaign: undefined }) })
      await store.ingest([
        event(site.id, v1, T + DAY, { touch: touch(T + DAY, 'google', 'cpc', { term: 'crm software', content: 'ad-a', landing: 'https://example.com/pricing?utm_source=google' }) }),
        retry,
        event(site.id, anon, T + 3 * DAY, { touch: touch(T + 3 * DAY, '(direct)', '(none)', { campaign: undefined }) }),
        event(site.id, anon, T + 4 * DAY),
        event(other.id, anon, T + 3 * DAY, { touch: touch(T + 3 * DAY, 'other.example', 'referral') }),
      ])
      expect(await expectSameReportInput(store, site.id, all)).toHaveLength(2)
      await check()
      // Appended after a report: an earlier touch of a known visitor, a retry, new visitors.
      await store.ingest([
        event(site.id, v1, T, { touch: touch(T, 'newsletter', 'email', { campaign: 'jan' }) }),
        retry,
        event(site.id, v2, T + 6 * DAY, { touch: touch(T + 6 * DAY, '(direct)', '', { campaign: undefined, channel: 'Direct', landing: 'https://example.com/pricing' }) }),
        event(site.id, v3, T + 7 * DAY, { touch: touch(T + 7 * DAY, 'ref.example', 'referral') }),
      ])
      expect(await expectSameReportInput(store, site.id, all)).toHaveLength(4)
      await check()
      // v1 and v2 are one person; v3 is a device shared by two people.
      const lead = await store.identify({ siteId: site.id, visitorId: v1, keys: [emailKey('rt@x.example')], ts: T + 8 * DAY })
      await store.identify({ siteId: site.id, visitorId: v2, keys: [emailKey('rt@x.example')], ts: T + 9 * DAY })
      await check()
      await store.identify({ siteId: site.id, visitorId: v3, keys: [emailKey('rt@x.example')], ts: T + 9 * DAY })
      await store.identify({ siteId: site.id, visitorId: v3, keys: [emailKey('rt2@x.example')], ts: T + 10 * DAY })
      await store.ingest([event(site.id, v3, T + 11 * DAY, { touch: touch(T + 11 * DAY, 'google', 'cpc', { campaign: 'shared', term: 'crm software', content: '', landing: 'https://example.com/demo#form' }) })])
      const journeys = await expectSameReportInput(store, site.id, all)
      expect(journeys.filter((j) => j.includes('"shared"'))).toHaveLength(2)
      await check()
      await store.upsertDeals(site.id, [
        deal('rt-won', 'won', T + 12 * DAY, { match: { leadId: lead.leadId, keys: [] }, amount: 900 }),
        deal('rt-pending', 'opportunity', T + 12 * DAY, { match: { leadId: null, keys: [emailKey('later@x.example')] } }),
      ])
      await check()
      await store.identify({ siteId: site.id, visitorId: anon, keys: [emailKey('later@x.example')], ts: T + 13 * DAY })
      expect((await expectSameReportInput(store, site.id, all)).filter((j) => j.includes('rt-pending'))).toHaveLength(1)
      await check()
      await store.erase(site.id, { emailHash: emailKey('rt2@x.example').hash }, [])
      await check()
      await store.ingest([event(site.id, v1, T + 14 * DAY, { touch: touch(T + 14 * DAY, 'google', 'cpc', { campaign: 'after', term: 'closeloop' }) })])
      await check()
      // The other site kept its own touch all along.
      expect(await expectSameReportInput(store, other.id, all)).toHaveLength(1)
    })
  })
}
