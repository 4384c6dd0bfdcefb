import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTracker, type Options } from '../src/index.js'
import { browser, hostileStorage, settle } from './helpers.js'

beforeEach(() => vi.useFakeTimers({ now: 1767225600000 }))
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

const SITE = 'pk_V1StGXR8_Z5jdHi6B-myT'
const start = (o: Partial<Options> = {}) => createTracker({ site: SITE, collector: 'https://t.example.com/', ...o })

describe('page views and touches', () => {
  it('sends the first page with its touch as text/plain JSON to {collector}/v1/collect', async () => {
    const b = browser('https://www.example.com/pricing?utm_source=Google&utm_medium=cpc&utm_campaign=spring&gclid=abc#top', {
      referrer: 'https://www.google.com/',
    })
    b.window.document.title = 'Pricing'
    const cl = start()
    await settle()
    expect(b.sent).toHaveLength(1)
    const s = b.sent[0]
    expect(s.url).toBe('https://t.example.com/v1/collect')
    // A string body with no custom headers: the browser sends it as text/plain, a "simple"
    // request without a CORS preflight.
    expect(typeof s.init!.body).toBe('string')
    expect(s.init!.headers).toBeUndefined()
    expect(s.body.site).toBe(SITE)
    expect(s.body.sentAt).toBeGreaterThanOrEqual(1767225600000)
    const [e] = s.body.events
    const { visitorId, sessionId } = cl.attribution()
    expect(e).toMatchObject({
      type: 'page',
      ts: 1767225600000,
      vid: visitorId,
      sid: sessionId,
      url: 'https://www.example.com/pricing?utm_source=Google&utm_medium=cpc&utm_campaign=spring&gclid=abc',
      ref: 'https://www.google.com/',
      title: 'Pricing',
      touch: { source: 'google', medium: 'cpc', campaign: 'spring', click_id: 'abc', click_id_type: 'gclid', channel: 'Paid Search', ts: 1767225600000 },
    })
    expect(e.id).toMatch(/^[\w-]{21}$/)
    expect(visitorId).toMatch(/^[\w-]{21}$/)
    expect(b.cookies()._cl_vid).toBe(visitorId)
  })

  it("sends Meta's _fbp cookie on the event's touch only, never in the touch cookies", async () => {
    const b = browser('https://www.example.com/?fbclid=IwAR1abc')
    // As Meta's pixel writes it: fb.{subdomain index}.{creation ms}.{random}.
    const fbp = 'fb.1.1767225500000.1234567890'
    b.window.document.cookie = 'x_fbp=other;path=/'
    b.window.document.cookie = '_fbp=' + fbp + ';path=/'
    const cl = start()
    cl.page()
    await settle()
    const [first, second] = b.events()
    expect(first.touch).toMatchObject({ source: 'facebook', click_id: 'IwAR1abc', fbp })
    // A page that opens no touch carries no fbp either.
    expect(second.touch).toBeUndefined()
    expect(cl.attribution().firstTouch!.fbp).toBeUndefined()
    expect(decodeURIComponent(b.cookies()._cl_ft)).not.toContain('fb.1.')
  })

  it('sends no fbp without the cookie', async () => {
    const b = browser('https://www.example.com/?fbclid=IwAR1abc')
    start()
    await settle()
    expect(b.events()[0].touch.click_id).toBe('IwAR1abc')
    expect('fbp' in b.events()[0].touch).toBe(false)
  })

  it('direct first visit: direct touch as first and last touch; later pages of the session carry no touch', async () => {
    const b = browser('https://www.example.com/')
    const cl = start()
    expect(cl.attribution().firstTouch).toMatchObject({ source: '(direct)', medium: '(none)', channel: 'Direct' })
    expect(cl.attribution().lastTouch!.source).toBe('(direct)')
    cl.page()
    await settle()
    const ev = b.events()
    expect(ev.map((e) => !!e.touch)).toEqual([true, false])
    expect(new Set(ev.map((e) => e.sid)).size).toBe(1)
  })

  it('persists across page loads in the same jar: session continues, then times out into a direct touch', async () => {
    const b = browser('https://www.example.com/?utm_source=newsletter&utm_medium=email')
    const first = start().attribution()
    // Same window, new tracker instance = a new page load with the same cookies.
    vi.advanceTimersByTime(5 * 60_000)
    b.window.history.replaceState(null, '', '/next')
    const again = start().attribution()
    expect(again.visitorId).toBe(first.visitorId)
    expect(again.sessionId).toBe(first.sessionId)
    vi.advanceTimersByTime(31 * 60_000)
    const later = start({ sessionTimeout: 30 }).attribution()
    expect(later.sessionId).not.toBe(first.sessionId)
    expect(later.firstTouch!.source).toBe('newsletter')
    expect(later.lastTouch!.source).toBe('newsletter')
  })

  it('reloading a tagged URL in the same session is not a new touch; a new campaign is', async () => {
    const b = browser('https://www.example.com/?utm_source=fb&utm_medium=paid')
    const s1 = start().attribution().sessionId
    expect(start().attribution().sessionId).toBe(s1)
    b.window.history.replaceState(null, '', '/?utm_source=fb&utm_medium=paid&utm_campaign=b')
    const a = start().attribution()
    expect(a.sessionId).not.toBe(s1)
    expect(a.lastTouch!.campaign).toBe('b')
    expect(a.firstTouch!.campaign).toBeUndefined()
  })

  it('SPA: pushState and popstate count as pages, hash changes and same-URL pushes do not', async () => {
    const b = browser('https://www.example.com/')
    start()
    b.window.history.pushState({}, '', '/a')
    b.window.history.pushState({}, '', '/a#x')
    b.window.history.pushState({}, '', '/b')
    b.window.history.back()
    await settle(50)
    await settle()
    const pages = b.events().filter((e) => e.type == 'page')
    expect(pages.map((e) => new URL(e.url).pathname)).toEqual(['/', '/a', '/b', '/a'])
    expect(pages[1].ref).toBe('https://www.example.com/')
    expect(pages.slice(1).every((e) => !e.touch)).toBe(true)
  })

  it('spa=false leaves history alone', async () => {
    const b = browser('https://www.example.com/')
    const push = b.window.history.pushState
    start({ spa: false })
    expect(b.window.history.pushState).toBe(push)
  })

  it('track and identify events carry ids, names, props and traits', async () => {
    const b = browser('https://www.example.com/')
    const cl = start()
    cl.track('signup_click', { plan: 'pro' })
    cl.identify({ email: ' Ann@Example.com ', phone: '+1 555', userId: 'u1', traits: { company: 'Acme' } })
    await settle()
    const [, t, i] = b.events()
    expect(t).toMatchObject({ type: 'track', name: 'signup_click', props: { plan: 'pro' } })
    expect(i).toMatchObject({ type: 'identify', traits: { company: 'Acme', email: ' Ann@Example.com ', phone: '+1 555', userId: 'u1' } })
    expect(new Set(b.events().map((e) => e.id)).size).toBe(3)
  })
})

