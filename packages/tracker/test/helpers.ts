// A fresh jsdom window per test: the tracker reads free globals (document, location, history…),
// so they are pointed at a new window and restored afterwards. Old trackers' listeners stay on
// their own, discarded windows.
import { JSDOM } from 'jsdom'
import { vi } from 'vitest'

export interface Sent {
  url: string
  body: { site: string; sentAt: number; events: Array<Record<string, any>> }
  via: 'fetch' | 'beacon'
  init?: RequestInit
}

export interface Browser {
  window: JSDOM['window']
  dom: JSDOM
  sent: Sent[]
  events: () => Array<Record<string, any>>
  /** Next fetch answers: a status, or 'network' for a rejected fetch. */
  replies: Array<number | 'network'>
  beaconOk: boolean
  cookies: () => Record<string, string>
}

const GLOBALS = ['window', 'document', 'location', 'localStorage', 'history', 'navigator', 'MutationObserver', 'Blob', 'URL'] as const

/**
 * A page load. With `from`, the next page of the same visitor: same cookie jar, localStorage
 * copied over, and the requests recorded in the same `sent` list; the old window's tracker is gone.
 */
export function browser(url = 'https://www.example.com/', opts: { referrer?: string; html?: string; gpc?: boolean; from?: Browser } = {}): Browser {
  const dom = new JSDOM(opts.html ?? '<!doctype html><html><head><title>T</title></head><body></body></html>', {
    url,
    referrer: opts.referrer,
    pretendToBeVisual: true,
    cookieJar: opts.from?.dom.cookieJar,
  })
  const w = dom.window
  // The old page's timers die with it, as in a browser.
  if (opts.from) vi.clearAllTimers()
  if (opts.from) for (const [k, v] of Object.entries(opts.from.window.localStorage)) w.localStorage.setItem(k, v as string)
  const b: Browser = {
    window: w,
    dom,
    sent: opts.from?.sent ?? [],
    events: () => b.sent.flatMap((s) => s.body.events),
    replies: [],
    beaconOk: true,
    cookies: () => Object.fromEntries(w.document.cookie.split('; ').filter(Boolean).map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)])),
  }
  for (const g of GLOBALS) vi.stubGlobal(g, g == 'window' ? w : (w as any)[g])
  vi.stubGlobal('addEventListener', w.addEventListener.bind(w))
  if (opts.gpc) Object.defineProperty(w.navigator, 'globalPrivacyControl', { value: true })
  Object.defineProperty(w.navigator, 'sendBeacon', {
    configurable: true,
    value: (u: string, body: string) => {
      if (b.beaconOk) b.sent.push({ url: u, body: JSON.parse(body), via: 'beacon' })
      return b.beaconOk
    },
  })
  vi.stubGlobal('fetch', async (u: string, init: RequestInit) => {
    const r = b.replies.shift() ?? 200
    if (r == 'network') throw new TypeError('Failed to fetch')
    b.sent.push({ url: u, body: JSON.parse(init.body as string), via: 'fetch', init })
    return new Response('{"accepted":1,"duplicates":0,"rejected":[]}', { status: r })
  })
  return b
}

/** Lets queued timers and promise chains run. */
export const settle = async (ms = 400) => {
  await vi.advanceTimersByTimeAsync(ms)
}

/** localStorage as in a sandboxed frame: every access throws. */
export const hostileStorage = () =>
  new Proxy({} as Storage, {
    get() {
      throw new DOMException('The operation is insecure.', 'SecurityError')
    },
    set() {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    },
  })
