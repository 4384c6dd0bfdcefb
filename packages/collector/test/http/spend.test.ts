import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { secret, type TestServer } from './helpers.js'
import { startTestServer } from './helpers.js'

let server: TestServer
beforeAll(async () => { server = await startTestServer() })
afterAll(async () => { await server.close() })

async function spendOf() {
  const data = await server.store.loadReportData(server.site.id, { touchesFrom: null, touchesTo: null })
  return [...data.spend].sort((a, b) => (a.date + a.source + (a.campaign ?? '')).localeCompare(b.date + b.source + (b.campaign ?? '')))
}

describe('POST /v1/spend and /v1/rates', () => {
  it('upserts by (date, source, medium, campaign)', async () => {
    const first = await secret(server, '/v1/spend', { rows: [
      { date: '2026-01-01', source: 'Google', medium: 'CPC', campaign: 'brand', amount: 100 },
      { date: '2026-01-01', source: 'google', medium: 'cpc', campaign: 'generic', amount: 50 },
      { date: '2026-01-01', source: 'linkedin', amount: 20 },
    ] })
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ accepted: 3, inserted: 3, updated: 0, currency: 'USD', rejected: [] })
    const second = await secret(server, '/v1/spend', { rows: [{ date: '2026-01-01', source: 'google', medium: 'cpc', campaign: 'brand', amount: 120.5 }] })
    expect(second.body).toMatchObject({ accepted: 1, inserted: 0, updated: 1 })
    expect(await spendOf()).toEqual([
      { date: '2026-01-01', source: 'google', medium: 'cpc', campaign: 'brand', amount: 120.5 },
      { date: '2026-01-01', source: 'google', medium: 'cpc', campaign: 'generic', amount: 50 },
      { date: '2026-01-01', source: 'linkedin', medium: null, campaign: null, amount: 20 },
    ])
  })

  it('converts other currencies with imported rates and refuses them without one', async () => {
    const none = await secret(server, '/v1/spend', { rows: [{ date: '2026-02-01', source: 'meta', campaign: 'eu', amount: 100, currency: 'EUR' }] })
    expect(none.body.accepted).toBe(0)
    expect(none.body.rejected).toEqual([{ index: 0, code: 'CL_ERR_NO_FX_RATE', message: expect.stringContaining('EUR') }])

    const rates = await secret(server, '/v1/rates', { rates: [{ currency: 'eur', date: '2026-01-15', rate: 1.1 }, { currency: 'EUR', date: '2026-02-15', rate: 1.2 }] })
    expect(rates.status).toBe(200)
    const ok = await secret(server, '/v1/spend', { rows: [
      { date: '2026-02-01', source: 'meta', campaign: 'eu', amount: 100, currency: 'EUR' },
      { date: '2026-02-20', source: 'meta', campaign: 'eu', amount: 100, currency: 'EUR' },
      { date: '2026-01-01', source: 'meta', campaign: 'eu', amount: 100, currency: 'EUR' },
    ] })
    expect(ok.body.accepted).toBe(2)
    expect(ok.body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([[2, 'CL_ERR_NO_FX_RATE']])
    const meta = (await spendOf()).filter((r) => r.source === 'meta')
    expect(meta.map((r) => [r.date, r.amount])).toEqual([['2026-02-01', 110], ['2026-02-20', 120]])
    const listed = await secret(server, '/v1/rates')
    expect(listed.body.rates).toEqual([{ currency: 'EUR', date: '2026-01-15', rate: 1.1 }, { currency: 'EUR', date: '2026-02-15', rate: 1.2 }])
  })

  it('rejects bad rows by index with codes and keeps the good ones', async () => {
    const r = await secret(server, '/v1/spend', { rows: [
      { date: '2026-02-30', source: 'google', amount: 1 },
      { date: '2026/03/01', source: 'google', amount: 1 },
      { date: '2026-03-01', source: '', amount: 1 },
      { date: '2026-03-01', source: 'google', amount: 'lots' },
      { date: '2026-03-01', source: 'google', amount: 1, currency: 'E' },
      { date: '2026-03-01', source: 'google', medium: 'cpc', campaign: 'spring', amount: '1,000.25' },
    ] })
    expect(r.body.rejected.map((x: { index: number; code: string }) => [x.index, x.code])).toEqual([
      [0, 'CL_ERR_BAD_DATE'], [1, 'CL_ERR_VALIDATION'], [2, 'CL_ERR_VALIDATION'], [3, 'CL_ERR_VALIDATION'], [4, 'CL_ERR_BAD_CURRENCY'],
    ])
    expect(r.body.accepted).toBe(1)
    expect((await spendOf()).find((x) => x.campaign === 'spring')?.amount).toBe(1000.25)
  })

  it('refuses a whole rate table with a bad entry', async () => {
    const r = await secret(server, '/v1/rates', { rates: [{ currency: 'GBP', rate: 1.3 }, { currency: 'GBP', rate: -1 }] })
    expect(r.status).toBe(400)
    expect(r.body.error.code).toBe('CL_ERR_VALIDATION')
    expect((await secret(server, '/v1/rates', { rates: [{ currency: 'pounds', rate: 1 }] })).body.error.code).toBe('CL_ERR_BAD_CURRENCY')
    expect((await secret(server, '/v1/rates')).body.rates.some((x: { currency: string }) => x.currency === 'GBP')).toBe(false)
  })
})