describe('consent', () => {
  it('pending: no cookies, no storage, no requests; granted later persists and sends what was kept', async () => {
    const b = browser('https://www.example.com/?utm_source=google&utm_medium=cpc')
    const cl = start({ consent: 'pending' })
    cl.track('x')
    await settle(5000)
    expect(b.sent).toHaveLength(0)
    expect(b.window.document.cookie).toBe('')
    expect(b.window.localStorage.length).toBe(0)
    expect(cl.attribution().firstTouch!.source).toBe('google')
    b.window.dispatchEvent(new b.window.Event('pagehide'))
    expect(b.sent).toHaveLength(0)
    cl.consent('granted')
    await settle()
    expect(b.events().map((e) => e.type)).toEqual(['page', 'track'])
    expect(b.events()[0].touch.source).toBe('google')
    expect(b.cookies()._cl_vid).toBe(cl.attribution().visitorId)
  })

  it('denied removes stored state and stops sending', async () => {
    const b = browser('https://www.example.com/')
    const cl = start()
    await settle()
    expect(b.cookies()._cl_vid).toBeTruthy()
    cl.consent('denied')
    cl.track('after')
    await settle(5000)
    expect(b.cookies()).toEqual({})
    expect(b.window.localStorage.length).toBe(0)
    expect(b.events().map((e) => e.type)).toEqual(['page'])
    expect(cl.decorate('https://other.example/')).toBe('https://other.example/')
  })

  it('consent=denied at start clears what an earlier visit stored', async () => {
    const b = browser('https://www.example.com/')
    start()
    // The earlier visit is over (its send answered) before this page starts.
    await settle()
    start({ consent: 'denied' })
    await settle()
    expect(b.cookies()).toEqual({})
    expect(b.events()).toHaveLength(1)
  })

  it('Global Privacy Control counts as denied unless respect-gpc is false', async () => {
    const b = browser('https://www.example.com/', { gpc: true })
    const cl = start()
    cl.consent('granted')
    await settle()
    expect(b.sent).toHaveLength(0)
    expect(b.window.document.cookie).toBe('')
    start({ respectGpc: false })
    await settle()
    expect(b.sent).toHaveLength(1)
  })
})

