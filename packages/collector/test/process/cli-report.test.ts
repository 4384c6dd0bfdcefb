// `closeloop report`, `spend import` and `deals import` as real child processes on the SQLite file
// of a running test collector.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCsv } from '../../src/outcomes/csv.js'
import { runCli } from './cli-process.js'
import { secret, startTestServer, visitorId, type TestServer } from '../http/helpers.js'
import { DAY, identify, importEvents, T0, touchEvent } from '../http/outcome-helpers.js'

let server: TestServer

beforeAll(async () => {
  server = await startTestServer()
  const a = visitorId()
  const b = visitorId()
  await importEvents(server, [
    touchEvent(a, T0, { source: 'google', medium: 'cpc', campaign: 'brand', click_id_type: 'gclid' }),
    touchEvent(a, T0 + 2 * DAY, { source: 'newsletter', medium: 'email', campaign: 'digest' }),
    touchEvent(b, T0 + DAY, { source: 'linkedin', medium: 'paid_social', campaign: 'abm' }),
  ])
  await identify(server, { visitorId: a, email: 'a@example.com', ts: T0 + 3 * DAY })
  await identify(server, { visitorId: b, email: 'b@example.com', ts: T0 + 3 * DAY })
  await secret(server, '/v1/deals', { deals: [
    { dealId: 'A', email: 'a@example.com', stage: 'won', amount: 1000, ts: T0 + 10 * DAY },
    { dealId: 'B', email: 'b@example.com', stage: 'won', amount: 300, ts: T0 + 11 * DAY },
  ] })
})
afterAll(async () => { await server.close() })

const base = (): string[] => ['--site', 'Test shop', '--data', server.dir]

describe('closeloop report', () => {
  it('prints the same report as the API in json', async () => {
    const r = await runCli(['report', ...base(), '--model', 'linear', '--by', 'campaign', '--format', 'json'])
    expect(r.code, r.stderr).toBe(0)
    const api = await secret(server, '/v1/reports/attribution?model=linear&by=campaign')
    expect(JSON.parse(r.stdout)).toEqual(api.body)
    expect(api.body.rows.map((x: { key: string; revenue: number }) => [x.key, x.revenue])).toEqual([['brand', 500], ['digest', 500], ['abm', 300]])
  })

  it('prints csv with a header, one line per row and a total', async () => {
    const r = await runCli(['report', ...base(), '--model', 'first_touch', '--by', 'channel', '--format', 'csv'])
    expect(r.code, r.stderr).toBe(0)
    const rows = parseCsv(r.stdout).map((x) => x.fields)
    expect(rows[0].slice(0, 5)).toEqual(['channel', 'touches', 'leads', 'conversions', 'revenue'])
    expect(rows.slice(1).map((x) => [x[0], Number(x[4])])).toEqual([['Paid Search', 1000], ['Paid Social', 300], ['Email', 0], ['(total)', 1300]])
  })

  it('prints an aligned table, and every model side by side with --model all', async () => {
    const r = await runCli(['report', ...base(), '--from', '2026-01-01', '--to', '2026-01-31', '--conversion', 'won'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^linear attribution of won by channel, 2026-01-01T00:00:00.000Z → 2026-01-31T23:59:59.999Z/)
    // No spend matched: ROAS and CAC are unknown ('-'), as on the dashboard, not a CAC of 0.00.
    expect(r.stdout).toMatch(/Paid Search\s+1\s+0\.5\s+0\.50\s+500\.00\s+0\.00\s+-\s+-/)
    const all = await runCli(['report', ...base(), '--model', 'all', '--by', 'campaign'])
    expect(all.code, all.stderr).toBe(0)
    expect(all.stdout).toMatch(/first_touch USD/)
    expect(all.stdout).toMatch(/brand\s+1000\s+0\s+500/)
  })

  it('fails with coded messages on bad options', async () => {
    const bad = await runCli(['report', ...base(), '--model', 'magic'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/CL_ERR_VALIDATION/)
    expect(bad.stderr).not.toContain('did you mean')
    const format = await runCli(['report', ...base(), '--format', 'tabel'])
    expect(format.code).toBe(1)
    expect(format.stderr).toContain('--format must be table, csv or json (CL_ERR_VALIDATION)\nhint: did you mean "table"?')
    const typo = await runCli(['report', ...base(), '--model', 'linaer'])
    expect(typo.code).toBe(1)
    expect(typo.stderr).toMatch(/^closeloop report: model: Invalid option: expected one of .*; did you mean "linear"\? \(CL_ERR_VALIDATION\)$/m)
    const site = await runCli(['report', '--site', 'Nope', '--data', server.dir])
    expect(site.code).toBe(1)
    expect(site.stderr).toMatch(/CL_ERR_SITE_NOT_FOUND/)
    expect(site.stderr).toContain('hint: sites here: "Test shop"')
    // Names are exact: a different case is not the site, but is pointed at.
    const cased = await runCli(['report', '--site', 'test shop', '--data', server.dir])
    expect(cased.code).toBe(1)
    expect(cased.stderr).toContain('No site named "test shop" (CL_ERR_SITE_NOT_FOUND)\nhint: did you mean "Test shop"?')
  })
})

describe('closeloop spend/deals import', () => {
  it('imports good rows, prints bad lines and exits 1', async () => {
    const spend = join(server.dir, 'spend.csv')
    writeFileSync(spend, 'date,source,medium,campaign,amount\r\n2026-01-05,google,cpc,brand,250\r\n2026-01-06,google,cpc,brand,oops\r\n')
    const r = await runCli(['spend', 'import', spend, ...base()])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/spend: 1 of 2 rows imported, 1 failed/)
    expect(r.stderr).toMatch(/spend\.csv:3: .*CL_ERR_VALIDATION/)
    const report = await secret(server, '/v1/reports/attribution?model=linear&by=campaign')
    expect(report.body.rows.find((x: { key: string }) => x.key === 'brand').spend).toBe(250)

    const deals = join(server.dir, 'deals.csv')
    writeFileSync(deals, 'deal_id,email,stage,amount,date\nC,a@example.com,Closed Won,50,2026-01-20\n')
    const ok = await runCli(['deals', 'import', deals, ...base()])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/deals: 1 of 1 rows imported/)
    const after = await secret(server, '/v1/reports/attribution?model=linear&by=campaign')
    expect(after.body.totals.revenue).toBe(1350)
  })
})
