// Delivery: batches to /v1/collect, retries after failures without double
// counting, and sends the queue (sendBeacon or keepalive fetch) when the page goes away.
import { describe, expect, it } from 'vitest'
import { TRANSPORT_PROBE, attribution, call, useTrackerSuite } from '../support/index.js'

const suite = useTrackerSuite()

describe('a collector that fails', () => {
  it('answering 503 twice then 200: every event arrives and no id is accepted twice', async () => {
    // A collector on another origin, as in production (t.example.com): credentialed CORS must work.
    suite.server.collectorHost = 't.example.test'
    suite.server.collect.failNext(2)
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=partner&utm_medium=affiliate&utm_campaign=retry'))
    await attribution(page)
    for (const n of [1, 2, 3]) await call(page, 'track', 'cta_click', { n })

    const collect = suite.server.collect
    const clicks = <E extends { name?: string }>(es: E[]) => es.filter((e) => e.name == 'cta_click')
    const accepted = await collect.waitForAccepted((es) => clicks(es).length >= 3 && es, 'page + 3 track events after retries', 15_000)
    expect(collect.requests.filter((r) => r.status == 503).length).toBe(2)
    expect(accepted.filter((e) => e.type == 'page')).toHaveLength(1)
    expect(clicks(accepted).map((e) => e.props)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
    // The retried batch carries the same ids: what was sent during the failures is what was accepted.
    const sentIds = new Set(collect.sent().map((e) => e.id))
    expect(new Set(accepted.map((e) => e.id))).toEqual(sentIds)
    for (const [id, count] of collect.acceptCounts()) expect({ id, count }).toEqual({ id, count: 1 })
    expect(collect.requests.every((r) => r.origin == suite.server.origin('www.example.test'))).toBe(true)
    expect(collect.requests.every((r) => r.host == `t.example.test:${suite.server.port}`)).toBe(true)

    // Nothing is left in the persisted queue once delivered.
    await page.waitForFunction(() => !localStorage.getItem('_cl_q'), undefined, { timeout: 3_000 })
  })

  it('delivers events that failed during the visit once the collector is back, under their first id', async () => {
    suite.server.collect.failNext(1_000)
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=partner&utm_medium=affiliate'))
    const a = await attribution(page)
    await call(page, 'track', 'queued_while_down')
    await page.waitForFunction(() => (localStorage.getItem('_cl_q') ?? '').includes('queued_while_down'))
    suite.server.collect.failNext(0)
    await page.goto(suite.server.url('/pricing.html'))
    const accepted = await suite.server.collect.waitForAccepted(
      (es) => es.some((e) => e.name == 'queued_while_down') && es.some((e) => e.url?.endsWith('/pricing.html')) && es,
      'the queued track event and the next page view',
      8_000,
    )
    // A retry reuses the event's id: one logical event, one id, however often it was sent. (A batch
    // in flight when the page hides may also go out in the beacon; the collector dedupes by id.)
    expect(accepted.filter((e) => e.name == 'queued_while_down')).toHaveLength(1)
    expect(accepted.every((e) => e.vid == a.visitorId)).toBe(true)
  })

  it('keeps events whose pagehide beacon the collector refused, and delivers them from the next page', async () => {
    // The collector is down for the whole first visit, including the beacon sent when it ends.
    suite.server.collect.failNext(1_000)
    const { page } = await suite.open()
    const landing = suite.server.url('/?utm_source=partner&utm_medium=affiliate&utm_campaign=outage')
    await page.goto(landing)
    await attribution(page)
    await call(page, 'track', 'queued_while_down')
    await page.waitForFunction(() => (localStorage.getItem('_cl_q') ?? '').includes('queued_while_down'))
    await page.goto(suite.server.url('/pricing.html'))
    await attribution(page)
    suite.server.collect.failNext(0)
    // A beacon's answer is unreadable, so only a later send can tell whether it arrived; the event
    // ids make sending again safe.
    const pricing = suite.server.url('/pricing.html')
    await suite.server.collect.waitForAccepted((es) => es.some((e) => e.url == pricing), 'the second page view', 8_000)
    await suite.server.collect
      .waitForAccepted((es) => es.some((e) => e.name == 'queued_while_down'), 'the event queued during the outage', 4_000)
      .catch(() => undefined)
    const final = suite.server.collect.accepted()
    expect(final.map((e) => e.name ?? e.url)).toEqual(expect.arrayContaining([landing, 'queued_while_down', pricing]))
    // The landing page view carried the touch: losing it loses the visit's source.
    expect(final.find((e) => e.url == landing)?.touch).toMatchObject({ source: 'partner', campaign: 'outage' })
  })
})

describe('leaving the page', () => {
  it('sends what is queued on pagehide, with sendBeacon or a keepalive fetch', async () => {
    const { page } = await suite.open({ init: [TRANSPORT_PROBE] })
    await page.goto(suite.server.url('/pricing.html?utm_source=newsletter&utm_medium=email'))
    await attribution(page)
    // Wait for the page event's own batch so only the next event is left in the queue.
    await suite.server.collect.waitForAccepted((es) => es.length > 0, 'the page event')
    await page.evaluate(() => (window as unknown as { closeloop: (...a: unknown[]) => void }).closeloop('track', 'left_pricing'))
    // Leaving at once: the 300 ms batch timer has no chance to run, only pagehide can send it.
    await page.goto('about:blank')
    const [left] = await suite.server.collect.waitForAccepted((es) => es.filter((e) => e.name == 'left_pricing'), 'the event sent on pagehide')
    const request = suite.server.collect.requests.find((r) => r.body?.events.some((e) => e.id == left.id))
    expect(request?.query.get('leaving')).toBe('1')
    expect(['beacon', 'fetch-keepalive']).toContain(request?.query.get('via'))
    expect(request?.contentType).toMatch(/^text\/plain/)
  })

  it('an event tracked right before following a link arrives exactly once', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email'))
    await attribution(page)
    await page.evaluate(() => {
      ;(window as unknown as { closeloop: (...a: unknown[]) => void }).closeloop('track', 'nav_click', { to: 'pricing' })
      ;(document.querySelector('nav a[href="/pricing.html"]') as HTMLAnchorElement).click()
    })
    await page.waitForURL('**/pricing.html')
    await attribution(page)
    const accepted = await suite.server.collect.waitForAccepted(
      (es) => es.some((e) => e.name == 'nav_click') && es.filter((e) => e.type == 'page').length >= 2 && es,
      'the click and both page views',
      8_000,
    )
    expect(accepted.filter((e) => e.name == 'nav_click')).toHaveLength(1)
    expect(accepted.filter((e) => e.type == 'page')).toHaveLength(2)
  })

  it('re-sends an event delivered on pagehide at most once, however fast the visitor navigates', async () => {
    const { page } = await suite.open()
    for (const path of ['/', '/pricing.html', '/contact.html', '/webinar.html', '/demo.html']) {
      await page.goto(suite.server.url(path))
      await attribution(page)
      await call(page, 'track', 'viewed' + path)
    }
    await page.goto('about:blank')
    const collect = suite.server.collect
    await collect.waitForAccepted((es) => es.filter((e) => e.name?.startsWith('viewed')).length >= 5, 'every page\'s event', 8_000)
    // A keepalive request's answer may land after the page is gone, so one extra copy is the price
    // of never losing an event; more copies mean delivered events linger in the persisted queue.
    const sends = new Map<string, { event: string; sends: number }>()
    for (const e of collect.sent()) {
      const seen = sends.get(e.id) ?? { event: e.name ?? `${e.type} ${new URL(e.url ?? '').pathname}`, sends: 0 }
      seen.sends++
      sends.set(e.id, seen)
    }
    const resentMoreThanOnce = [...sends.values()].filter((s) => s.sends > 2)
    expect(resentMoreThanOnce).toEqual([])
  })
})