describe('consent from Google Consent Mode (consent: gtag) and Do Not Track', () => {
  const gtagOf = (w: any) => {
    w.dataLayer = w.dataLayer || []
    return function gtag(..._: unknown[]) {
      // eslint-disable-next-line prefer-rest-params
      w.dataLayer.push(arguments)
    }
  }

  it('default denied: nothing stored or sent; update granted persists and sends what was kept', async () => {
    const b = browser('https://www.example.com/?utm_source=google&utm_medium=cpc')
    const gtag = gtagOf(b.window)
    gtag('consent', 'default', { ad_storage: 'denied', analytics_storage: 'denied' })
    const cl = start({ consent: 'gtag' })
    cl.track('before_choice')
    await settle(5000)
    expect(b.sent).toHaveLength(0)
    expect(b.window.document.cookie).toBe('')
    expect(b.window.localStorage.length).toBe(0)
    gtag('consent', 'update', { ad_storage: 'granted', analytics_storage: 'granted' })
    await settle()
    expect(b.events().map((e) => e.type + (e.name ? ':' + e.name : ''))).toEqual(['page', 'track:before_choice'])
    expect(b.events()[0].touch.source).toBe('google')
    expect(b.cookies()._cl_vid).toBe(cl.attribution().visitorId)
  })

  it('default denied leaves an earlier visit stored; update denied removes it and stops sending', async () => {
    const b = browser('https://www.example.com/')
    const first = start().attribution()
    await settle()
    const gtag = gtagOf(b.window)
    gtag('consent', 'default', { analytics_storage: 'denied' })
    const cl = start({ consent: 'gtag' })
    expect(cl.attribution().visitorId).toBe(first.visitorId)
    expect(b.cookies()._cl_vid).toBe(first.visitorId)
    gtag('consent', 'update', { analytics_storage: 'denied' })
    cl.track('after_refusal')
    await settle(5000)
    expect(b.cookies()).toEqual({})
    expect(b.window.localStorage.length).toBe(0)
    expect(b.events().some((e) => e.name == 'after_refusal')).toBe(false)
  })

  it('granted by default works as granted; no command at all is pending', async () => {
    const b = browser('https://www.example.com/')
    gtagOf(b.window)('consent', 'default', { analytics_storage: 'granted' })
    start({ consent: 'gtag' })
    await settle()
    expect(b.sent).toHaveLength(1)
    const c = browser('https://www.example.com/')
    start({ consent: 'gtag' })
    await settle(5000)
    expect(c.sent).toHaveLength(0)
    expect(c.window.document.cookie).toBe('')
  })

  it('Do Not Track counts as denied with respectDnt, also against a later grant', async () => {
    const b = browser('https://www.example.com/')
    Object.defineProperty(b.window.navigator, 'doNotTrack', { value: '1', configurable: true })
    const cl = start({ respectDnt: true })
    cl.consent('granted')
    await settle()
    expect(b.sent).toHaveLength(0)
    expect(b.window.document.cookie).toBe('')
    start()
    await settle()
    expect(b.sent).toHaveLength(1)
  })
})

/** Every later read or write of `win`'s localStorage, by key, in order. */
function countLocalStorage(win: { localStorage: Storage }): PropertyKey[] {
  const used: PropertyKey[] = []
  vi.stubGlobal('localStorage', new Proxy(win.localStorage, { get: (t, k) => (used.push(k), Reflect.get(t, k)), set: (t, k, v) => (used.push(k), Reflect.set(t, k, v)) }))
  return used
}

