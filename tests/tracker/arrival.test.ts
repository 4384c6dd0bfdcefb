// Arrivals and touches with the built script tag in
// real Chromium: what the tracker remembers, what it sends, and what lands in the site's forms.
import { describe, expect, it } from 'vitest'
import { FORM_FIELD_NAMES, FORM_PATH, REFERRER_PATH, attribution, formFieldNames, formValues, useTrackerSuite } from '../support/index.js'

const suite = useTrackerSuite()
const ID = /^[A-Za-z0-9_-]{21}$/

/** A touch timestamp in a form field: ISO 8601 or epoch milliseconds both name the same instant. */
const fieldTime = (v: string) => (/^\d+$/.test(v) ? Number(v) : Date.parse(v))

describe('arrival from a tagged ad click', () => {
  const query = '?utm_source=Google&utm_medium=CPC&utm_campaign=spring_launch&utm_term=crm+attribution&utm_content=ad-1&gclid=Cj0KCQ-test_1'

  it('records first and last touch, classifies the channel and sends the touch on the page event', async () => {
    const { page } = await suite.open()
    const landing = suite.server.url('/' + query)
    await page.goto(landing)
    const a = await attribution(page)

    expect(a.visitorId).toMatch(ID)
    expect(a.sessionId).toMatch(ID)
    expect(a.firstTouch).toMatchObject({
      source: 'google',
      medium: 'cpc',
      campaign: 'spring_launch',
      term: 'crm attribution',
      content: 'ad-1',
      click_id: 'Cj0KCQ-test_1',
      click_id_type: 'gclid',
      channel: 'Paid Search',
      landing,
    })
    expect(a.lastTouch).toEqual(a.firstTouch)

    const [pageEvent] = await suite.server.collect.waitForAccepted((es) => es.length > 0 && es, 'the page event')
    expect(pageEvent).toMatchObject({ type: 'page', vid: a.visitorId, sid: a.sessionId, url: landing })
    expect(pageEvent.id).toMatch(ID)
    expect(pageEvent.touch).toMatchObject({ source: 'google', medium: 'cpc', click_id_type: 'gclid', channel: 'Paid Search' })
    const request = suite.server.collect.requests[0]
    expect(request.body?.site).toBe(suite.server.site)
    // text/plain keeps the cross-origin POST a "simple" request: no CORS preflight.
    expect(request.contentType).toMatch(/^text\/plain/)
  })

  it('fills and adds the hidden fields of the lead form, and they are submitted once each', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/' + query))
    const a = await attribution(page)
    await page.click('nav a[href="/contact.html"]')
    await page.waitForURL('**/contact.html')
    await attribution(page)

    const values = await formValues(page, '#lead-form')
    expect(values).toMatchObject({
      cl_visitor_id: a.visitorId,
      cl_session_id: a.sessionId,
      cl_ft_source: 'google',
      cl_ft_medium: 'cpc',
      cl_ft_campaign: 'spring_launch',
      cl_ft_term: 'crm attribution',
      cl_ft_channel: 'Paid Search',
      cl_ft_click_id: 'Cj0KCQ-test_1',
      cl_ft_click_id_type: 'gclid',
      cl_ft_landing: suite.server.url('/' + query),
      cl_lt_source: 'google',
      cl_lt_campaign: 'spring_launch',
    })
    expect(fieldTime(values.cl_ft_ts)).toBe(a.firstTouch?.ts)
    const hidden = await page.$$eval('#lead-form input[name^="cl_"]', (els) => els.map((e) => (e as HTMLInputElement).type))
    expect(new Set(hidden)).toEqual(new Set(['hidden']))

    await page.fill('#lead-form [name=name]', 'Ada Lovelace')
    await page.fill('#lead-form [name=email]', 'ada@example.test')
    const fieldNames = await formFieldNames(page, '#lead-form')
    expect(fieldNames).toEqual(expect.arrayContaining(FORM_FIELD_NAMES))
    await page.click('#lead-form button[type=submit]')
    await page.waitForSelector('#thanks')
    const [post] = suite.server.forms
    expect(post.path).toBe(FORM_PATH)
    const names = post.entries.map(([n]) => n)
    expect(names.length).toBe(new Set(names).size)
    const sent = Object.fromEntries(post.entries)
    expect(sent).toMatchObject({ email: 'ada@example.test', cl_visitor_id: a.visitorId, cl_ft_source: 'google', cl_lt_click_id: 'Cj0KCQ-test_1' })
    expect(names).toEqual(fieldNames)
  })
})

