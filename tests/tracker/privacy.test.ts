// Consent and Global Privacy Control (options `consent`, `respect-gpc`): before consent
// nothing is stored or sent; after it, what was kept in memory is; denial removes what was stored.
import type { BrowserContext, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { attribution, call, sleep, storedState, useTrackerSuite } from '../support/index.js'

const suite = useTrackerSuite()
const GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true })"
/** Longer than the tracker's batch delay, so a request that was going to be sent has been. */
const QUIET_MS = 700

async function trackerStorage(context: BrowserContext, page: Page) {
  const { local } = await storedState(page)
  return {
    cookies: (await context.cookies()).filter((c) => c.name.startsWith('_cl')).map((c) => c.name),
    local: Object.keys(local).filter((k) => k.startsWith('_cl')),
  }
}

describe('consent pending', () => {
  it('stores and sends nothing, then on consent("granted") persists and sends the arrival it kept', async () => {
    suite.server.tag.consent = 'pending'
    const { context, page } = await suite.open()
    const landing = suite.server.url('/contact.html?utm_source=newsletter&utm_medium=email&utm_campaign=consent_test')
    await page.goto(landing)
    const before = await attribution(page)
    await call(page, 'track', 'before_consent')
    await sleep(QUIET_MS)
    expect(await trackerStorage(context, page)).toEqual({ cookies: [], local: [] })
    expect(suite.server.collect.requests).toHaveLength(0)

    await call(page, 'consent', 'granted')
    const events = await suite.server.collect.waitForAccepted((es) => es.length >= 2 && es, 'the kept events after consent')
    const stored = await trackerStorage(context, page)
    expect(stored.cookies).toEqual(expect.arrayContaining(['_cl_vid', '_cl_ft', '_cl_lt', '_cl_s']))
    const pageEvent = events.find((e) => e.type == 'page')
    expect(pageEvent).toMatchObject({ vid: before.visitorId, url: landing })
    expect(pageEvent?.touch).toMatchObject({ source: 'newsletter', medium: 'email', campaign: 'consent_test', channel: 'Email' })
    expect(events.some((e) => e.name == 'before_consent')).toBe(true)
    // With consent the forms get their fields.
    await page.waitForFunction(() => (document.querySelector('#lead-form [name=cl_visitor_id]') as HTMLInputElement | null)?.value)
    expect(await page.$eval('#lead-form [name=cl_ft_campaign]', (e) => (e as HTMLInputElement).value)).toBe('consent_test')

    // Persisted for real: a later page in this context still knows the visitor and the first touch.
    await page.goto(suite.server.url('/pricing.html'))
    const later = await attribution(page)
    expect(later.visitorId).toBe(before.visitorId)
    expect(later.firstTouch?.campaign).toBe('consent_test')
  })
})