describe('transport', () => {
  it('retries failed sends with backoff, keeping the same event ids, then empties the persisted queue', async () => {
    const b = browser('https://www.example.com/')
    b.replies.push('network', 503)
    start()
    await settle()
    expect(b.sent).toHaveLength(0)
    expect((JSON.parse(b.window.localStorage.getItem('_cl_q')!) as unknown[]).length).toBe(1)
    await settle(1600) // first retry after 0.5–1.5 s answers 503
    expect(b.sent.map((x) => x.init!.keepalive)).toEqual([true])
    await settle(3200) // second retry after 1–3 s succeeds
    expect(b.sent).toHaveLength(2)
    expect(b.sent[1].body.events[0].id).toBe(b.sent[0].body.events[0].id)
    expect(b.window.localStorage.getItem('_cl_q')).toBeNull()
    await settle(60_000)
    expect(b.sent).toHaveLength(2)
  })

  it('an event pushed while a send is failing waits for the backoff, then goes with the failed one', async () => {
    browser('https://www.example.com/')
    const sends: { at: number; events: { type: string }[] }[] = []
    // The first send takes 200 ms to fail; later ones succeed at once.
    vi.stubGlobal('fetch', (_u: string, init: RequestInit) => {
      sends.push({ at: Date.now(), events: JSON.parse(init.body as string).events })
      return sends.length > 1 ? Promise.resolve(new Response('{}')) : new Promise((_r, reject) => setTimeout(() => reject(new TypeError('Failed to fetch')), 200))
    })
    const cl = start()
    await settle(300)
    expect(sends).toHaveLength(1)
    cl.track('during')
    // The push's 300 ms batch timer would fire here; the failure's backoff (0.5–1.5 s) replaced it.
    await settle(450)
    expect(sends).toHaveLength(1)
    await settle(1500)
    expect(sends).toHaveLength(2)
    expect(sends[1].at - sends[0].at).toBeGreaterThanOrEqual(700)
    expect(sends[1].events.map((e) => e.type)).toEqual(['page', 'track'])
  })

  it('a later page load sends what an earlier one could not, with the original ids', async () => {
    const b = browser('https://www.example.com/')
    b.replies.push('network')
    start()
    await settle()
    const queued = JSON.parse(b.window.localStorage.getItem('_cl_q')!)[0].id
    // The cookie tells the next page to read the stored queue, which it otherwise leaves alone.
    expect(b.cookies()._cl_q).toBe('1')
    vi.clearAllTimers()
    start()
    await settle()
    expect(b.events().map((e) => e.id)).toContain(queued)
    expect(b.window.localStorage.getItem('_cl_q')).toBeNull()
    expect(b.cookies()._cl_q).toBe('0')
  })

  it('a visitor with events stored by a version before the _cl_q flag gets them sent, then pages skip localStorage', async () => {
    const b = browser('https://www.example.com/')
    start()
    await settle()
    // What an older version left: whole cookies, a stored queue, no flag.
    const old = { id: 'queued_by_an_older_version', type: 'track', name: 'old', ts: Date.now(), vid: 'v', sid: 's' }
    b.window.localStorage.setItem('_cl_q', JSON.stringify([old]))
    b.window.document.cookie = '_cl_q=; max-age=0; path=/'
    const next = browser('https://www.example.com/pricing', { from: b, referrer: 'https://www.example.com/' })
    start()
    await settle()
    expect(next.events().map((e) => e.id)).toContain(old.id)
    expect(next.window.localStorage.getItem('_cl_q')).toBeNull()
    expect(next.cookies()._cl_q).toBe('0')
    const last = browser('https://www.example.com/about', { from: next, referrer: 'https://www.example.com/pricing' })
    const used = countLocalStorage(last.window)
    start()
    await settle()
    expect(last.events().filter((e) => e.type == 'page')).toHaveLength(3)
    expect(used).toEqual([])
  })

  it('a page view with whole cookies uses no localStorage; a lost cookie is restored from it', async () => {
    const first = browser('https://www.example.com/?utm_source=newsletter&utm_medium=email')
    const a = start().attribution()
    await settle()
    expect(JSON.parse(first.window.localStorage.getItem('_cl')!).vid).toBe(a.visitorId)
    // The next page of the visit: same cookies and localStorage, every use of localStorage counted.
    const next = browser('https://www.example.com/pricing', { from: first, referrer: 'https://www.example.com/' })
    const used = countLocalStorage(next.window)
    const b = start().attribution()
    await settle()
    expect(next.events().filter((e) => e.type == 'page')).toHaveLength(2)
    expect([b.visitorId, b.sessionId, b.firstTouch]).toEqual([a.visitorId, a.sessionId, a.firstTouch])
    expect(used).toEqual([])
    // A cookie lost (Safari's limits on script-set cookies, a cookie cleaner): the mirror brings it back.
    next.window.document.cookie = '_cl_vid=; max-age=0; path=/'
    const c = start().attribution()
    expect(c.visitorId).toBe(a.visitorId)
    expect(used).toContain('_cl')
    expect(next.cookies()._cl_vid).toBe(a.visitorId)
  })

  it('drops a batch the collector refuses for good (4xx) and reports it', async () => {
    const b = browser('https://www.example.com/')
    b.replies.push(400)
    const errors: string[] = []
    start({ onError: (e) => errors.push(e.code) })
    await settle(60_000)
    expect(errors).toEqual(['CL_ERR_TRACKER_REJECTED'])
    expect(b.window.localStorage.getItem('_cl_q')).toBeNull()
  })

  it('sends at once with a keepalive fetch on pagehide and on visibilitychange→hidden', async () => {
    const b = browser('https://www.example.com/')
    const cl = start()
    b.window.dispatchEvent(new b.window.Event('pagehide'))
    await vi.advanceTimersByTimeAsync(0) // promise callbacks only, no batching delay
    expect(b.sent.map((s) => s.init!.keepalive)).toEqual([true])
    cl.track('later')
    Object.defineProperty(b.window.document, 'visibilityState', { value: 'hidden', configurable: true })
    b.window.document.dispatchEvent(new b.window.Event('visibilitychange'))
    await vi.advanceTimersByTimeAsync(0)
    expect(b.sent).toHaveLength(2)
    expect(b.sent[1].body.events[0].name).toBe('later')
  })

  it('sends an event at most twice however fast pages are left, and once more with an answer', async () => {
    let b = browser('https://www.example.com/')
    for (let i = 0; i < 4; i++) {
      if (i) b = browser('https://www.example.com/p' + i, { from: b })
      start().track('t' + i)
      b.window.dispatchEvent(new b.window.Event('pagehide'))
      await vi.advanceTimersByTimeAsync(0)
    }
    const counts = new Map<string, number>()
    for (const e of b.events()) counts.set(e.id, (counts.get(e.id) ?? 0) + 1)
    expect(counts.size).toBe(8)
    expect([...counts.values()].every((n) => n == 1)).toBe(true)
    expect(b.events().some((e) => 'h' in e)).toBe(false)
    // A page that stays long enough sends the unanswered ones once more, reads the answer, forgets them.
    b = browser('https://www.example.com/last', { from: b })
    start()
    await settle()
    const all = new Map<string, number>()
    for (const e of b.events()) all.set(e.id, (all.get(e.id) ?? 0) + 1)
    expect(all.size).toBe(9)
    expect(Math.max(...all.values())).toBe(2)
    expect(b.window.localStorage.getItem('_cl_q')).toBeNull()
  })

  it('keeps what could not be sent at pagehide for the next page', async () => {
    const b = browser('https://www.example.com/')
    b.replies.push('network')
    start()
    b.window.dispatchEvent(new b.window.Event('pagehide'))
    await vi.advanceTimersByTimeAsync(0)
    expect(b.sent).toHaveLength(0)
    expect(JSON.parse(b.window.localStorage.getItem('_cl_q')!)).toHaveLength(1)
  })

  it('bounds the queue to 200 events and batches ≤ 100 events and ≤ 64 KB', async () => {
    const b = browser('https://www.example.com/')
    const cl = start()
    b.replies.push('network')
    await settle()
    for (let i = 0; i < 300; i++) cl.track('e' + i, { pad: 'é'.repeat(i == 299 ? 30_000 : 100) })
    expect(JSON.parse(b.window.localStorage.getItem('_cl_q')!)).toHaveLength(200)
    await settle(2000)
    await settle(60_000)
    const names = b.events().map((e) => e.name)
    expect(names).toHaveLength(200)
    expect(names[0]).toBe('e100')
    expect(names.at(-1)).toBe('e299')
    for (const s of b.sent) {
      expect(s.body.events.length).toBeLessThanOrEqual(100)
      // Every batch but a lone oversized event fits a keepalive request.
      if (s.body.events.length > 1) expect(new Blob([JSON.stringify(s.body)]).size).toBeLessThan(65536)
      expect(s.init!.keepalive).toBe(s.body.events.length > 1 || s.body.events[0].name != 'e299')
    }
  })
})

