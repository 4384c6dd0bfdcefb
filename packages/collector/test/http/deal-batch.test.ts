// The shared deal and spend batch pipelines: the API and the CSV import refuse the same erased
// people, and items keep their numbers when a batch is written in several store transactions.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeDealBatch } from '../../src/outcomes/deal-batch.js'
import { importDealsCsv } from '../../src/outcomes/csv-import.js'
import { writeSpendBatch } from '../../src/outcomes/spend-batch.js'
import { secret, startTestServer, visitorId, type TestServer } from './helpers.js'
import { identify, importEvents, T0, touchEvent } from './outcome-helpers.js'

let server: TestServer
beforeAll(async () => { server = await startTestServer() })
afterAll(async () => { await server.close() })

describe('deal batch pipeline', () => {
  it('refuses deals of an erased person on the API and in the CSV import alike', async () => {
    const vid = visitorId()
    await importEvents(server, [touchEvent(vid, T0, { source: 'google', medium: 'cpc', campaign: 'brand' })])
    await identify(server, { visitorId: vid, email: 'gone@example.com', externalId: 'crm-gone', ts: T0 + 1 })
    expect((await secret(server, '/v1/privacy/erase', { email: 'gone@example.com' })).status).toBe(200)

    const single = await secret(server, '/v1/deals', { dealId: 'E-1', email: 'GONE@example.com', stage: 'won' })
    expect([single.status, single.body.error?.code]).toEqual([409, 'CL_ERR_SUPPRESSED'])
    const batch = await secret(server, '/v1/deals', { deals: [
      { dealId: 'E-2', externalId: 'crm-gone', stage: 'won' },
      { dealId: 'E-3', email: 'kept@example.com', stage: 'won' },
    ] })
    expect(batch.body.accepted).toBe(1)
    expect(batch.body.rejected).toEqual([{ index: 0, code: 'CL_ERR_SUPPRESSED', message: expect.stringContaining('erased') }])

    const csv = 'dealId,email,stage\nE-4,gone@example.com,won\nE-5,kept@example.com,lost\n'
    const imported = await importDealsCsv(server.store, server.site, csv, server.app.closeloop.pii)
    expect(imported.accepted).toBe(1)
    expect(imported.errors.map((e) => [e.line, e.code])).toEqual([[2, 'CL_ERR_SUPPRESSED']])
  })

  it('numbers results and rejections by item across store transactions', async () => {
    const vid = visitorId()
    await importEvents(server, [touchEvent(vid, T0, { source: 'bing', medium: 'cpc', campaign: 'x' })])
    const leadId = await identify(server, { visitorId: vid, email: 'chunks@example.com', ts: T0 + 1 })
    const items = [
      { at: 10, raw: { dealId: 'C-1', leadId, stage: 'sql' } },
      { at: 11, raw: { dealId: 'C-2', leadId: 'not-a-lead-of-this-site', stage: 'sql' } },
      { at: 12, raw: { dealId: 'C-3', stage: 'sql' } },
      { at: 13, raw: { dealId: 'C-4', email: 'chunks@example.com', stage: 'won', amount: 5 } },
      { at: 14, raw: { dealId: 'C-5', leadId: 'also-unknown', stage: 'won' } },
    ]
    const r = await writeDealBatch(server.store, server.site, items, { pii: server.app.closeloop.pii, now: T0 + 2, chunk: 2 })
    expect(r.written.map((w) => [w.at, w.result.dealId, w.result.leadId])).toEqual([[10, 'C-1', leadId], [13, 'C-4', leadId]])
    expect(r.rejected.map((x) => [x.at, x.error.code])).toEqual([
      [11, 'CL_ERR_LEAD_NOT_FOUND'], [12, 'CL_ERR_DEAL_NO_PERSON'], [14, 'CL_ERR_LEAD_NOT_FOUND'],
    ])
    expect((await server.store.getDeals(server.site.id, leadId)).map((d) => d.dealId).sort()).toEqual(['C-1', 'C-4'])
  })
})

describe('spend batch pipeline', () => {
  it('sums inserted and updated rows over store transactions', async () => {
    const row = (campaign: string, amount: number) => ({ date: '2026-03-01', source: 'chunked', campaign, amount })
    const first = await writeSpendBatch(server.store, server.site, [
      { at: 1, raw: row('a', 1) }, { at: 2, raw: row('b', 2) }, { at: 3, raw: { date: 'no' } }, { at: 4, raw: row('c', 3) },
    ], { chunk: 2 })
    expect(first).toMatchObject({ accepted: 3, inserted: 3, updated: 0 })
    expect(first.rejected.map((x) => [x.at, x.error.code])).toEqual([[3, 'CL_ERR_VALIDATION']])
    const again = await writeSpendBatch(server.store, server.site, [{ at: 1, raw: row('a', 4) }, { at: 2, raw: row('d', 5) }, { at: 3, raw: row('c', 6) }], { chunk: 1 })
    expect(again).toMatchObject({ accepted: 3, inserted: 1, updated: 2, rejected: [] })
  })
})
