import { afterEach, describe, expect, it, vi } from 'vitest'
import { id } from '../src/id.js'
import { TOUCH_COOKIE_MAX, clearState, loadState, lsGet, lsSet, packTouch, saveState, toTouch, type State } from '../src/storage.js'
import type { Touch } from '../src/touch.js'
import { browser, hostileStorage } from './helpers.js'

afterEach(() => vi.unstubAllGlobals())

const touch = (over: Partial<Touch> = {}): Touch => ({
  ts: 1767225600000,
  source: 'google',
  medium: 'cpc',
  campaign: 'spring.sale',
  click_id: 'abc',
  click_id_type: 'gclid',
  landing: 'https://www.example.com/?a=1&b=2',
  channel: 'Paid Search',
  ...over,
})
const state = (over: Partial<State> = {}): State => ({ vid: id(), sid: id(), last: 1767225600000, ft: touch(), lt: touch({ source: 'bing' }), ...over })

describe('packTouch / toTouch', () => {
  it('round-trips a touch through a compact URL-safe cookie value', () => {
    const t = touch({ term: 'a.b|c;d=e f', content: 'ünïcødé 😀' })
    const v = packTouch(t)
    expect(v).toMatch(/^[A-Za-z0-9%._*+&=-]+$/)
    expect(toTouch(v)).toEqual(t)
  })
  it('stays under the per-touch cap with 500-character hostile values', () => {
    const big = '😀<>"%'.repeat(100).slice(0, 500)
    const t = touch({ campaign: big, term: big, content: big, landing: 'https://www.example.com/?' + 'x'.repeat(490), referrer: big })
    const v = packTouch(t)
    expect(v.length).toBeLessThanOrEqual(TOUCH_COOKIE_MAX)
    const back = toTouch(v)!
    expect([back.ts, back.source, back.medium, back.channel, back.click_id]).toEqual([t.ts, 'google', 'cpc', 'Paid Search', 'abc'])
  })
  it('rejects corrupt values without throwing', () => {
    for (const bad of ['', '%', 'zz', 'ts=abc&source=x', 'ts=5', 'source=x', '%%%&&==', null, 5, [], { ts: 'x', source: 'a' }, { ts: 5 }])
      expect(toTouch(bad)).toBeNull()
    expect(toTouch('ts=1&source=%E0%A4%A&medium=100%')).toEqual({ ts: 1, source: '\ufffd%A', medium: '100%' })
  })
  it('never throws on a value whose cut splits a surrogate pair', () => {
    const v = 'a'.repeat(499) + '😀😀'
    expect(() => packTouch(touch({ campaign: v, term: v, content: v }))).not.toThrow()
  })
})

