import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importDealsCsv, importSpendCsv } from '../../src/outcomes/csv-import.js'
import type { TestServer } from './helpers.js'
import { startTestServer } from './helpers.js'
import { identify, importEvents, T0, touchEvent } from './outcome-helpers.js'
import { visitorId } from './helpers.js'

let server: TestServer
beforeAll(async () => { server = await startTestServer() })
afterAll(async () => { await server.close() })

describe('spend CSV import', () => {
  it('keeps good rows and reports bad ones by line, with codes', async () => {
    const csv = [
      '\uFEFFDate,Source,Medium,Campaign,Cost,Currency',
      '2026-01-01,google,cpc,"brand, exact",100.50,',
      '2026-01-02,google,cpc,brand,abc,',
      '2026-02-30,google,cpc,brand,5,',
      '',
      '2026-01-03,facebook,paid_social,"retarget ""q1""",40,USD',
      '2026-01-04,facebook,paid_social,eu,40,EUR',
    ].join('\r\n')
    const result = await importSpendCsv(server.store, server.site, csv)
    expect(result.rows).toBe(5)
    expect(result.accepted).toBe(2)
    expect(result.errors.map((e) => [e.line, e.code])).toEqual([[3, 'CL_ERR_VALIDATION'], [4, 'CL_ERR_BAD_DATE'], [7, 'CL_ERR_NO_FX_RATE']])
    expect(result.errors[0].message).toMatch(/amount/)
    const data = await server.store.loadReportData(server.site.id, { touchesFrom: null, touchesTo: null })
    expect(data.spend.map((r) => [r.date, r.campaign, r.amount]).sort()).toEqual([['2026-01-01', 'brand, exact', 100.5], ['2026-01-03', 'retarget "q1"', 40]])
  })

  it('refuses a file without the required columns or with a broken quote', async () => {
    await expect(importSpendCsv(server.store, server.site, 'day,source\n2026-01-01,google\n')).rejects.toMatchObject({ code: 'CL_ERR_BAD_CSV', message: expect.stringContaining('amount') })
    await expect(importSpendCsv(server.store, server.site, 'date,source,amount\n2026-01-01,"google,5\n')).rejects.toMatchObject({ code: 'CL_ERR_BAD_CSV', message: expect.stringContaining('line 2') })
  })
})

describe('deals CSV import', () => {
  it('upserts deals row by row, links known people, reports bad lines', async () => {
    const vid = visitorId()
    await importEvents(server, [touchEvent(vid, T0, { source: 'google', medium: 'cpc', campaign: 'brand' })])
    const leadId = await identify(server, { visitorId: vid, email: 'csv@example.com', ts: T0 + 1 })
    const csv = [
      'Deal ID,Email,Stage,Amount,Currency,Date',
      'D-1,CSV@example.com,Qualified To Buy,"12,000",,2026-01-10',
      'D-1,csv@example.com,Closed Won,12500,,2026-01-20T12:00:00Z',
      'D-2,,won,100,,2026-01-20',
      'D-3,nobody@example.com,Blocked by legal,1,,2026-01-20',
      'D-4,unknown@example.com,closedlost,,,1768000000000',
    ].join('\n')
    const result = await importDealsCsv(server.store, server.site, csv, server.app.closeloop.pii)
    // D-4's person is not identified yet: imported, not linked.
    expect(result).toMatchObject({ rows: 5, accepted: 3, pending: 1 })
    expect(result.errors.map((e) => [e.line, e.code])).toEqual([[4, 'CL_ERR_DEAL_NO_PERSON'], [5, 'CL_ERR_UNKNOWN_STAGE']])
    const deals = await server.store.getDeals(server.site.id, leadId)
    expect(deals.map((d) => [d.dealId, d.stage, d.amount, d.history.length])).toEqual([['D-1', 'won', 12500, 2]])
    // A bare day is the end of that UTC day, as on the API.
    expect(deals[0].history[0].ts).toBe(Date.UTC(2026, 0, 10, 23, 59, 59, 999))
  })
})
