// Reading the tracker's state and the forms it filled, from inside a real page.
import type { Attribution } from '@closeloop/tracker'
import type { Page } from 'playwright-core'

export type { Attribution }

/**
 * Waits until the script tag's tracker replaced the pre-load stub, then returns
 * `closeloop('attribution')`. The stub returns a number (the queue length), the tracker an object.
 */
export async function attribution(page: Page, timeoutMs = 5_000): Promise<Attribution> {
  const handle = await page.waitForFunction(
    () => {
      const cl = (window as unknown as { closeloop?: ((m: string) => unknown) & { q?: unknown } }).closeloop
      if (typeof cl != 'function' || cl.q) return null
      const a = cl('attribution')
      return a && typeof a == 'object' ? a : null
    },
    undefined,
    { timeout: timeoutMs, polling: 20 },
  )
  return (await handle.jsonValue()) as Attribution
}

/** Calls `window.closeloop(method, ...args)` in the page once the tracker is loaded. */
export async function call<T = unknown>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  await attribution(page)
  return page.evaluate(
    ([m, a]) => (window as unknown as { closeloop: (m: string, ...a: unknown[]) => unknown }).closeloop(m, ...a),
    [method, args] as const,
  ) as Promise<T>
}

/** name → value of every named control of the form matching `selector` (the first control of a repeated name). */
export function formValues(page: Page, selector: string): Promise<Record<string, string>> {
  return page.$eval(selector, (form) => {
    const out: Record<string, string> = {}
    for (const el of Array.from((form as HTMLFormElement).elements) as HTMLInputElement[]) if (el.name && !(el.name in out)) out[el.name] = el.value
    return out
  })
}

/** Names of every named control of the form, in document order, repeats included. */
export function formFieldNames(page: Page, selector: string): Promise<string[]> {
  return page.$eval(selector, (form) => (Array.from((form as HTMLFormElement).elements) as HTMLInputElement[]).map((el) => el.name).filter(Boolean))
}

/** The tracker's cookies and localStorage entries as the page sees them. */
export function storedState(page: Page): Promise<{ cookies: Record<string, string>; local: Record<string, string> }> {
  return page.evaluate(() => {
    const cookies: Record<string, string> = {}
    for (const part of document.cookie.split(';')) {
      const i = part.indexOf('=')
      if (i > 0) cookies[part.slice(0, i).trim()] = part.slice(i + 1)
    }
    const local: Record<string, string> = {}
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i) as string
      local[k] = localStorage.getItem(k) as string
    }
    return { cookies, local }
  })
}

/** The field names "Forms" lists (default prefix `cl_`). */
export const TOUCH_FIELD_NAMES = ['source', 'medium', 'campaign', 'term', 'content', 'channel', 'click_id', 'click_id_type', 'landing', 'referrer', 'ts']
export const FORM_FIELD_NAMES = [
  'cl_visitor_id',
  'cl_session_id',
  ...TOUCH_FIELD_NAMES.map((f) => 'cl_ft_' + f),
  ...TOUCH_FIELD_NAMES.map((f) => 'cl_lt_' + f),
]

/**
 * Init script that tags every /v1/collect request with how the page sent it: `via=beacon`,
 * `via=fetch-keepalive` or `via=fetch`, plus `leaving=1` once `pagehide` has fired. The listener is
 * added before any page script, so it runs before the tracker's own pagehide handler.
 */
export const TRANSPORT_PROBE = `(() => {
  let leaving = false
  addEventListener('pagehide', () => { leaving = true })
  const tag = (url, via) => {
    try {
      const u = new URL(url, location.href)
      if (u.pathname != '/v1/collect') return url
      u.searchParams.set('via', via)
      if (leaving) u.searchParams.set('leaving', '1')
      return u.href
    } catch { return url }
  }
  const beacon = navigator.sendBeacon.bind(navigator)
  navigator.sendBeacon = (url, data) => beacon(tag(url, 'beacon'), data)
  const fetch0 = window.fetch.bind(window)
  window.fetch = (input, init) => typeof input == 'string' || input instanceof URL
    ? fetch0(tag(String(input), init && init.keepalive ? 'fetch-keepalive' : 'fetch'), init)
    : fetch0(input, init)
})()`
