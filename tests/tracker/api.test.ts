// window.closeloop: the pre-load stub queue, decorate()/_clv across
// domains, the cookie-domain option across subdomains, identify and single-page navigations.
import { describe, expect, it } from 'vitest'
import { attribution, call, storedState, useTrackerSuite } from '../support/index.js'
import type { CollectEvent } from '../support/collect-recorder.js'

const suite = useTrackerSuite()
const ID = /^[A-Za-z0-9_-]{21}$/
type Api = (...a: unknown[]) => unknown
const STUB = 'window.closeloop=window.closeloop||function(){(closeloop.q=closeloop.q||[]).push(arguments)};'

describe('the pre-load stub', () => {
  it('replays queued calls in order once the script has loaded', async () => {
    // Queued before any page script; index.html then queues its own `home_viewed`.
    const { page } = await suite.open({ init: [STUB + "closeloop('track','queued_first',{n:1});closeloop('identify',{email:' Ada@Example.test '})"] })
    await page.goto(suite.server.url('/'))
    const a = await attribution(page)
    const events = await suite.server.collect.waitForAccepted((es) => es.length >= 4 && es, 'page + three replayed calls')
    expect(events.map((e) => e.type + (e.name ? ':' + e.name : ''))).toEqual(['page', 'track:queued_first', 'identify', 'track:home_viewed'])
    expect(events[1].props).toEqual({ n: 1 })
    // Normalising the address is the collector's job; the tracker passes it on.
    expect(String(events[2].traits?.email).trim()).toBe('Ada@Example.test')
    expect(events[3].props).toEqual({ hero: 'pipeline-v2' })
    expect(new Set(events.map((e) => e.vid))).toEqual(new Set([a.visitorId]))
  })

  it('replays a queued consent("granted") given before the script loaded', async () => {
    suite.server.tag.consent = 'pending'
    const { page } = await suite.open({ init: [STUB + "closeloop('consent','granted')"] })
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email'))
    const a = await attribution(page)
    const [pageEvent] = await suite.server.collect.waitForAccepted((es) => es.filter((e) => e.type == 'page'), 'the page event')
    expect(pageEvent.vid).toBe(a.visitorId)
    expect((await storedState(page)).cookies._cl_vid).toBe(a.visitorId)
  })
})

describe('decorate() and _clv', () => {
  const crossDomain = async () => {
    suite.server.tag['internal-domains'] = 'example.test,example-app.test'
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=google&utm_medium=cpc&utm_campaign=xdomain'))
    const home = await attribution(page)
    const appUrl = suite.server.url('/pricing.html', 'www.example-app.test')
    // Point the example's "free trial" link at the test's stand-in for the app domain.
    await page.$eval('#app-link', (a, href) => ((a as HTMLAnchorElement).href = href), appUrl)
    await page.click('#app-link')
    await page.waitForURL((u) => u.hostname == 'www.example-app.test')
    return { page, home, app: await attribution(page), appUrl }
  }

  it('carries the visitor to another domain through the example\'s decorated link', async () => {
    const { page, home, app } = await crossDomain()
    expect(app.visitorId).toBe(home.visitorId)
    // An internal domain's referral is no new touch from example.test.
    expect(app.firstTouch?.medium).not.toBe('referral')
    expect((await storedState(page)).cookies._cl_vid).toBe(home.visitorId)
    const events = await suite.server.collect.waitForAccepted((es) => es.filter((e) => e.type == 'page').length >= 2 && es, 'page views on both domains')
    const hosts = events.filter((e) => e.type == 'page').map((e) => new URL(e.url ?? '').hostname)
    expect(hosts).toEqual(['www.example.test', 'www.example-app.test'])
    expect(events.every((e) => e.vid == home.visitorId)).toBe(true)
  })

  it('takes _clv out of the address bar and the URLs it records, so a shared link merges no one', async () => {
    const { page, app, appUrl } = await crossDomain()
    const events = await suite.server.collect.waitForAccepted((es) => es.filter((e) => e.type == 'page').length >= 2 && es, 'page views on both domains')
    expect(events.map((e) => e.url).filter((u) => u?.includes('_clv'))).toEqual([])
    expect(JSON.stringify(app)).not.toContain('_clv')
    expect(page.url()).toBe(appUrl)
  })

  it('returns the URL with _clv set, and ignores a forged _clv that is no visitor ID', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/'))
    const a = await attribution(page)
    const decorated = await call<string>(page, 'decorate', 'https://app.acme-pipeline.net/signup?plan=growth#top')
    const u = new URL(decorated)
    expect(u.searchParams.get('_clv')).toBe(a.visitorId)
    expect(u.searchParams.get('plan')).toBe('growth')
    expect(u.hash).toBe('#top')

    const { page: other } = await suite.open()
    await other.goto(suite.server.url('/?_clv=' + encodeURIComponent('<script>window.__pwned=1</script>'), 'www.example-app.test'))
    const b = await attribution(other)
    expect(b.visitorId).toMatch(ID)
    expect(b.visitorId).not.toContain('script')
    expect(await other.evaluate(() => 'window.__pwned' in window || '__pwned' in window)).toBe(false)
  })
})

