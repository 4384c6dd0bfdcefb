// `closeloop report` on B2B data as a real child process: --journey picks whose touches make a
// deal's path, and the KPIs (sourced, influenced, LTV:CAC) print under the table, as a CSV column
// and in the JSON, equal to the API's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCsv } from '../../src/outcomes/csv.js'
import { runCli } from './cli-process.js'
import { secret, startTestServer, visitorId, type TestServer } from '../http/helpers.js'
import { DAY, identify, importEvents, T0, touchEvent } from '../http/outcome-helpers.js'

let server: TestServer

beforeAll(async () => {
  server = await startTestServer()
  const [a, b] = [visitorId(), visitorId()]
  await importEvents(server, [
    touchEvent(a, T0, { source: 'linkedin', medium: 'paid_social', campaign: 'abm' }),
    touchEvent(b, T0 + 2 * DAY, { source: 'google', medium: 'cpc', campaign: 'brand' }),
  ])
  // Ann is Acme's by the CRM; Bob joins Acme through the deal's company. The deal names only Bob.
  await identify(server, { visitorId: a, email: 'ann@acme.example', company: 'Acme', ts: T0 + DAY })
  const bob = await identify(server, { visitorId: b, email: 'bob@acme.example', ts: T0 + 3 * DAY })
  const deal = await secret(server, '/v1/deals', { dealId: 'W', leadId: bob, company: 'Acme', stage: 'won', amount: 1000, ts: T0 + 10 * DAY })
  expect(deal.status).toBe(200)
  const spend = await secret(server, '/v1/spend', { rows: [{ date: '2026-01-07', source: 'google', medium: 'cpc', campaign: 'brand', amount: 250 }] })
  expect(spend.status).toBe(200)
})
afterAll(async () => { await server.close() })

const base = (): string[] => ['--site', 'Test shop', '--data', server.dir, '--by', 'source']

describe('closeloop report --journey and KPIs', () => {
  it('prints the API report of each journey mode in json, KPIs included', async () => {
    const account = await runCli(['report', ...base(), '--journey', 'account', '--ltv-months', '12', '--format', 'json'])
    expect(account.code, account.stderr).toBe(0)
    const api = await secret(server, '/v1/reports/attribution?model=linear&by=source&journey=account&ltvMonths=12')
    const body = JSON.parse(account.stdout)
    expect(body).toEqual(api.body)
    expect(body.journey).toBe('account')
    expect(body.rows.filter((x: any) => x.revenue > 0).map((x: any) => [x.key, x.revenue])).toEqual([['google', 500], ['linkedin', 500]])
    expect(body.kpis).toEqual({ marketingSourcedRevenue: 1000, marketingInfluencedRevenue: 1000, ltvMonths: 12, ltvToCac: { google: 2 } })

    const deal = JSON.parse((await runCli(['report', ...base(), '--journey', 'deal', '--format', 'json'])).stdout)
    expect(deal.journey).toBe('deal')
    expect(deal.rows.find((x: any) => x.key === 'google').revenue).toBe(1000)
    expect(deal.kpis.ltvToCac).toEqual({ google: 4 })
  })

  it('shows ltv:cac as a column and the KPI block under the table', async () => {
    const r = await runCli(['report', ...base(), '--journey', 'account', '--ltv-months', '12'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/ltv:cac/)
    expect(r.stdout).toMatch(/\ngoogle\s+1\s+1\.0\s+0\.50\s+500\.00\s+250\.00\s+2\.00\s+500\.00\s+2\.00\n/)
    expect(r.stdout).toMatch(/\nlinkedin\s.*\s-\n/)
    expect(r.stdout).toMatch(/journeys: account; won revenue marketing-sourced 1000\.00 USD, marketing-influenced 1000\.00 USD/)
    expect(r.stdout).toMatch(/\(12 months\)/)
    const all = await runCli(['report', ...base(), '--model', 'all', '--journey', 'account'])
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout).toMatch(/ltv:cac \(linear\)/)
    expect(all.stdout).toMatch(/journeys: account; won revenue marketing-sourced 1000\.00 USD/)
  })

  it('adds ltvToCac as a csv column; a bad journey is refused', async () => {
    const r = await runCli(['report', ...base(), '--journey', 'deal', '--format', 'csv'])
    expect(r.code, r.stderr).toBe(0)
    const rows = parseCsv(r.stdout).map((x) => x.fields)
    expect(rows[0].at(-1)).toBe('ltvToCac')
    const col = rows[0].length - 1
    expect(Object.fromEntries(rows.slice(1).map((x) => [x[0], x[col]]))).toEqual({ google: '4', linkedin: '', '(total)': '' })
    const bad = await runCli(['report', ...base(), '--journey', 'company'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/CL_ERR_VALIDATION/)
  })
})
