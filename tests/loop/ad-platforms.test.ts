// Conversions back to the ad platforms, every part real but the platforms (local stubs of the Google
// Ads API, Meta's Conversions API and LinkedIn's, written from their public documentation): Chromium
// lands on the example site three times, from a Google ad (gclid), a Facebook ad (fbclid) and a
// LinkedIn ad (li_fat_id), with the Meta pixel's `_fbp` cookie on the site; the tracker fills the
// lead form, the example form backend identifies the visitor, and the deal is won through the deals
// API. Each platform receives exactly one conversion with the deal's value and time, its own click
// ID (Meta's as fbc with the click time, plus fbp) and the e-mail hashed by its rules, hashed here
// independently of the product's code. The requests as the stubs received them are printed.
import { createHash } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGoogleAdsStub, type GoogleAdsStub } from '../../packages/collector/test/http/stubs/google-ads-stub.js'
import { startLinkedInStub, type LinkedInStub } from '../../packages/collector/test/http/stubs/linkedin-stub.js'
import { startMetaStub, type MetaStub } from '../../packages/collector/test/http/stubs/meta-stub.js'
import type { DestinationRecord } from '../../packages/collector/src/index.js'
import { conversionKey } from '../../packages/collector/src/integrations/destinations/plan.js'
import { attribution } from '../support/tracker-page.js'
import { startCrmLoop, type CrmLoop } from '../support/crm-loop.js'
import { waitUntil } from '../support/wait.js'

const EMAIL = ' Ada.Lovelace@Example.COM '
const NORMALISED = 'ada.lovelace@example.com'
const AMOUNT = 18_450.75
const GCLID = 'Cj0KCQiA-loopGclid_123'
const FBCLID = 'IwAR3loopFbclid-abc'
const LI_FAT_ID = 'a1b2c3d4-loop-li-fat-id'
const GOOGLE_ACTION = '987654321'
const LINKEDIN_RULE = 'urn:lla:llaPartnerConversion:1111'

/** Screenshots go where the dashboard tests put theirs (ignored by git). */
const SHOTS = fileURLToPath(new URL('../../test-output/dashboard/', import.meta.url))

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex')
/** `yyyy-mm-dd hh:mm:ss+00:00`, written here from the ISO string rather than the adapter's formatter. */
const googleTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + '+00:00'

let loop: CrmLoop
let google: GoogleAdsStub
let meta: MetaStub
let linkedin: LinkedInStub
const dest: Record<'google' | 'meta' | 'linkedin', DestinationRecord> = {} as never

beforeAll(async () => {
  loop = await startCrmLoop('ad-platforms-loop')
  // Google takes a click's conversions from 6 hours after the click (TOO_RECENT_EVENT before): its
  // clock runs 7 hours ahead here, as if the deal were won the same day and uploaded that evening.
  google = await startGoogleAdsStub({ actions: [GOOGLE_ACTION], now: () => Date.now() + 7 * 3_600_000 })
  meta = await startMetaStub()
  linkedin = await startLinkedInStub()
  const g = google.options
  dest.google = (await loop.addDestination('google-ads', ['won=Closed deal'], {
    'client-id': g.clientId, 'client-secret': g.clientSecret, 'refresh-token': g.refreshToken, 'developer-token': g.developerToken,
    'customer-id': g.customerId, action: `Closed deal=${GOOGLE_ACTION}`, 'api-base': google.url, 'token-url': google.tokenUrl,
  })).record
  dest.meta = (await loop.addDestination('meta', ['won=Purchase'], { 'pixel-id': meta.pixelId, 'access-token': meta.token, 'api-base': meta.url })).record
  dest.linkedin = (await loop.addDestination('linkedin', ['won=Closed deal'], { 'access-token': linkedin.token, 'conversion-urn': LINKEDIN_RULE, 'api-base': linkedin.url })).record
})

afterAll(async () => {
  await loop?.close()
  await Promise.all([google?.close(), meta?.close(), linkedin?.close()])
})