describe('decorate, reset, attribution', () => {
  it('decorate adds _clv and a page arriving with _clv adopts that visitor', () => {
    const b = browser('https://www.example.com/')
    const cl = start()
    const url = cl.decorate('https://app.example.net/signup?x=1#h')
    const vid = cl.attribution().visitorId
    expect(url).toBe(`https://app.example.net/signup?x=1&_clv=${vid}#h`)
    expect(cl.decorate('/relative')).toBe(`https://www.example.com/relative?_clv=${vid}`)
    vi.unstubAllGlobals()
    const other = browser(url)
    const arrived = start()
    expect(arrived.attribution().visitorId).toBe(vid)
    expect(other.window.location.href).toBe('https://app.example.net/signup?x=1#h')
    expect(arrived.attribution().firstTouch!.landing).toBe('https://app.example.net/signup?x=1')
    for (const [from, to] of [
      ['/?_clv=' + vid, '/'],
      ['/?a=1&_clv=' + vid + '&b=2', '/?a=1&b=2'],
      ['/?a=1&_clv=' + vid, '/?a=1'],
      ['/p?_clv=' + vid + '#top', '/p#top'],
    ]) {
      other.window.history.replaceState(null, '', from)
      start()
      expect(other.window.location.href).toBe('https://app.example.net' + to)
    }
    vi.unstubAllGlobals()
    browser('https://www.example.com/?_clv=%3Cscript%3E')
    expect(start().attribution().visitorId).toMatch(/^[\w-]{21}$/)
  })

  it('reset gives a new visitor ID and clears touches and storage', () => {
    const b = browser('https://www.example.com/?utm_source=x')
    const cl = start()
    const before = cl.attribution()
    cl.reset()
    const after = cl.attribution()
    expect(after.visitorId).not.toBe(before.visitorId)
    expect(after.firstTouch).toBeNull()
    expect(after.lastTouch).toBeNull()
    expect(b.cookies()._cl_ft).toBeUndefined()
    expect(b.cookies()._cl_vid).toBe(after.visitorId)
  })

  it('after reset, events carry a valid session and the next page opens a new session and touch', async () => {
    const b = browser('https://www.example.com/?utm_source=x')
    const cl = start()
    cl.reset()
    cl.track('after_reset')
    const { sessionId } = cl.attribution()
    b.window.history.replaceState(null, '', '/next')
    cl.page()
    await settle()
    // reset() also dropped the unsent first page view of the old visitor.
    const [tracked, page] = b.events()
    expect(b.events()).toHaveLength(2)
    // The collector refuses an event without a session ID (CL_ERR_INVALID_EVENT).
    expect(tracked).toMatchObject({ type: 'track', name: 'after_reset', sid: sessionId })
    expect(sessionId).toMatch(/^[\w-]{21}$/)
    expect(page.sid).not.toBe(sessionId)
    expect(page.touch).toMatchObject({ source: '(direct)', medium: '(none)' })
    expect(cl.attribution().firstTouch!.source).toBe('(direct)')
  })
})

