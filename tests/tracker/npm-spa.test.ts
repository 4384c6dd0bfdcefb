// The npm build (dist/index.mjs) in a real single-page app: examples/spa imports createTracker,
// routes with history.pushState, and renders its lead form after load.
import { describe, expect, it } from 'vitest'
import { SPA_ROOT, formValues, useTrackerSuite } from '../support/index.js'

const suite = useTrackerSuite({ root: SPA_ROOT })
type Attribution = { visitorId: string; firstTouch: { source: string; campaign?: string } | null }
const attributionOf = (page: import('playwright-core').Page) =>
  page.waitForFunction(() => (window as unknown as { app?: { closeloop: { attribution(): unknown } } }).app?.closeloop.attribution()).then((h) => h.jsonValue() as Promise<Attribution>)

describe('the npm SDK in a single-page app', () => {
  it('counts pushState and popstate routes as pages of one visit and fills the form a route renders', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=google&utm_medium=cpc&utm_campaign=spa-launch&gclid=g1'))
    const a = await attributionOf(page)
    expect(a.firstTouch).toMatchObject({ source: 'google', campaign: 'spa-launch' })
    expect(await page.textContent('#first-touch')).toBe('google / cpc')

    await page.click('a[href="/pricing"]')
    await page.click('a[href="/contact"]')
    await page.waitForSelector('#lead')
    // Rendered after load: the tracker's MutationObserver adds and fills the hidden fields.
    await page.waitForFunction(() => (document.querySelector('#lead input[name="cl_visitor_id"]') as HTMLInputElement | null)?.value)
    const fields = await formValues(page, '#lead')
    expect(fields.cl_visitor_id).toBe(a.visitorId)
    expect([fields.cl_ft_source, fields.cl_ft_medium, fields.cl_ft_campaign, fields.cl_ft_click_id]).toEqual(['google', 'cpc', 'spa-launch', 'g1'])
    expect(fields.cl_ft_channel).toBe('Paid Search')
    await page.goBack()

    const pages = await suite.server.collect.waitForAccepted((es) => {
      const p = es.filter((e) => e.type == 'page')
      return p.length >= 4 && p
    }, 'four page views')
    expect(pages.map((e) => new URL(e.url ?? '').pathname)).toEqual(['/', '/pricing', '/contact', '/pricing'])
    // One visit: the landing page carries the touch, the routes carry none, each has the previous route as referrer.
    expect(pages.map((e) => !!e.touch)).toEqual([true, false, false, false])
    expect(new URL(pages[2].ref ?? '').pathname).toBe('/pricing')
    expect(new Set(pages.map((e) => e.sid)).size).toBe(1)
    expect(new Set(pages.map((e) => e.vid))).toEqual(new Set([a.visitorId]))
  })
})
