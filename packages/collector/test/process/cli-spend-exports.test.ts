// `closeloop spend import` of ad platform exports as downloaded (test/fixtures/spend/), as a real
// child process on the SQLite file of a running test collector; the spend is read back by report.
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './cli-process.js'
import { secret, startTestServer, visitorId, type TestServer } from '../http/helpers.js'
import { DAY, importEvents, T0, touchEvent } from '../http/outcome-helpers.js'

let server: TestServer
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/spend/${name}`, import.meta.url))
const base = (): string[] => ['--site', 'Test shop', '--data', server.dir]

beforeAll(async () => {
  server = await startTestServer()
  await importEvents(server, [
    touchEvent(visitorId(), T0, { source: 'bing', medium: 'cpc', campaign: 'generic-crm-search' }),
    touchEvent(visitorId(), T0 + DAY, { source: 'facebook', medium: 'cpc', campaign: 'Retargeting Q1' }),
  ])
})
afterAll(async () => { await server.close() })

type Row = { key: string; spend: number }
async function spendBy(by: string): Promise<Record<string, number>> {
  const r = await secret(server, `/v1/reports/attribution?model=linear&by=${by}&from=2026-01-01&to=2026-01-31`)
  return Object.fromEntries((r.body.rows as Row[]).map((x) => [x.key, x.spend]))
}

describe('closeloop spend import of platform exports', () => {
  it('reads a Microsoft Advertising report as bing / cpc, skipping its preamble, Total row and footer', async () => {
    const r = await runCli(['spend', 'import', fixture('microsoft.csv'), ...base()])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Microsoft Advertising export as bing \/ cpc, 2 total\/summary lines skipped/)
    expect(r.stdout).toMatch(/spend: 3 of 3 rows imported\n/)
    const bySourceMedium = await spendBy('source_medium')
    expect(bySourceMedium['bing / cpc']).toBeCloseTo(63.44 + 62.06 + 1219.74, 6)
  })

  it('reads a Meta export in EUR (header suffix) with a --medium override, converted by the site rate', async () => {
    await secret(server, '/v1/rates', { rates: [{ currency: 'EUR', rate: 1.1 }] })
    const r = await runCli(['spend', 'import', fixture('meta.csv'), ...base(), '--medium', 'cpc'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Meta Ads export as facebook \/ cpc, 1 total\/summary lines skipped/)
    const bySourceMedium = await spendBy('source_medium')
    expect(bySourceMedium['facebook / cpc']).toBeCloseTo(1780.25 * 1.1, 6)
  })

  it('refuses a forced format whose header is not in the file, with a coded error', async () => {
    const r = await runCli(['spend', 'import', fixture('google-ads.csv'), ...base(), '--format', 'linkedin'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/no LinkedIn Ads header .*CL_ERR_BAD_CSV/)
  })
})