describe('arrival from a click ID alone', () => {
  it('implies the platform as source and cpc as medium', async () => {
    const { page } = await suite.open()
    const cases = [
      ['fbclid', 'facebook', 'Paid Social'],
      ['msclkid', 'bing', 'Paid Search'],
      ['ttclid', 'tiktok', 'Paid Social'],
      ['gbraid', 'google', 'Paid Search'],
      // Snapchat documents its click ID as ScCid: names match in any case, stored lower-cased.
      ['ScCid', 'snapchat', 'Paid Social'],
    ] as const
    for (const [param, source, channel] of cases) {
      await page.goto(suite.server.url(`/pricing.html?${param}=id-${param}#plans`))
      const a = await attribution(page)
      expect(a.lastTouch).toMatchObject({ source, medium: 'cpc', channel, click_id: `id-${param}`, click_id_type: param.toLowerCase() })
      // The landing page is stored without its fragment.
      expect(a.lastTouch?.landing).toBe(suite.server.url(`/pricing.html?${param}=id-${param}`))
    }
  })
})

describe('arrival from a campaign marker that is no click ID', () => {
  it('Mailchimp and Klaviyo links are Email; gad_source is a Google ad whose click ID is the gclid', async () => {
    const { page } = await suite.open()
    const cases = [
      ['?mc_cid=5f2c1e&mc_eid=9a8b7c', { source: 'mailchimp', medium: 'email', channel: 'Email' }],
      ['?_kx=abc.XyZ', { source: 'klaviyo', medium: 'email', channel: 'Email' }],
      ['?gad_source=1', { source: 'google', medium: 'cpc', channel: 'Paid Search' }],
      ['?gad_source=1&gclid=g-1', { source: 'google', medium: 'cpc', channel: 'Paid Search', click_id: 'g-1', click_id_type: 'gclid' }],
    ] as const
    let vid = ''
    for (const [query, want] of cases) {
      await page.goto(suite.server.url(`/pricing.html${query}`))
      const a = await attribution(page)
      vid = a.visitorId
      expect(a.lastTouch, query).toMatchObject(want)
      if (!('click_id' in want)) expect([a.lastTouch?.click_id, a.lastTouch?.click_id_type], query).toEqual([undefined, undefined])
    }
    // This visitor's touches only: the test before may still have a pagehide send in flight.
    const touches = await suite.server.collect.waitForAccepted((es) => {
      const mine = es.filter((e) => e.touch && e.vid == vid)
      return mine.length >= cases.length && mine
    }, 'the touches')
    expect(touches.map((e) => e.touch!.channel)).toEqual(['Email', 'Email', 'Paid Search', 'Paid Search'])
  })
})