describe('consent denied', () => {
  it('as the tag option: removes what an earlier visit stored and sends nothing', async () => {
    const { context, page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email'))
    await attribution(page)
    await suite.server.collect.waitForAccepted((es) => es.length > 0, 'the granted visit')
    expect((await trackerStorage(context, page)).cookies).toContain('_cl_vid')

    suite.server.tag.consent = 'denied'
    const sentBefore = suite.server.collect.requests.length
    await page.goto(suite.server.url('/contact.html?utm_source=other&utm_medium=cpc'))
    await attribution(page)
    await call(page, 'track', 'after_denial')
    await sleep(QUIET_MS)
    expect(await trackerStorage(context, page)).toEqual({ cookies: [], local: [] })
    expect(suite.server.collect.requests.length).toBe(sentBefore)
    // Leaving the page must not beacon anything either.
    await page.goto('about:blank')
    await sleep(300)
    expect(suite.server.collect.requests.length).toBe(sentBefore)
  })

  it('through consent("denied"): clears storage and stops sending', async () => {
    const { context, page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email'))
    await attribution(page)
    await suite.server.collect.waitForAccepted((es) => es.length > 0, 'the granted visit')
    await call(page, 'consent', 'denied')
    const sentBefore = suite.server.collect.requests.length
    expect(await trackerStorage(context, page)).toEqual({ cookies: [], local: [] })
    await call(page, 'track', 'after_denial')
    await sleep(QUIET_MS)
    expect(suite.server.collect.requests.length).toBe(sentBefore)
    expect(await trackerStorage(context, page)).toEqual({ cookies: [], local: [] })
  })
})

describe('Global Privacy Control', () => {
  it('navigator.globalPrivacyControl = true: nothing stored or sent', async () => {
    const { context, page } = await suite.open({ init: [GPC_ON] })
    await page.goto(suite.server.url('/contact.html?utm_source=google&utm_medium=cpc&gclid=gpc-test'))
    expect(await page.evaluate(() => (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl)).toBe(true)
    await attribution(page)
    await call(page, 'track', 'with_gpc')
    await sleep(QUIET_MS)
    await page.goto('about:blank')
    await sleep(300)
    expect(suite.server.collect.requests).toHaveLength(0)
    expect((await context.cookies()).filter((c) => c.name.startsWith('_cl'))).toEqual([])
  })

  it('is ignored with data-respect-gpc="false"', async () => {
    suite.server.tag['respect-gpc'] = 'false'
    const { context, page } = await suite.open({ init: [GPC_ON] })
    await page.goto(suite.server.url('/?utm_source=google&utm_medium=cpc'))
    await attribution(page)
    await suite.server.collect.waitForAccepted((es) => es.length > 0, 'events despite GPC')
    expect((await trackerStorage(context, page)).cookies).toContain('_cl_vid')
  })
})

describe('Google Consent Mode v2 (data-consent="gtag")', () => {
  /** The snippet Google documents for a page with gtag.js, consent defaults first (the gtag.js
   * script itself is left out: no network). An init script runs inside a function, so the snippet
   * goes through a global eval to declare `gtag` on the page as its inline <script> would. */
  const GTAG = (defaults: string) =>
    `(0, eval)(${JSON.stringify(`window.dataLayer = window.dataLayer || [];
     function gtag(){dataLayer.push(arguments);}
     gtag('consent', 'default', ${defaults});
     gtag('js', new Date());
     gtag('config', 'G-TEST000000');`)})`
  const gtag = (page: Page, ...args: unknown[]) =>
    page.evaluate((a) => (window as unknown as { gtag: (...a: unknown[]) => void }).gtag(...a), args)

  it('default denied: nothing stored or sent; update granted persists and sends what it kept', async () => {
    suite.server.tag.consent = 'gtag'
    const { context, page } = await suite.open({
      init: [GTAG("{ ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', analytics_storage: 'denied', wait_for_update: 500 }")],
    })
    const landing = suite.server.url('/contact.html?utm_source=newsletter&utm_medium=email&utm_campaign=gtag_test')
    await page.goto(landing)
    await sleep(QUIET_MS)
    expect(await trackerStorage(context, page)).toEqual({ cookies: [], local: [] })
    expect(suite.server.collect.requests).toHaveLength(0)
    expect(await page.$$eval('#lead-form input[name^="cl_"]', (els) => els.length)).toBe(0)

    // The consent banner's "accept": the page's own gtag call, nothing else.
    await gtag(page, 'consent', 'update', { ad_storage: 'granted', analytics_storage: 'granted' })
    const events = await suite.server.collect.waitForAccepted((es) => es.some((e) => e.type == 'page') && es, 'the page event kept until consent')
    const pageEvent = events.find((e) => e.type == 'page')
    expect(pageEvent).toMatchObject({ url: landing })
    expect(pageEvent?.touch).toMatchObject({ source: 'newsletter', medium: 'email', campaign: 'gtag_test' })
    const stored = await trackerStorage(context, page)
    expect(stored.cookies).toEqual(expect.arrayContaining(['_cl_vid', '_cl_ft', '_cl_lt', '_cl_s']))
    await page.waitForFunction(() => (document.querySelector('#lead-form [name=cl_ft_campaign]') as HTMLInputElement | null)?.value == 'gtag_test')

    // A later refusal removes it all and stops sending.
    const sentBefore = suite.server.collect.requests.length
    await gtag(page, 'consent', 'update', { analytics_storage: 'denied' })
    await call(page, 'track', 'after_refusal')
    await sleep(QUIET_MS)
    expect(await trackerStorage(context, page)).toEqual({ cookies: [], local: [] })
    expect(suite.server.collect.requests.length).toBe(sentBefore)
  })

  it('default granted tracks at once', async () => {
    suite.server.tag.consent = 'gtag'
    const { context, page } = await suite.open({ init: [GTAG("{ analytics_storage: 'granted' }")] })
    await page.goto(suite.server.url('/?utm_source=google&utm_medium=cpc'))
    await suite.server.collect.waitForAccepted((es) => es.some((e) => e.type == 'page'), 'the page event')
    expect((await trackerStorage(context, page)).cookies).toContain('_cl_vid')
  })
})

describe('Do Not Track (data-respect-dnt="true")', () => {
  const DNT_ON = "Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1', configurable: true })"

  it('DNT: 1 with respect-dnt: nothing stored or sent, like GPC', async () => {
    suite.server.tag['respect-dnt'] = 'true'
    const { context, page } = await suite.open({ init: [DNT_ON] })
    await page.goto(suite.server.url('/contact.html?utm_source=google&utm_medium=cpc&gclid=dnt-test'))
    expect(await page.evaluate(() => navigator.doNotTrack)).toBe('1')
    await attribution(page)
    await call(page, 'track', 'with_dnt')
    await call(page, 'consent', 'granted')
    await sleep(QUIET_MS)
    await page.goto('about:blank')
    await sleep(300)
    expect(suite.server.collect.requests).toHaveLength(0)
    expect((await context.cookies()).filter((c) => c.name.startsWith('_cl'))).toEqual([])
  })

  it('DNT is ignored without respect-dnt (the default)', async () => {
    const { context, page } = await suite.open({ init: [DNT_ON] })
    await page.goto(suite.server.url('/?utm_source=google&utm_medium=cpc'))
    await attribution(page)
    await suite.server.collect.waitForAccepted((es) => es.length > 0, 'events despite DNT')
    expect((await trackerStorage(context, page)).cookies).toContain('_cl_vid')
  })
})
