// The whole loop with every real part: Chromium runs the BUILT tracker (served by the collector's
// own /closeloop.js) on examples/static-site (served by the collector's demo site server, as
// `closeloop demo` does), a real collector on a SQLite file, the example form backend calling
// /v1/identify, and the example CRM webhook sender moving the deal to won. Nothing is simulated:
// the touches the report credits are the ones the browser produced.
//
// The journey: a Google ad click (utm_* + gclid) on /pricing.html, a click to /demo.html, the tab is
// closed; later the visitor comes back from a newsletter link to /webinar.html, goes to the contact
// page and submits the lead form. Then the CRM closes the deal, and each of the nine models must
// credit the won revenue to the ad campaign and/or the email campaign as the attribution docs say.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Store,
  buildApp,
  createSite,
  loadInstallKeys,
  openStore,
  serveExampleSite,
} from '../../packages/collector/src/index.js' // @closeloop/collector's public entry, from source like closed-loop.test.ts
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs example without type declarations
import { sendDealChanges } from '../../examples/crm-webhook/send.mjs'
// @ts-expect-error: a plain .mjs example without type declarations
import { startFormBackend } from '../../examples/form-backend/server.mjs'
import { launchBrowser } from '../support/browser.js'
import { TRACKER_BUNDLE } from '../support/site-server.js'
import { attribution } from '../support/tracker-page.js'
import { sleep, waitUntil } from '../support/wait.js'

/** Headless Chromium says HeadlessChrome, which isbot (rightly) counts as a bot. */
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'
/** Host names browser.ts maps to 127.0.0.1: the site and its collector on a subdomain, cross-origin. */
const SITE_HOST = 'www.example.test'
const COLLECTOR_HOST = 't.example.test'
const EMAIL = 'ada.loop@example.com'
const AMOUNT = 24_000
const PAID = { source: 'google', medium: 'cpc', campaign: 'spring-sale' }
const MAIL = { source: 'newsletter', medium: 'email', campaign: 'may-webinar' }
const MODELS = ['first_touch', 'last_touch', 'linear', 'time_decay', 'position_based', 'w_shaped', 'full_path', 'markov', 'shapley'] as const

interface Closable {
  close(): Promise<unknown>
}

let dir: string
let store: Store
let app: Awaited<ReturnType<typeof buildApp>>
let form: Closable & { url: string }
let site: Closable & { url: string }
let browser: Browser
let context: BrowserContext
/** The collector as Node reaches it, and as the page names it (its own host name). */
let collectorUrl: string
let collectorPublic: string
let siteOrigin: string
let sk: string
const scripts: Buffer[] = []

const secret = async (path: string) => {
  const res = await fetch(`${collectorUrl}${path}`, { headers: { authorization: `Bearer ${sk}` } })
  const body = await res.json()
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`)
  return body
}

/** The events the collector durably holds for a visitor (GET /v1/privacy/export; the export's events
 * carry no touch fields, the lead's journey does), polled until `probe` holds. */
function waitForStored<T>(visitorId: string, probe: (events: Array<Record<string, any>>) => T | undefined | false, what: string): Promise<T> {
  return waitUntil(async () => probe((await secret(`/v1/privacy/export?visitorId=${visitorId}`)).events), what, 10_000)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'closeloop-browser-loop-'))
  store = await openStore({ dataDir: dir })
  // The site's origin includes the demo site server's port, known only once it listens: the site is
  // created first and its allowed origins set before the browser makes any request.
  const created = await createSite(store, { name: 'Browser loop', origins: [`http://${SITE_HOST}`] })
  sk = created.secretKey
  app = await buildApp({ store, keys: loadInstallKeys({ dataDir: dir, env: {} }) })
  collectorUrl = await app.listen({ port: 0, host: '127.0.0.1' })
  collectorPublic = collectorUrl.replace('127.0.0.1', COLLECTOR_HOST)
  form = await startFormBackend({ collector: collectorUrl, secretKey: sk, host: '127.0.0.1', port: 0 })
  site = await serveExampleSite({ collector: collectorPublic, site: created.site.publicKey, formAction: `${form.url}/submit`, host: '127.0.0.1', port: 0 })
  siteOrigin = site.url.replace('127.0.0.1', SITE_HOST)
  await store.updateSite(created.site.id, { origins: [siteOrigin] })

  browser = await launchBrowser()
  context = await browser.newContext({ userAgent: UA })
  context.on('response', (r) => {
    if (new URL(r.url()).pathname === '/closeloop.js') void r.body().then((b) => scripts.push(b), () => undefined)
  })
})