describe('navigation inside the site', () => {
  it('opens no new touch, keeps the session, and the fields persist', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q2'))
    const first = await attribution(page)
    expect(first.firstTouch).toMatchObject({ source: 'linkedin', medium: 'paid_social', channel: 'Paid Social' })

    await page.click('nav a[href="/pricing.html"]')
    await page.waitForURL('**/pricing.html')
    const onPricing = await attribution(page)
    await page.click('#growth-cta')
    await page.waitForURL('**/contact.html?plan=growth')
    const onContact = await attribution(page)

    for (const later of [onPricing, onContact]) {
      expect(later.visitorId).toBe(first.visitorId)
      expect(later.sessionId).toBe(first.sessionId)
      expect(later.firstTouch).toEqual(first.firstTouch)
      expect(later.lastTouch).toEqual(first.lastTouch)
    }
    const values = await formValues(page, '#lead-form')
    expect(values).toMatchObject({ cl_visitor_id: first.visitorId, cl_ft_source: 'linkedin', cl_lt_channel: 'Paid Social' })

    const pages = await suite.server.collect.waitForAccepted((es) => es.filter((e) => e.type == 'page').length >= 3 && es.filter((e) => e.type == 'page'), 'three page events', 8_000)
    expect(pages.map((e) => new URL(e.url ?? '').pathname)).toEqual(['/', '/pricing.html', '/contact.html'])
    // Only the landing page opened a touch; later pages name the previous one as referrer.
    expect(pages.map((e) => Boolean(e.touch))).toEqual([true, false, false])
    expect(new Set(pages.map((e) => e.sid))).toEqual(new Set([first.sessionId]))
    expect(pages[1].ref).toBe(suite.server.url('/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q2'))
  })

  it('fills a form that a widget inserts after load', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/demo.html?utm_source=bing&utm_medium=cpc&utm_campaign=brand'))
    const a = await attribution(page)
    // The widget inserts its form 300 ms after the load event, and the load event waits for the
    // async tracker script: the form can only be found by the tracker's MutationObserver.
    await page.waitForSelector('#demo-form')
    await page.waitForFunction(() => (document.querySelector('#demo-form [name=cl_visitor_id]') as HTMLInputElement | null)?.value)
    const values = await formValues(page, '#demo-form')
    expect(values).toMatchObject({ cl_visitor_id: a.visitorId, cl_ft_source: 'bing', cl_ft_channel: 'Paid Search', cl_lt_campaign: 'brand' })
  })
})

describe('a later arrival', () => {
  it('from an email campaign changes the last touch and starts a session; the first touch stays', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?gclid=first-click'))
    const before = await attribution(page)
    expect(before.firstTouch).toMatchObject({ source: 'google', medium: 'cpc', click_id: 'first-click', channel: 'Paid Search' })

    const emailLanding = suite.server.url('/pricing.html?utm_source=Newsletter&utm_medium=Email&utm_campaign=may_digest')
    await page.goto(emailLanding)
    const after = await attribution(page)
    expect(after.visitorId).toBe(before.visitorId)
    expect(after.firstTouch).toEqual(before.firstTouch)
    expect(after.lastTouch).toMatchObject({ source: 'newsletter', medium: 'email', campaign: 'may_digest', channel: 'Email', landing: emailLanding })
    expect(after.lastTouch?.click_id).toBeUndefined()
    expect(after.sessionId).not.toBe(before.sessionId)

    await page.goto(suite.server.url('/webinar.html'))
    // The forms are filled at the first idle moments after load, as in the other tests: wait for them.
    await page.waitForFunction(() => (document.querySelector('#webinar-form [name=cl_ft_source]') as HTMLInputElement | null)?.value)
    const values = await formValues(page, '#webinar-form')
    expect(values).toMatchObject({ cl_ft_source: 'google', cl_ft_click_id: 'first-click', cl_lt_source: 'newsletter', cl_lt_medium: 'email' })
  })

  it('that is direct, in a new session, opens a direct touch but never overwrites the last touch', async () => {
    suite.server.tag['session-timeout'] = '0.01' // 0.6 s, so a new session starts within the test
    const { page } = await suite.open()
    await page.goto(suite.server.url('/?utm_source=newsletter&utm_medium=email&utm_campaign=june'))
    const before = await attribution(page)
    await new Promise((r) => setTimeout(r, 800))
    await page.goto(suite.server.url('/pricing.html'))
    const after = await attribution(page)
    expect(after.sessionId).not.toBe(before.sessionId)
    expect(after.lastTouch).toEqual(before.lastTouch)
    const pages = await suite.server.collect.waitForAccepted((es) => es.filter((e) => e.type == 'page').length >= 2 && es.filter((e) => e.type == 'page'), 'two page events')
    // By session, not by arrival order: the first page's event may reach the collector after the
    // second's (sent from the queue of the next page when the first page left before its batch went).
    const bySession = (sid: string) => pages.filter((e) => e.sid === sid)
    expect(bySession(before.sessionId).map((e) => e.touch?.source)).toEqual(['newsletter'])
    expect(bySession(after.sessionId).map((e) => e.touch)).toMatchObject([{ source: '(direct)', medium: '(none)', channel: 'Direct' }])
  })

  it('with no source at all on a first visit is a direct touch for both first and last', async () => {
    const { page } = await suite.open()
    await page.goto(suite.server.url('/'))
    const a = await attribution(page)
    expect(a.firstTouch).toMatchObject({ source: '(direct)', medium: '(none)', channel: 'Direct' })
    expect(a.lastTouch).toEqual(a.firstTouch)
  })
})