describe('cookie-domain', () => {
  it('shares visitor, touches and session across subdomains', async () => {
    suite.server.tag['cookie-domain'] = '.example.test'
    const { context, page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email&utm_campaign=sub'))
    const www = await attribution(page)
    expect((await context.cookies()).find((c) => c.name == '_cl_vid')?.domain).toBe('.example.test')
    await page.goto(suite.server.url('/pricing.html', 'app.example.test'))
    const app = await attribution(page)
    expect(app.visitorId).toBe(www.visitorId)
    expect(app.sessionId).toBe(www.sessionId)
    expect(app.firstTouch).toEqual(www.firstTouch)
  })

  it('without it, a subdomain is a different visitor (host-only cookies)', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email'))
    const www = await attribution(page)
    await page.goto(suite.server.url('/pricing.html', 'app.example.test'))
    const app = await attribution(page)
    expect(app.visitorId).not.toBe(www.visitorId)
  })
})

describe('other calls', () => {
  it('counts history.pushState navigations as pages, with the previous page as referrer', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email'))
    const { visitorId } = await attribution(page)
    await page.evaluate(() => history.pushState({}, '', '/pricing.html?tab=annual'))
    // This visitor's only: a keepalive send of the test before may land after it ended.
    const mine = (es: CollectEvent[]) => es.filter((e) => e.type == 'page' && e.vid == visitorId)
    const pages = await suite.server.collect.waitForAccepted((es) => mine(es).length >= 2 && mine(es), 'two page views')
    expect(pages[1].url).toBe(suite.server.url('/pricing.html?tab=annual'))
    expect(pages[1].ref).toBe(suite.server.url('/?utm_source=newsletter&utm_medium=email'))
    expect(pages[1].touch).toBeUndefined()
    expect(pages[1].sid).toBe(pages[0].sid)
  })

  it('localStorage restores a lost cookie', async () => {
    const { context, page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email&utm_campaign=restore'))
    const before = await attribution(page)
    // Safari's ITP and cookie cleaners drop script-set cookies; localStorage survives.
    await context.clearCookies()
    await page.goto(suite.server.url('/pricing.html'))
    const after = await attribution(page)
    expect(after.visitorId).toBe(before.visitorId)
    expect(after.firstTouch).toEqual(before.firstTouch)
    expect((await storedState(page)).cookies._cl_vid).toBe(before.visitorId)
  })

  it('the next page of a visit, its cookies whole, does not touch localStorage', async () => {
    // Every use of window.localStorage on a page is counted from before any page script runs.
    const count = `(() => {
      let o = window, d
      while (o && !(d = Object.getOwnPropertyDescriptor(o, 'localStorage'))) o = Object.getPrototypeOf(o)
      window.__lsUses = 0
      Object.defineProperty(window, 'localStorage', { configurable: true, get() { window.__lsUses++; return d.get.call(window) } })
    })()`
    const { page } = await suite.open({ init: [count] })
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email&utm_campaign=lean'))
    const first = await attribution(page)
    await suite.server.collect.waitForAccepted((es) => es.some((e) => e.type == 'page' && e.vid == first.visitorId) && es, 'the first page view')
    // The arrival wrote the mirror: a touch is what it keeps.
    expect(await page.evaluate(() => (window as unknown as { __lsUses: number }).__lsUses)).toBeGreaterThan(0)
    await page.goto(suite.server.url('/pricing.html'))
    const next = await attribution(page)
    await suite.server.collect.waitForAccepted((es) => es.filter((e) => e.type == 'page' && e.vid == first.visitorId).length >= 2 && es, 'the second page view')
    expect(await page.evaluate(() => (window as unknown as { __lsUses: number }).__lsUses)).toBe(0)
    expect([next.visitorId, next.sessionId, next.firstTouch]).toEqual([first.visitorId, first.sessionId, first.firstTouch])
    const stored = await storedState(page)
    expect(JSON.parse(stored.local._cl).ft).toEqual(first.firstTouch)
    expect(stored.cookies._cl_s.split('.')[0]).toBe(first.sessionId)
  })

  it('reset() starts a new visitor and forgets the touches', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email'))
    const before = await attribution(page)
    await call(page, 'reset')
    const after = await attribution(page)
    expect(after.visitorId).toMatch(ID)
    expect(after.visitorId).not.toBe(before.visitorId)
    expect(after.firstTouch).toBeNull()
    await page.reload()
    expect((await attribution(page)).visitorId).toBe(after.visitorId)
  })

  it('an unknown method or bad arguments never throw into the page', async () => {
    const { page } = await suite.open()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(suite.server.url('/'))
    await attribution(page)
    const results = await page.evaluate(() => {
      const cl = (window as unknown as { closeloop: Api }).closeloop
      const out: string[] = []
      for (const args of [['nope'], ['identify'], ['track'], ['decorate', '::not a url'], ['fillForms', 42], ['consent', { toString: null }]])
        try {
          cl(...args)
          out.push('ok')
        } catch (e) {
          out.push('threw: ' + String(e))
        }
      return out
    })
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok'])
    expect(errors).toEqual([])
  })
})