describe('conversions back to Google Ads, Meta and LinkedIn: ad clicks → form → identify → won deal', () => {
  let visitorId = ''
  let leadId = ''
  let fbp = ''
  const clickAt: Record<string, number> = {}

  it('Chromium lands from three ads with the Meta pixel cookie, and the lead form identifies the visitor', async () => {
    // The Meta pixel's first-party cookie, as it sets it on the site's registrable domain.
    fbp = `fb.1.${Date.now() - 60_000}.${1_000_000_000 + Math.floor(Math.random() * 8_999_999_999)}`
    await loop.context.addCookies([{ name: '_fbp', value: fbp, domain: '.example.test', path: '/', sameSite: 'Lax' }])
    const page = await loop.context.newPage()
    for (const [param, value, path] of [['gclid', GCLID, '/pricing.html'], ['fbclid', FBCLID, '/webinar.html'], ['li_fat_id', LI_FAT_ID, '/demo.html']] as const) {
      const before = Date.now()
      await page.goto(`${loop.siteOrigin}${path}?${param}=${value}`)
      visitorId = (await attribution(page)).visitorId
      // The landing's touch is stored with its click ID before the next ad click.
      const touch = await waitUntil(async () => (await loop.api(`/v1/privacy/export?visitorId=${visitorId}`)).touches.find((t: { click_id?: string }) => t.click_id === value), `the ${param} touch`, 10_000)
      expect(touch).toMatchObject({ click_id_type: param, fbp })
      expect(touch.ts).toBeGreaterThanOrEqual(before - 1000)
      expect(touch.ts).toBeLessThanOrEqual(Date.now())
      clickAt[param] = touch.ts
    }
    await page.close()
    // Google knows its click (the stub refuses unknown gclids and conversions before the click).
    google.clicks.set(GCLID, clickAt.gclid)

    const sent = await loop.visitAndSubmit({ landing: '/index.html', email: EMAIL, name: 'Ada Lovelace' })
    expect(sent.visitorId).toBe(visitorId)
    expect(sent.fields).toMatchObject({ cl_visitor_id: visitorId, cl_lt_click_id: LI_FAT_ID, cl_lt_click_id_type: 'li_fat_id' })
    leadId = sent.leadId
    const lead = await loop.api(`/v1/leads/${leadId}`)
    expect(lead.touches.map((t: { click_id: string | null }) => t.click_id)).toEqual([GCLID, FBCLID, LI_FAT_ID])
  })

  it('the deal won through the API reaches each platform once, with its value, time, click ID and hashes', async () => {
    const wonAt = Date.now()
    const r = await fetch(`${loop.collectorUrl}/v1/deals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${loop.secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deals: [{ dealId: 'ads-loop-1', leadId, stage: 'won', amount: AMOUNT, ts: wonAt }] }),
    })
    expect(r.status, await r.text()).toBe(200)
    await waitUntil(() => google.conversions.size > 0 && meta.events.size > 0 && linkedin.events.size > 0 && true, 'a conversion at each platform', 15_000)
    // Give a second send, were there one, the time to arrive.
    await new Promise((res) => setTimeout(res, 500))
    const currency = loop.site.currency

    // Google Ads: one click conversion on the action, by gclid, with the row key as orderId.
    const uploads = google.uploads()
    expect(uploads).toHaveLength(1)
    expect(uploads[0].partialFailure).toBe(true)
    expect(uploads[0].conversions).toHaveLength(1)
    const g = uploads[0].conversions[0]
    expect(g).toEqual({
      conversionAction: `customers/${google.options.customerId}/conversionActions/${GOOGLE_ACTION}`,
      conversionDateTime: googleTime(wonAt), orderId: expect.stringMatching(/^cl_[0-9a-f]{32}$/),
      conversionValue: AMOUNT, currencyCode: currency, gclid: GCLID,
    })
    expect([...google.conversions.keys()]).toEqual([`${GOOGLE_ACTION}|${g.orderId}`])

    // Meta: one system_generated event; fbc from the fbclid and its click time, the pixel's fbp, hashed e-mail and lead ID.
    const metaPosts = meta.requests.filter((q) => q.path.endsWith('/events'))
    expect(metaPosts).toHaveLength(1)
    const events = (metaPosts[0].body as { data: Array<Record<string, unknown>> }).data
    expect(events).toEqual([{
      event_name: 'Purchase', event_time: Math.floor(wonAt / 1000), event_id: expect.stringMatching(/^cl_[0-9a-f]{32}$/), action_source: 'system_generated',
      user_data: { em: [sha256(NORMALISED)], fbc: `fb.1.${clickAt.fbclid}.${FBCLID}`, fbp, external_id: [sha256(leadId)] },
      custom_data: { lead_event_source: 'Closeloop', event_source: 'crm', value: AMOUNT, currency },
    }])
    expect([...meta.events.keys()]).toEqual([`Purchase|${events[0].event_id}`])

    // LinkedIn: one conversion event on the rule, by hashed e-mail and li_fat_id, with the row key as eventId.
    const liPosts = linkedin.requests.filter((q) => q.path === '/rest/conversionEvents')
    expect(liPosts).toHaveLength(1)
    expect(liPosts[0].headers['linkedin-version']).toMatch(/^20\d{4}$/)
    const elements = (liPosts[0].body as { elements: Array<Record<string, unknown>> }).elements
    expect(elements).toEqual([{
      conversion: LINKEDIN_RULE, conversionHappenedAt: wonAt, conversionValue: { currencyCode: currency, amount: String(AMOUNT) },
      user: { userIds: [{ idType: 'SHA256_EMAIL', idValue: sha256(NORMALISED) }, { idType: 'LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID', idValue: LI_FAT_ID }] },
      eventId: expect.stringMatching(/^cl_[0-9a-f]{32}$/),
    }])
    expect([...linkedin.events.keys()]).toEqual([`${LINKEDIN_RULE}|${elements[0].eventId}`])

    // Each ID is the key of its own (destination, lead, stage) outbox row, so a resend is recognised.
    expect([g.orderId, events[0].event_id, elements[0].eventId]).toEqual([dest.google, dest.meta, dest.linkedin].map((d) => conversionKey(d.id, leadId, 'won')))
    expect(new Set([g.orderId, events[0].event_id, elements[0].eventId]).size).toBe(3)
    const status = await loop.api('/v1/reports/destinations')
    const sent = (status.destinations as Array<{ id: string; stages: Array<{ stage: string; sent: number; pending: number; failed: number }> }>)
      .map((d) => [d.id, d.stages.map((s) => [s.stage, s.sent, s.pending, s.failed])])
    expect(sent.sort()).toEqual([[dest.google.id, [['won', 1, 0, 0]]], [dest.meta.id, [['won', 1, 0, 0]]], [dest.linkedin.id, [['won', 1, 0, 0]]]].sort())

    const show = (name: string, q: { method: string; path: string; headers: Record<string, unknown>; body: unknown }, headers: string[]) =>
      `${name} received: ${q.method} ${q.path}\n${headers.map((h) => `${h}: ${String(q.headers[h])}`).join('\n')}\n${JSON.stringify(q.body, null, 2)}`
    const upload = google.requests.find((q) => q.path.endsWith(':uploadClickConversions'))!
    console.info(show('Google Ads API', upload, ['developer-token', 'content-type']))
    console.info(show('Meta Conversions API', { ...metaPosts[0], path: `${metaPosts[0].path}?access_token=…` }, ['content-type']))
    console.info(show('LinkedIn Conversions API', liPosts[0], ['linkedin-version', 'x-restli-protocol-version', 'x-restli-method', 'content-type']))
  })

  it("the dashboard's Ad platforms view shows the won deal sent to each platform", async () => {
    const page = await loop.context.newPage()
    try {
      await page.setViewportSize({ width: 1280, height: 1400 })
      await page.goto(`${loop.collectorUrl}/dashboard`)
      await page.getByLabel('Secret key').fill(loop.secretKey)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.locator('#view[data-rendered^="overview"]').waitFor()
      await page.getByRole('link', { name: 'Ad platforms' }).click()
      await page.locator('#view[data-rendered^="destinations:"]').waitFor()
      for (const d of [dest.google, dest.meta, dest.linkedin]) {
        const section = page.locator(`section[data-destination="${d.id}"]`)
        expect(Number(await section.locator('[data-figure="wonSent"]').getAttribute('data-value'))).toBe(AMOUNT)
        expect(Number(await section.locator('[data-figure="sendableShare"]').getAttribute('data-value'))).toBe(1)
        const stages = await section.locator(`table[data-table="destination-${d.id}-stages"] tbody tr`).evaluateAll((trs) =>
          trs.map((tr) => [...tr.children].map((c) => c.getAttribute('data-value') ?? '')))
        expect(stages).toEqual([['won', d.kind === 'meta' ? 'Purchase' : 'Closed deal', '1', '0', '0', '0']])
      }
      mkdirSync(SHOTS, { recursive: true })
      await page.screenshot({ path: `${SHOTS}ad-platforms-loop.png`, fullPage: true })
    } finally {
      await page.close()
    }
  })
})