describe('arrival from a referrer', () => {
  const viaReferrer = async (referrerHost: string, path = '/pricing.html') => {
    const { page } = await suite.open()
    const target = suite.server.url(path)
    await page.goto(suite.server.url(`${REFERRER_PATH}?to=${encodeURIComponent(target)}`, referrerHost))
    await page.click('#go')
    await page.waitForURL(target)
    return { page, a: await attribution(page) }
  }

  it('of a search engine is google / organic / Organic Search', async () => {
    const { page, a } = await viaReferrer('www.google.com')
    // The browser's own cross-site referrer (origin only, per strict-origin-when-cross-origin).
    expect(await page.evaluate(() => document.referrer)).toBe(suite.server.origin('www.google.com') + '/')
    expect(a.firstTouch).toMatchObject({ source: 'google', medium: 'organic', channel: 'Organic Search', referrer: suite.server.origin('www.google.com') + '/' })
    const [event] = await suite.server.collect.waitForAccepted((es) => es.length > 0 && es, 'the page event')
    expect(event.ref).toBe(suite.server.origin('www.google.com') + '/')
    expect(event.touch).toMatchObject({ source: 'google', medium: 'organic', channel: 'Organic Search' })
  })

  it('of a country search domain is reported by the engine name', async () => {
    const { a } = await viaReferrer('www.google.co.uk')
    expect(a.firstTouch).toMatchObject({ source: 'google', medium: 'organic', channel: 'Organic Search' })
  })

  it('with an Instagram share ID (igshid) on the link stays the referral it is, not a paid click', async () => {
    // instagram.com is HSTS-preloaded, so a partner page shares the link here; the unit tests
    // cover an Instagram referrer (Organic Social).
    const { a } = await viaReferrer('blog.partner.test', '/pricing.html?igshid=MzRlODBiNWFlZA==')
    expect(a.firstTouch).toMatchObject({ source: 'blog.partner.test', medium: 'referral', channel: 'Referral' })
    expect(a.firstTouch?.click_id_type).toBeUndefined()
  })

  it('of another subdomain of this site is no touch', async () => {
    const { a } = await viaReferrer('app.example.test')
    expect(a.firstTouch).toMatchObject({ source: '(direct)', medium: '(none)', channel: 'Direct' })
  })

  it('with a hostile full URL is kept as literal text', async () => {
    const { page } = await suite.open()
    const target = suite.server.url('/contact.html')
    const q = new URLSearchParams({ to: target, policy: 'unsafe-url', x: '"><img src=x onerror="window.__pwned_ref=1">' })
    await page.goto(suite.server.url(`${REFERRER_PATH}?${q}`, 'blog.partner.test'))
    const referrer = page.url()
    await page.click('#go')
    await page.waitForURL(target)
    const a = await attribution(page)
    expect(a.firstTouch).toMatchObject({ source: 'blog.partner.test', medium: 'referral', referrer })
    await page.waitForFunction(() => (document.querySelector('#lead-form [name=cl_ft_referrer]') as HTMLInputElement | null)?.value)
    expect((await formValues(page, '#lead-form')).cl_ft_referrer).toBe(referrer)
    expect(await page.evaluate(() => '__pwned_ref' in window)).toBe(false)
    expect(suite.server.hits.filter((h) => h.endsWith('/x'))).toEqual([])
  })

  it('of another site is a referral named by its host', async () => {
    const { page, a } = await viaReferrer('blog.partner.test')
    expect(a.firstTouch).toMatchObject({ source: 'blog.partner.test', medium: 'referral', channel: 'Referral' })
    expect(a.firstTouch?.referrer).toBe(suite.server.origin('blog.partner.test') + '/')
    // The landing page's own links are no new touch: the referrer is this site.
    await page.click('nav a[href="/contact.html"]')
    await page.waitForURL('**/contact.html')
    const later = await attribution(page)
    expect(later.sessionId).toBe(a.sessionId)
    expect(later.lastTouch).toEqual(a.firstTouch)
  })
})
