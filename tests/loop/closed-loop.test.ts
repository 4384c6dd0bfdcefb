// The whole loop over HTTP, no simulator: campaign visits (browser-style /v1/collect and a
// backfill through /v1/import) → identify → the CRM webhook example reports the deal won → the
// report credits that revenue to the right campaigns under every model.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../packages/collector/src/http/app.js'
import { MODELS } from '../../packages/collector/src/attribution/types.js'
import { loadInstallKeys } from '../../packages/collector/src/identity/crypto.js'
import { createSite } from '../../packages/collector/src/sites/admin.js'
import { openStore } from '../../packages/collector/src/store/index.js'
// @ts-expect-error: a plain .mjs example without type declarations
import { sendDealChanges } from '../../examples/crm-webhook/send.mjs'

const ORIGIN = 'https://shop.example'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'
const DAY = 86_400_000
const NOW = Date.now()

let app: Awaited<ReturnType<typeof buildApp>>
let dir: string
let url: string
let pk: string
let sk: string

const id = (p: string, n: number): string => `${p}${String(n).padStart(21 - p.length, '0')}`

function pageEvent(vid: string, n: number, ts: number, landing: string, touch: Record<string, unknown> | null) {
  return { id: id(`e${vid.slice(0, 4)}`, n), type: 'page', ts, vid, sid: id('s', n), url: landing, title: 'Shop', ...(touch ? { touch: { ts, landing, ...touch } } : {}) }
}

async function post(path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': UA, ...headers }, body: JSON.stringify(body) })
  const json = await res.json()
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}
const bySecret = (path: string, body: unknown) => post(path, body, { authorization: `Bearer ${sk}` })

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'closeloop-loop-'))
  const store = await openStore({ dataDir: dir })
  const created = await createSite(store, { name: 'Loop shop', origins: [ORIGIN] })
  pk = created.site.publicKey
  sk = created.secretKey
  app = await buildApp({ store, keys: loadInstallKeys({ dataDir: dir, env: {} }) })
  url = await app.listen({ port: 0, host: '127.0.0.1' })

  const ada = 'AdaVisitor00000000001'
  const bob = 'BobVisitor00000000002'
  // 1. Ada clicks a Google ad (the browser script sends it through /v1/collect).
  const spring = `${ORIGIN}/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring-sale&gclid=abc123`
  const collected = await post('/v1/collect', { site: pk, sentAt: NOW, events: [
    pageEvent(ada, 1, NOW - 20 * DAY, spring, { source: 'google', medium: 'cpc', campaign: 'spring-sale', click_id: 'abc123', click_id_type: 'gclid' }),
  ] }, { origin: ORIGIN })
  expect(collected.accepted).toBe(1)
  // 2. Later a LinkedIn ad and a direct visit, backfilled by the site's server through /v1/import.
  const abm = `${ORIGIN}/demo?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm-q1`
  await bySecret('/v1/import', { events: [
    pageEvent(ada, 2, NOW - 12 * DAY, abm, { source: 'linkedin', medium: 'paid_social', campaign: 'abm-q1' }),
    pageEvent(ada, 3, NOW - 11 * DAY, `${ORIGIN}/`, { source: '(direct)', medium: '(none)' }),
    pageEvent(bob, 1, NOW - 15 * DAY, `${ORIGIN}/?utm_source=newsletter&utm_medium=email&utm_campaign=launch`, { source: 'newsletter', medium: 'email', campaign: 'launch' }),
  ] })
  // 3. Both fill the form: the form backend identifies them.
  await bySecret('/v1/identify', { visitorId: ada, email: 'ada@example.com', ts: NOW - 11 * DAY + 60_000 })
  await bySecret('/v1/identify', { visitorId: bob, email: 'bob@example.com', ts: NOW - 15 * DAY + 60_000 })
  // 4. The CRM reports the deals through the webhook example, with its own stage names.
  const key = { collector: url, key: sk }
  await sendDealChanges({ dealId: 'OPP-1', email: 'Ada@Example.com', stage: 'Qualified To Buy', amount: 24000, ts: NOW - 8 * DAY }, key)
  const won = await sendDealChanges({ dealId: 'OPP-1', email: 'ada@example.com', stage: 'Closed Won', amount: 24000, ts: NOW - 2 * DAY }, key)
  expect(won).toMatchObject({ stage: 'won', linked: true })
  await sendDealChanges([{ dealId: 'OPP-2', email: 'bob@example.com', stage: 'closedlost', amount: 5000, ts: NOW - 3 * DAY }], key)
  // 5. Spend on the campaigns.
  await bySecret('/v1/spend', { rows: [
    { date: new Date(NOW - 20 * DAY).toISOString().slice(0, 10), source: 'google', medium: 'cpc', campaign: 'spring-sale', amount: 800 },
    { date: new Date(NOW - 12 * DAY).toISOString().slice(0, 10), source: 'linkedin', medium: 'paid_social', campaign: 'abm-q1', amount: 1200 },
  ] })
})

afterAll(async () => {
  await app?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function report(model: string, by = 'campaign') {
  const res = await fetch(`${url}/v1/reports/attribution?model=${model}&by=${by}&conversion=won`, { headers: { authorization: `Bearer ${sk}` } })
  expect(res.status).toBe(200)
  const body = await res.json()
  return { body, rev: Object.fromEntries(body.rows.map((r: { key: string; revenue: number }) => [r.key, r.revenue])) as Record<string, number> }
}

describe('closed loop: campaign visit → identify → CRM won → report', () => {
  for (const model of MODELS) {
    it(`${model} credits the won 24,000 to Ada's campaigns only`, async () => {
      const { body, rev } = await report(model)
      expect(body.totals.revenue).toBeCloseTo(24000)
      expect(body.totals.conversions).toBeCloseTo(1)
      expect((rev['spring-sale'] ?? 0) + (rev['abm-q1'] ?? 0)).toBeCloseTo(24000)
      expect(rev.launch ?? 0).toBe(0)
      expect(body.totals.spend).toBeCloseTo(2000)
      if (model === 'first_touch') expect(rev['spring-sale']).toBeCloseTo(24000)
      // The direct visit after the LinkedIn ad takes no credit: the last non-direct touch does.
      if (model === 'last_touch') expect(rev['abm-q1']).toBeCloseTo(24000)
      if (['linear', 'position_based', 'markov', 'shapley'].includes(model)) expect(rev['spring-sale']).toBeCloseTo(12000)
      // Time decay favours the more recent LinkedIn touch.
      if (model === 'time_decay') expect(rev['abm-q1']).toBeGreaterThan(rev['spring-sale'])
    })
  }

  it('by channel: Paid Search and Paid Social share the revenue, with ROAS from their spend', async () => {
    const { body } = await report('linear', 'channel')
    const row = (k: string) => body.rows.find((r: { key: string }) => r.key === k)
    expect(row('Paid Search')).toMatchObject({ revenue: 12000, spend: 800, roas: 15 })
    expect(row('Paid Social')).toMatchObject({ revenue: 12000, spend: 1200, roas: 10 })
    expect(row('Email')).toMatchObject({ revenue: 0, leads: 1 })
  })
})