afterAll(async () => {
  await context?.close()
  await browser?.close()
  await site?.close()
  await form?.close()
  await app?.close()
  rmSync(dir, { recursive: true, force: true })
})

const touchOf = (t: Record<string, any>) => ({ source: t.source, medium: t.medium, campaign: t.campaign })

let visitorId: string
let leadId: string
/** Milliseconds between the two touches, as the collector stored them. */
let gap: number

describe('the loop in a real browser: ad click → newsletter → form → CRM won → every model', () => {
  it('the tracker records both arrivals, the form carries them and the form backend identifies the visitor', async () => {
    // 1. A Google ad click lands on the pricing page.
    const first = await context.newPage()
    await first.goto(`${siteOrigin}/pricing.html?utm_source=google&utm_medium=cpc&utm_campaign=spring-sale&gclid=abc123`)
    const a1 = await attribution(first)
    visitorId = a1.visitorId
    expect(visitorId).toMatch(/^[A-Za-z0-9_-]{21}$/)
    expect(touchOf(a1.firstTouch!)).toEqual(PAID)
    await waitForStored(visitorId, (evs) => evs.some((e) => String(e.url).includes('/pricing.html?utm_source=google')), 'the ad landing stored')

    // 2. Same visit, another page: no new touch.
    await Promise.all([first.waitForURL(/\/demo\.html$/), first.click('nav a[href="/demo.html"]')])
    const a2 = await attribution(first)
    expect(a2).toMatchObject({ visitorId, sessionId: a1.sessionId })
    expect(touchOf(a2.lastTouch!)).toEqual(PAID)
    await waitForStored(visitorId, (evs) => evs.some((e) => String(e.url).endsWith('/demo.html')), 'the second page view stored')
    await first.close()
    await sleep(50)

    // 3. Later, back through the newsletter link.
    const page: Page = await context.newPage()
    await page.goto(`${siteOrigin}/webinar.html?utm_source=newsletter&utm_medium=email&utm_campaign=may-webinar`)
    const a3 = await attribution(page)
    expect(a3.visitorId).toBe(visitorId)
    expect(a3.sessionId).not.toBe(a1.sessionId)
    expect(touchOf(a3.firstTouch!)).toEqual(PAID)
    expect(touchOf(a3.lastTouch!)).toEqual(MAIL)
    await waitForStored(visitorId, (evs) => evs.some((e) => String(e.url).includes('/webinar.html?utm_source=newsletter')), 'the newsletter landing stored')

    // The page ran the built tracker script, served by the collector itself.
    expect(scripts.length).toBeGreaterThan(0)
    for (const s of scripts) expect(s.equals(readFileSync(TRACKER_BUNDLE))).toBe(true)

    // 4. The contact form, posted to the example form backend.
    await Promise.all([page.waitForURL(/\/contact\.html$/), page.click('nav a[href="/contact.html"]')])
    await page.fill('#lead-form input[name=name]', 'Ada Loop')
    await page.fill('#lead-form input[name=email]', EMAIL)
    const [post] = await Promise.all([
      page.waitForRequest((r) => r.url() === `${form.url}/submit` && r.method() === 'POST'),
      page.waitForURL(`${form.url}/submit`),
      page.click('#lead-form button[type=submit]'),
    ])
    const fields = Object.fromEntries(new URLSearchParams(post.postData() ?? ''))
    expect(fields).toMatchObject({
      cl_visitor_id: visitorId,
      cl_ft_source: 'google', cl_ft_medium: 'cpc', cl_ft_campaign: 'spring-sale', cl_ft_click_id: 'abc123', cl_ft_click_id_type: 'gclid',
      cl_lt_source: 'newsletter', cl_lt_medium: 'email', cl_lt_campaign: 'may-webinar',
      utm_campaign: 'contact-page', // data-closeloop="off": left as the page set it
    })

    // The thank-you page shows what /v1/identify answered.
    expect(await page.textContent('[data-original-source]')).toBe('google / cpc')
    expect(await page.textContent('[data-original-channel]')).toBe('Paid Search')
    expect(await page.textContent('[data-touch="Last touch"] [data-field="campaign"]')).toBe('may-webinar')
    expect(await page.textContent('body')).toContain('2 touch(es) on record')
    leadId = (await page.textContent('[data-lead-id]'))!.trim()
    expect(leadId).not.toBe('')
    await page.close()
  })

  it('GET /v1/leads/{id} has the visitor and both touches, in time order', async () => {
    const lead = await secret(`/v1/leads/${leadId}`)
    expect(lead.lead).toMatchObject({ id: leadId, email: EMAIL })
    expect(lead.visitorIds).toEqual([visitorId])
    expect(lead.touches.map(touchOf)).toEqual([PAID, MAIL])
    expect(lead.touches[0]).toMatchObject({ click_id: 'abc123', click_id_type: 'gclid', channel: 'Paid Search', visitorId })
    expect(lead.touches[0].landing).toBe(`${siteOrigin}/pricing.html?utm_source=google&utm_medium=cpc&utm_campaign=spring-sale&gclid=abc123`)
    expect(lead.touches[1]).toMatchObject({ channel: 'Email', visitorId })
    expect(lead.touches[1].landing).toMatch(/\/webinar\.html\?/)
    expect(lead.touches[0].ts).toBeLessThan(lead.touches[1].ts)
    gap = lead.touches[1].ts - lead.touches[0].ts
    expect(lead.touches[1].ts).toBeLessThanOrEqual(lead.lead.identifiedAt)
    expect(lead.deals).toEqual([])
  })

  it('the CRM webhook sender moves the deal for that email to won', async () => {
    const key = { collector: collectorUrl, key: sk }
    // The CRM's own stage names and the email as the CRM spells it.
    const sql = await sendDealChanges({ dealId: 'CRM-77', email: 'Ada.Loop@Example.com', stage: 'Qualified To Buy', amount: AMOUNT }, key)
    expect(sql).toMatchObject({ stage: 'sql', linked: true, leadId })
    await sleep(5)
    const won = await sendDealChanges({ dealId: 'CRM-77', email: EMAIL, stage: 'Closed Won', amount: AMOUNT }, key)
    expect(won).toMatchObject({ dealId: 'CRM-77', stage: 'won', linked: true, leadId })
    const lead = await secret(`/v1/leads/${leadId}`)
    expect(lead.deals).toHaveLength(1)
    expect(lead.deals[0]).toMatchObject({ dealId: 'CRM-77', stage: 'won', amount: AMOUNT })
  })

  // Path [ad, newsletter]: the lead-creation, opportunity-creation and closed-won touch is the newsletter.
  const expected: Record<(typeof MODELS)[number], [number, number]> = {
    first_touch: [1, 0],
    last_touch: [0, 1],
    linear: [0.5, 0.5],
    time_decay: [NaN, NaN], // depends on the gap between the touches: computed in the test
    position_based: [0.5, 0.5],
    w_shaped: [1 / 3, 2 / 3], // 30 first : 30 lead + 30 opportunity, renormalised (no middle)
    full_path: [0.25, 0.75], // 22.5 first : 3 × 22.5, renormalised
    markov: [0.5, 0.5], // removing either state kills the one conversion
    shapley: [0.5, 0.5], // the conversion needs both
  }
  for (const model of MODELS) {
    it(`${model} credits the ${AMOUNT} won to the right campaigns`, async () => {
      const body = await secret(`/v1/reports/attribution?model=${model}&by=campaign&conversion=won`)
      expect(body).toMatchObject({ model, by: 'campaign', conversion: 'won' })
      const rev: Record<string, number> = Object.fromEntries(body.rows.map((r: { key: string; revenue: number }) => [r.key, r.revenue]))
      const credited = body.rows.reduce((s: number, r: { revenue: number }) => s + r.revenue, 0)
      expect(credited).toBeCloseTo(AMOUNT, 2)
      expect(body.totals.revenue).toBeCloseTo(AMOUNT, 2)
      expect(body.totals.conversions).toBeCloseTo(1, 6)
      expect(body.coverage).toMatchObject({ conversions: 1, revenue: 1 })
      // Only the two campaigns get revenue, in the model's shares.
      expect(Object.keys(rev).filter((k) => rev[k] > 0).sort()).toEqual(
        [PAID.campaign, MAIL.campaign].filter((_, i) => !(expected[model][i] === 0)).sort(),
      )
      let [paid, mail] = expected[model]
      if (model === 'time_decay') {
        // Weights 2^(-age / 7 days): the share depends only on the gap between the two touches, and
        // the newsletter touch, the more recent one, weighs (a hair) more.
        paid = 1 / (1 + 2 ** (gap / (7 * 86_400_000)))
        mail = 1 - paid
        expect(rev[MAIL.campaign]).toBeGreaterThan(rev[PAID.campaign])
      }
      expect(rev[PAID.campaign] ?? 0).toBeCloseTo(paid * AMOUNT, 4)
      expect(rev[MAIL.campaign] ?? 0).toBeCloseTo(mail * AMOUNT, 4)
    })
  }
})
