// The closed loop with a CRM, for one end-to-end test per CRM: a real collector (`startServer`, so
// its CRM worker drains the webhook inbox and the write-back outbox), the example site served with
// the BUILT tracker, the example form backend calling /v1/identify, and real Chromium. The CRM
// itself is the test's: it starts its CRM's API stub, connects it with `connect` (as
// `closeloop crm add` does) and fires the CRM's webhook at `inboundUrl`. Its delivery worker sends
// conversions to the ad platforms added with `addDestination` (the test's stubs of their APIs).
//
// Used as:
//   const loop = await startCrmLoop('hubspot-loop')
//   const record = await loop.connect('hubspot', { token, 'client-secret': s, 'api-base': stub.url })
//   const { visitorId, leadId } = await loop.visitAndSubmit({ landing: '/pricing.html?utm_source=…', email })
//   … the CRM stub holds the deal and calls loop.inboundUrl(record) (with the path token, if any) …
//   await loop.report('campaign')
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext } from 'playwright-core'
import { expect } from 'vitest'
import {
  type CrmConnectionRecord,
  type RunningServer,
  type Site,
  type Store,
  DEFAULTS,
  createSite,
  loadInstallKeys,
  openStore,
  serveExampleSite,
  startServer,
} from '../../packages/collector/src/index.js' // @closeloop/collector's public entry, from source like the other loop tests
import { addConnection, inboundPathOf } from '../../packages/collector/src/integrations/crm/connections.js'
import { addDestination, type AddedDestination } from '../../packages/collector/src/integrations/destinations/destinations.js'
// @ts-expect-error: a plain .mjs example without type declarations
import { startFormBackend } from '../../examples/form-backend/server.mjs'
import { launchBrowser } from './browser.js'
import { attribution } from './tracker-page.js'
import { waitUntil } from './wait.js'

/** Headless Chromium says HeadlessChrome, which isbot (rightly) counts as a bot. */
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'
/** Host names browser.ts maps to 127.0.0.1: the site, and its collector on another host (cross-origin). */
const SITE_HOST = 'www.example.test'
const COLLECTOR_HOST = 't.example.test'

export interface AttributionRow {
  key: string
  revenue: number
  conversions: number
}

export interface CrmLoop {
  /** The collector as Node (and the CRM stub) reach it. */
  collectorUrl: string
  /** The example site as the browser reaches it (http://www.example.test:PORT). */
  siteOrigin: string
  store: Store
  site: Site
  secretKey: string
  browser: Browser
  context: BrowserContext
  /** Adds a CRM connection to the loop's site, as `closeloop crm add` does (options are that command's). */
  connect(kind: string, options: Record<string, string>, writeBack?: boolean): Promise<CrmConnectionRecord>
  /** Adds an ad-platform destination to the loop's site, as `closeloop destinations add` does. */
  addDestination(kind: string, send: string[], options: Record<string, string>): Promise<AddedDestination>
  /** The URL the CRM calls with its webhooks for this connection: ending in its path token when its CRM cannot sign (Salesforce). */
  inboundUrl(record: CrmConnectionRecord): string
  /**
   * A visitor lands on `landing` (path and query on the example site), goes to the contact page,
   * fills the lead form and submits it: the tracker fills the hidden cl_* fields and the form
   * backend identifies the visitor. Resolves with what the thank-you page shows and the form sent.
   */
  visitAndSubmit(input: { landing: string; email: string; name?: string }): Promise<{ visitorId: string; leadId: string; fields: Record<string, string> }>
  /** GET a secret-key API path of the collector (JSON); throws on a non-2xx answer. */
  api(path: string): Promise<any>
  /** The attribution report's rows with revenue, most first (default model, `won`). */
  report(by: 'channel' | 'campaign' | 'source', query?: string): Promise<AttributionRow[]>
  close(): Promise<void>
}

/** How often the loop's collector looks for conversions to send to ad platforms, ms. */
const DELIVERY_POLL_MS = 100

