// The simulator through the real HTTP API: a newcomer's demo data must give meaningful reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUSINESS, driveSimulation, simulateSpend, simulateVisitors, type DriveSummary } from '../../src/simulate/index.js'
import { secret, type TestServer } from './helpers.js'
import { startTestServer } from './helpers.js'

const opts = { seed: 7, visitors: 1_500, end: Date.UTC(2026, 2, 1), days: 90 }
let server: TestServer
let summary: DriveSummary

beforeAll(async () => {
  server = await startTestServer()
  summary = await driveSimulation({ ...opts, baseUrl: server.url, secretKey: server.sk, importBatch: 2_000 })
}, 120_000)
afterAll(async () => { await server.close() })

describe('driveSimulation', () => {
  it('never sends more events in one import than importBatch, which the API may take as its limit', async () => {
    const small = await startTestServer({ importMaxEvents: 20 })
    try {
      const r = await driveSimulation({ seed: 3, visitors: 200, end: Date.UTC(2026, 2, 1), days: 30, baseUrl: small.url, secretKey: small.sk, importBatch: 20 })
      expect(r.visitors).toBe(200)
      expect(r.events).toBeGreaterThan(200)
    } finally {
      await small.close()
    }
  })

  it('sends everything it generated', () => {
    const visitors = [...simulateVisitors(opts)]
    expect(summary.visitors).toBe(1_500)
    expect(summary.touches).toBe(visitors.reduce((n, v) => n + v.events.filter((e) => e.touch).length, 0))
    expect(summary.leads).toBe(visitors.filter((v) => v.identify).length)
    expect(summary.wonDeals).toBeGreaterThan(3)
    expect(summary.spendRows).toBe(simulateSpend(opts).length)
  })

  it('yields a report whose won revenue is every won deal, converted, credited to real channels', async () => {
    const won = [...simulateVisitors(opts)].flatMap((v) => v.deals).filter((d) => d.stage === 'Closed Won')
    const revenue = won.reduce((s, d) => s + (d.currency === 'GBP' ? d.amount * BUSINESS.gbpRate : d.amount), 0)
    const r = await secret(server, '/v1/reports/attribution?model=linear&by=channel')
    expect(r.status).toBe(200)
    expect(r.body.totals.conversions).toBeCloseTo(won.length)
    expect(r.body.totals.revenue).toBeCloseTo(revenue, 4)
    const channels = r.body.rows.map((x: { key: string }) => x.key)
    for (const c of ['Paid Search', 'Paid Social', 'Organic Search', 'Email', 'Referral', 'Direct']) expect(channels).toContain(c)
    const paidSearch = r.body.rows.find((x: { key: string }) => x.key === 'Paid Search')
    expect(paidSearch.spend).toBeGreaterThan(0)
    expect(paidSearch.revenue).toBeGreaterThan(0)
    expect(r.body.coverage.conversions).toBeGreaterThan(0.5)
    expect(r.body.utmCompleteness).toBe(1)
  })
})