describe('never throws into the page', () => {
  it('survives throwing storage, cookies and fetch, reporting to onError', async () => {
    const b = browser('https://www.example.com/?utm_source=x')
    Object.defineProperty(b.window.document, 'cookie', { get: () => { throw new Error('no') }, set: () => { throw new Error('no') } })
    vi.stubGlobal('localStorage', hostileStorage())
    vi.stubGlobal('fetch', () => { throw new Error('no fetch') })
    const errors: string[] = []
    const cl = start({ onError: (e) => errors.push(e.code) })
    for (const f of [() => cl.page(), () => cl.track('x'), () => cl.identify({ email: 'a@b.c' }), () => cl.reset(), () => cl.fillForms(), () => cl.consent('denied')])
      expect(f).not.toThrow()
    await settle()
    expect(errors).toContain('CL_ERR_TRACKER_SEND')
  })

  it('a throwing onError and bad arguments do not escape', async () => {
    browser('https://www.example.com/')
    const cl = start({ onError: () => { throw new Error('handler') } })
    expect(() => cl.identify(undefined as never)).not.toThrow()
    expect(() => cl.fillForms(42 as never)).not.toThrow()
    expect(cl.decorate('http://[bad')).toBe('http://[bad')
  })

  it('returns a no-op tracker without a window (SSR)', async () => {
    const cl = createTracker({ site: SITE })
    expect(cl.attribution()).toEqual({ visitorId: '', sessionId: '', firstTouch: null, lastTouch: null })
    await expect(cl.flush()).resolves.toBeUndefined()
  })
})
