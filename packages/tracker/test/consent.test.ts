import { afterEach, describe, expect, it, vi } from 'vitest'
import { gtagConsent, initialConsent } from '../src/consent.js'
import { browser } from './helpers.js'

afterEach(() => vi.unstubAllGlobals())

describe('initialConsent', () => {
  it('takes the configured state; anything unknown is granted', () => {
    browser()
    expect(initialConsent('pending', true)).toBe('pending')
    expect(initialConsent('denied', true)).toBe('denied')
    expect(initialConsent('granted', true)).toBe('granted')
    expect(initialConsent('yes', true)).toBe('granted')
  })
  it('Global Privacy Control means denied unless respect-gpc is off', () => {
    browser('https://www.example.com/', { gpc: true })
    expect(initialConsent('granted', true)).toBe('denied')
    expect(initialConsent('pending', false)).toBe('pending')
  })
})

describe('Do Not Track', () => {
  it('counts as denied only with respect-dnt', () => {
    const b = browser()
    Object.defineProperty(b.window.navigator, 'doNotTrack', { value: '1', configurable: true })
    expect(initialConsent('granted', true, true)).toBe('denied')
    expect(initialConsent('granted', true, false)).toBe('granted')
    expect(initialConsent('granted', true)).toBe('granted')
    Object.defineProperty(b.window.navigator, 'doNotTrack', { value: '0', configurable: true })
    expect(initialConsent('granted', true, true)).toBe('granted')
  })
})

describe('gtagConsent (Google Consent Mode v2)', () => {
  /** The snippet Google documents for the page: commands go to dataLayer as `arguments` objects. */
  const gtagOf = (w: any) => {
    w.dataLayer = w.dataLayer || []
    return function gtag(..._: unknown[]) {
      // eslint-disable-next-line prefer-rest-params
      w.dataLayer.push(arguments)
    }
  }

  it('is pending with no command, and creates the dataLayer the snippet will reuse', () => {
    const b = browser()
    expect(gtagConsent(() => {})).toBe('pending')
    expect(Array.isArray((b.window as any).dataLayer)).toBe(true)
  })

  it('reads the analytics_storage of the commands already in dataLayer', () => {
    const cases: Array<[unknown[][], string]> = [
      [[['default', { ad_storage: 'denied', analytics_storage: 'granted' }]], 'granted'],
      [[['default', { analytics_storage: 'denied' }]], 'pending'],
      [[['default', { analytics_storage: 'denied', region: ['ES'] }], ['default', { analytics_storage: 'granted' }]], 'pending'],
      [[['default', { analytics_storage: 'denied' }], ['update', { analytics_storage: 'granted' }]], 'granted'],
      [[['default', { analytics_storage: 'granted' }], ['update', { analytics_storage: 'denied' }]], 'denied'],
      [[['update', { analytics_storage: 'granted' }], ['default', { analytics_storage: 'denied' }]], 'granted'],
      [[['default', { ad_storage: 'denied' }], ['update', { analytics_storage: 'maybe' }]], 'pending'],
    ]
    for (const [commands, want] of cases) {
      const b = browser()
      const w = b.window as any
      w.dataLayer = [{ event: 'gtm.js' }, null, 'x']
      const gtag = gtagOf(w)
      gtag('js', new Date())
      for (const [kind, params] of commands) gtag('consent', kind, params)
      expect([commands, gtagConsent(() => {})]).toEqual([commands, want])
    }
  })

  it('hears later commands through dataLayer.push, keeping the page push working', () => {
    const b = browser()
    const w = b.window as any
    const gtag = gtagOf(w)
    gtag('consent', 'default', { analytics_storage: 'denied' })
    const heard: string[] = []
    expect(gtagConsent((s) => heard.push(s))).toBe('pending')
    gtag('config', 'G-TEST')
    gtag('consent', 'update', { analytics_storage: 'granted' })
    gtag('consent', 'update', { analytics_storage: 'granted' })
    gtag('consent', 'update', { analytics_storage: 'denied' })
    expect(heard).toEqual(['granted', 'denied'])
    expect(w.dataLayer).toHaveLength(5)
    expect(w.dataLayer.push({ event: 'x' })).toBe(6)
    const hostile = new Proxy({}, { get() { throw new Error('no') } })
    expect(() => w.dataLayer.push(hostile)).not.toThrow()
  })
})