describe('saveState / loadState', () => {
  it('writes _cl_vid, _cl_ft, _cl_lt and _cl_s and reads them back', () => {
    const b = browser()
    const st = state()
    saveState(st, '')
    expect(Object.keys(b.cookies()).sort()).toEqual(['_cl_ft', '_cl_lt', '_cl_s', '_cl_vid'])
    expect(b.cookies()._cl_vid).toBe(st.vid)
    expect(loadState()).toEqual(st)
  })

  it('keeps all cookies together under 2 KB with 500-character values everywhere', () => {
    const b = browser()
    const v = 'é"<>'.repeat(125)
    const t = touch({ campaign: v, term: v, content: v, id: v, source_platform: v, creative_format: v, marketing_tactic: v, click_id: v, landing: 'https://www.example.com/?' + v, referrer: 'https://r.example/?' + v })
    // m: a page that keeps the mirror (it opened these touches).
    saveState(state({ ft: t, lt: t, m: 1 }), '')
    expect(b.window.document.cookie.length).toBeLessThan(2048)
    // localStorage keeps the full values and wins for the same touch.
    expect(loadState().ft!.campaign).toBe(v)
  })

  it('restores a lost cookie from localStorage', () => {
    const b = browser()
    const st = state()
    // A page that keeps the mirror; loading it back marks the state so (State.m).
    st.m = st.vid
    saveState(st, '')
    b.window.document.cookie = '_cl_vid=; max-age=0; path=/'
    b.window.document.cookie = '_cl_ft=; max-age=0; path=/'
    expect(loadState()).toEqual(st)
  })

  it('leaves localStorage alone while the cookies are whole, and writes it only for a page that keeps it', () => {
    const b = browser()
    const st = state()
    saveState(st, '')
    expect(b.window.localStorage.length).toBe(0)
    let reads = 0
    vi.stubGlobal('localStorage', new Proxy(b.window.localStorage, { get: (t, k) => (reads++, Reflect.get(t, k)) }))
    expect(loadState()).toEqual(st)
    expect(reads).toBe(0)
    saveState({ ...st, m: 1 }, '')
    expect(lsGet('_cl')).toEqual({ ...st, m: 1 })
    // A touch cookie cut to fit ends in `&`: its full value is read from the mirror.
    const long = touch({ landing: 'https://www.example.com/?' + 'x'.repeat(490), referrer: 'https://r.example/?' + 'y'.repeat(480) })
    expect(packTouch(long)).toMatch(/[^&]&$/)
    expect(packTouch(touch())).toMatch(/[^&]$/)
  })

  it('prefers the cookie when localStorage holds an older touch (another subdomain moved on)', () => {
    browser()
    const st = state()
    saveState(st, '')
    lsSet('_cl', { ...st, lt: touch({ ts: 1, source: 'stale' }) })
    expect(loadState().lt!.source).toBe('bing')
  })

  it('reads garbage cookies and localStorage as empty', () => {
    const b = browser()
    b.window.document.cookie = '_cl_vid=<script>; path=/'
    b.window.document.cookie = '_cl_ft=%E0%A4%A; path=/'
    b.window.document.cookie = '_cl_s=x.y.z; path=/'
    b.window.localStorage.setItem('_cl', '{not json')
    expect(loadState()).toEqual({ vid: '', sid: '', last: 0, ft: null, lt: null })
    b.window.localStorage.setItem('_cl', '"a string"')
    expect(loadState().vid).toBe('')
  })

  it('a first visit (nothing stored) reads as empty without a thrown error', () => {
    // A first thrown error costs a fresh page over a millisecond: nothing on this path may throw.
    browser()
    const parse = vi.spyOn(JSON, 'parse')
    try {
      expect(loadState()).toEqual({ vid: '', sid: '', last: 0, ft: null, lt: null })
      expect(lsGet('_cl_q')).toBeUndefined()
      expect(parse).not.toHaveBeenCalled()
    } finally {
      parse.mockRestore()
    }
  })

  it('never throws when cookies and localStorage throw', () => {
    const b = browser()
    Object.defineProperty(b.window.document, 'cookie', { get: () => { throw new Error('SecurityError') }, set: () => { throw new Error('SecurityError') } })
    vi.stubGlobal('localStorage', hostileStorage())
    expect(() => saveState(state(), '')).not.toThrow()
    expect(loadState()).toEqual({ vid: '', sid: '', last: 0, ft: null, lt: null })
    expect(() => clearState('.example.com')).not.toThrow()
    expect(lsGet('_cl')).toBeUndefined()
  })

  it('sets Secure and SameSite on https and the cookie-domain attribute when given', () => {
    const b = browser('https://shop.example.com/')
    const writes: string[] = []
    const desc = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Object.getPrototypeOf(b.window.document)), 'cookie')!
    Object.defineProperty(b.window.document, 'cookie', { get: () => desc.get!.call(b.window.document), set: (v: string) => { writes.push(v); desc.set!.call(b.window.document, v) } })
    saveState(state(), '.example.com')
    expect(writes[0]).toMatch(/^_cl_vid=[\w-]{21};path=\/;max-age=34560000;SameSite=Lax;Secure;domain=\.example\.com$/)
    const http = browser('http://localhost:8080/')
    saveState(state(), '')
    expect(http.window.document.cookie).toContain('_cl_vid=')
  })

  it('clearState removes cookies and localStorage', () => {
    const b = browser()
    saveState(state(), '')
    lsSet('_cl_q', [{ id: 'x' }])
    clearState('')
    expect(b.cookies()).toEqual({})
    expect(b.window.localStorage.length).toBe(0)
  })
})
