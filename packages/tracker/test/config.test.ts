import { describe, expect, it } from 'vitest'
import { DEFAULTS, fromDataset, resolveOptions } from '../src/config.js'

describe('options', () => {
  it('defaults match the documented options table', () => {
    expect(DEFAULTS).toEqual({
      site: '', collector: '', cookieDomain: '', consent: 'granted', respectGpc: true, respectDnt: false, sessionTimeout: 30,
      forms: 'auto', fieldPrefix: 'cl_', spa: true, internalDomains: [],
    })
  })
  it('data-* attributes parse into the same shape as the npm options', () => {
    const ds = {
      site: 'pk_1', collector: '/_cl', cookieDomain: '.example.com', consent: 'pending', respectGpc: 'false',
      sessionTimeout: '45', forms: 'fill', fieldPrefix: 'x_', spa: 'false', internalDomains: 'a.com, b.org',
    }
    expect(fromDataset(ds)).toEqual({
      site: 'pk_1', collector: '/_cl', cookieDomain: '.example.com', consent: 'pending', respectGpc: false,
      sessionTimeout: 45, forms: 'fill', fieldPrefix: 'x_', spa: false, internalDomains: ['a.com', 'b.org'],
    })
    expect(fromDataset({ spa: '' }).spa).toBe(true)
    expect(fromDataset({ respectDnt: 'true', consent: 'gtag' })).toEqual({ respectDnt: true, consent: 'gtag' })
    expect(fromDataset({ respectDnt: 'false' })).toEqual({ respectDnt: false })
    expect(fromDataset({})).toEqual({})
  })
  it('an invalid session timeout falls back to 30; undefined never overrides', () => {
    const c = resolveOptions({ site: 'pk', sessionTimeout: NaN, collector: 'https://t.example.com//', spa: undefined })
    expect([c.sessionTimeout, c.collector, c.spa]).toEqual([30, 'https://t.example.com', true])
    expect(resolveOptions({ site: 'pk', sessionTimeout: -5 }).sessionTimeout).toBe(30)
  })
})