export async function startCrmLoop(name: string): Promise<CrmLoop> {
  const dir = mkdtempSync(join(tmpdir(), `closeloop-${name}-`))
  // The site exists before the server opens the store; its origin (with the site server's port) is set below.
  const setup = await openStore({ dataDir: dir })
  const created = await createSite(setup, { name, origins: [`http://${SITE_HOST}`] })
  await setup.close()
  const server: RunningServer = await startServer(
    { ...DEFAULTS, dataDir: dir, host: '127.0.0.1', port: 0, crmSyncMinutes: 0 },
    { logger: false, crm: { pollMs: 100, backoff: { baseMs: 100, capMs: 1000, giveUpAfterMs: 60_000 } }, destinations: { pollMs: DELIVERY_POLL_MS } },
  )
  const store = server.app.closeloop.store
  const collectorUrl = server.url
  const collectorPublic = collectorUrl.replace('127.0.0.1', COLLECTOR_HOST)
  const secretKey = created.secretKey
  const integrationKey = loadInstallKeys({ dataDir: dir }).integrationKey
  const form: { url: string; close(): Promise<void> } = await startFormBackend({ collector: collectorUrl, secretKey, host: '127.0.0.1', port: 0 })
  const siteServer = await serveExampleSite({ collector: collectorPublic, site: created.site.publicKey, formAction: `${form.url}/submit`, host: '127.0.0.1', port: 0 })
  const siteOrigin = siteServer.url.replace('127.0.0.1', SITE_HOST)
  const site = await store.updateSite(created.site.id, { origins: [siteOrigin] })
  const browser = await launchBrowser()
  const context = await browser.newContext({ userAgent: UA })

  const api = async (path: string) => {
    const res = await fetch(`${collectorUrl}${path}`, { headers: { authorization: `Bearer ${secretKey}` } })
    const body = await res.json()
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`)
    return body
  }

  return {
    collectorUrl, siteOrigin, store, site, secretKey, browser, context, api,
    addDestination: (kind, send, options) => addDestination(store, integrationKey, { site, kind, send, options }),
    connect: (kind, options, writeBack = true) =>
      // The collector's URL as the CRM calls it: what HubSpot-style signatures cover.
      addConnection(store, integrationKey, { site, kind, writeBack, options: { 'public-url': collectorUrl, ...options } }),
    inboundUrl: (record) => `${collectorUrl}${inboundPathOf(record, integrationKey)}`,

    async visitAndSubmit({ landing, email, name = 'Loop Tester' }) {
      const page = await context.newPage()
      try {
        await page.goto(`${siteOrigin}${landing}`)
        const { visitorId } = await attribution(page)
        // The landing is durably stored before the form is sent: its touch is on the lead's journey.
        const path = landing.split('?')[0]
        await waitUntil(async () => (await api(`/v1/privacy/export?visitorId=${visitorId}`)).events.some((e: { url?: string }) => String(e.url).includes(path)), 'the landing stored', 10_000)
        await Promise.all([page.waitForURL(/\/contact\.html$/), page.click('nav a[href="/contact.html"]')])
        await page.fill('#lead-form input[name=name]', name)
        await page.fill('#lead-form input[name=email]', email)
        const [post] = await Promise.all([
          page.waitForRequest((r) => r.url() === `${form.url}/submit` && r.method() === 'POST'),
          page.waitForURL(`${form.url}/submit`),
          page.click('#lead-form button[type=submit]'),
        ])
        const fields = Object.fromEntries(new URLSearchParams(post.postData() ?? ''))
        const leadId = ((await page.textContent('[data-lead-id]')) ?? '').trim()
        if (leadId === '') throw new Error(`the form backend showed no lead: ${await page.textContent('body')}`)
        return { visitorId, leadId, fields }
      } finally {
        await page.close()
      }
    },

    async report(by, query = '') {
      const body = await api(`/v1/reports/attribution?by=${by}&conversion=won${query}`)
      return (body.rows as AttributionRow[]).filter((r) => r.revenue > 0).sort((a, b) => b.revenue - a.revenue)
    },

    async close() {
      await context.close().catch(() => undefined)
      await browser.close().catch(() => undefined)
      await siteServer.close()
      await form.close()
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** An ad click's UTM values. */
export interface Ad { source: string; medium: string; campaign: string }

/**
 * The visitor arrives from `ad` on the pricing page and submits the lead form (loop.visitAndSubmit);
 * checks that the tracker's hidden fields carried the ad's touch into the form and that the
 * identified lead has this one visitor and this one touch.
 */
export async function submitFromAd(loop: CrmLoop, ad: Ad, email: string, name: string): Promise<{ visitorId: string; leadId: string }> {
  const sent = await loop.visitAndSubmit({ landing: `/pricing.html?utm_source=${ad.source}&utm_medium=${ad.medium}&utm_campaign=${ad.campaign}`, email, name })
  expect(sent.fields).toMatchObject({ cl_visitor_id: sent.visitorId, cl_ft_source: ad.source, cl_ft_medium: ad.medium, cl_ft_campaign: ad.campaign, email })
  const lead = await loop.api(`/v1/leads/${sent.leadId}`)
  expect(lead.visitorIds).toEqual([sent.visitorId])
  expect(lead.touches.map((t: Record<string, string>) => [t.source, t.medium, t.campaign])).toEqual([[ad.source, ad.medium, ad.campaign]])
  return { visitorId: sent.visitorId, leadId: sent.leadId }
}
