// The dashboard's "Ad platforms" view in real Chromium against a real collector: leads seeded over
// the HTTP API (clicks of Google and Microsoft, one older than the 90-day window, one direct, one
// without the tracker), won deals, two feed destinations, one feed downloaded by "the platform";
// the view's figures equal GET /v1/reports/destinations and the hand-computed shares.

import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadInstallKeys } from '../../src/identity/crypto.js'
import { addDestination, feedPath } from '../../src/integrations/destinations/destinations.js'
import type { DestinationsReport } from '../../src/reports/destinations.js'
import type { DestinationRecord } from '../../src/store/types.js'
import { secret, send, startTestServer, type TestServer } from '../http/helpers.js'
import { DAY, identify, importEvents } from '../http/outcome-helpers.js'

const pkg = fileURLToPath(new URL('../..', import.meta.url))
const shots = fileURLToPath(new URL('../../../../test-output/dashboard/', import.meta.url))

let base: TestServer
let browser: Browser
let page: Page
let google: DestinationRecord
let microsoft: DestinationRecord
let googlePassword = ''
let n = 0

async function lead(click: { type: string; daysAgo: number } | null | 'no-tracker'): Promise<string> {
  const email = `p${++n}@corp.example`
  if (click === 'no-tracker') return identify(base, { email })
  const vid = `vid${String(n).padStart(18, '0')}`
  const ts = Date.now() - (click?.daysAgo ?? 2) * DAY
  await importEvents(base, [{ id: `ev${String(n).padStart(19, '0')}`, type: 'page', ts, vid, sid: `sid${String(n).padStart(9, '0')}`, url: 'https://shop.example/',
    touch: { ts, source: click ? 'ads' : '(direct)', medium: click ? 'cpc' : '(none)', campaign: null, click_id: click ? `${click.type}${n}` : null, click_id_type: click?.type ?? null, landing: 'https://shop.example/' } }])
  return identify(base, { email, visitorId: vid })
}

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build-dashboard.mjs'], { cwd: pkg })
  mkdirSync(shots, { recursive: true })
  base = await startTestServer({ basePath: '/_cl' })
  const key = loadInstallKeys({ dataDir: base.dir, env: {} }).integrationKey
  const g = await addDestination(base.store, key, { site: base.site, kind: 'google-ads-feed', options: {}, send: ['won=Closed deal', 'sql=Qualified lead:50'] })
  google = g.record
  googlePassword = g.feed?.password ?? ''
  microsoft = (await addDestination(base.store, key, { site: base.site, kind: 'microsoft-ads-feed', options: {}, send: ['won=Closed deal'] })).record
  const deals = [
    [await lead({ type: 'gclid', daysAgo: 3 }), 1000],
    [await lead({ type: 'msclkid', daysAgo: 5 }), 2000],
    [await lead({ type: 'gclid', daysAgo: 100 }), 400],
    [await lead(null), 300],
    [await lead('no-tracker'), 500],
  ] as const
  const r = await secret(base, '/v1/deals', { deals: [
    ...deals.map(([leadId, amount], i) => ({ dealId: `w${i}`, leadId, stage: 'won', amount, ts: Date.now() - DAY })),
    { dealId: 'q0', leadId: deals[0][0], stage: 'sql', ts: Date.now() - 2 * DAY },
  ] })
  expect(r.status, r.text).toBe(200)
  // Google downloads its feed once: its rows count as sent; Microsoft's stay pending.
  const feed = await send(`${base.url}${feedPath(google.id)}`, { headers: { authorization: `Basic ${Buffer.from(`${google.id}:${googlePassword}`).toString('base64')}` } })
  expect(feed.status).toBe(200)
  expect(feed.text.trimEnd().split('\r\n')).toHaveLength(4)
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] })
  page = await (await browser.newContext({ viewport: { width: 1280, height: 1400 } })).newPage()
})

afterAll(async () => {
  await browser?.close()
  await base?.close()
})

const values = (table: string) => page.locator(`table[data-table="${table}"] tbody tr`).evaluateAll((trs) =>
  trs.map((tr) => [...tr.children].map((c) => c.getAttribute('data-value') ?? '')))

describe('Ad platforms view', () => {
  it('shows per destination and stage what was sent, and the won revenue that could be sent back, as the API says', async () => {
    await page.goto(`${base.url}/dashboard`)
    await page.getByLabel('Secret key').fill(base.sk)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('#view[data-rendered^="overview"]').waitFor()
    await page.getByRole('link', { name: 'Ad platforms' }).click()
    await page.locator('#view[data-rendered^="destinations:"]').waitFor()
    await page.screenshot({ path: `${shots}destinations.png`, fullPage: true })

    const api = (await secret(base, '/v1/reports/destinations')).body as DestinationsReport
    expect(api.destinations.map((d) => d.id)).toEqual([google.id, microsoft.id])
    // Hand-computed: won revenue 4200 in all; Google sent 1000 (the in-window gclid) and lacks
    // 2300 without a Google click (msclkid and direct), 400 outside 90 days, 500 without consent.
    expect(api.destinations[0].won).toEqual({ total: 4200, sent: 1000, pending: 0, failed: 0, sendableShare: 1000 / 4200, missing: { no_click_id: 2300, outside_window: 400, no_consent: 500 } })
    expect(api.destinations[1].won).toEqual({ total: 4200, sent: 0, pending: 2000, failed: 0, sendableShare: 2000 / 4200, missing: { no_click_id: 1700, outside_window: 0, no_consent: 500 } })

    for (const d of api.destinations) {
      const section = page.locator(`section[data-destination="${d.id}"]`)
      expect(Number(await section.locator('[data-figure="sendableShare"]').getAttribute('data-value'))).toBeCloseTo(d.won?.sendableShare ?? NaN, 12)
      expect(Number(await section.locator('[data-figure="wonSent"]').getAttribute('data-value'))).toBe(d.won?.sent)
      expect(await values(`destination-${d.id}-stages`)).toEqual(d.stages.map((s) => [s.stage, s.conversionName ?? '', s.sent, s.pending, s.failed, s.unmatched].map(String)))
      expect(await values(`destination-${d.id}-reasons`)).toEqual(d.stages.flatMap((s) => s.reasons.map((r) => [s.stage, r.status === 'unmatched' ? 'not sendable' : r.status, r.reason, String(r.rows)])))
      const missing = Object.entries(d.won?.missing ?? {}).filter(([, v]) => v > 0).map(([, v]) => v)
      expect((await values(`destination-${d.id}-missing`)).map((r) => Number(r[1]))).toEqual(missing)
    }
    // Google's stages: sql sent once (fixed value), won by the deal amount.
    expect(api.destinations[0].stages.map((s) => [s.stage, s.sent, s.pending, s.unmatched])).toEqual([['sql', 1, 0, 0], ['won', 1, 0, 4]])
    await expect(page.locator(`section[data-destination="${google.id}"] table[data-table="destination-${google.id}-missing"]`).innerText()).resolves.toContain('Click outside the platform')
  })
})
