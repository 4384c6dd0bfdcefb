// The API destination adapters without the network: options (errors name the option), which
// leads each platform can match and inside which click window, and the time formats they send.

import { describe, expect, it } from 'vitest'
import { ClError } from '../../../src/errors.js'
import type { ClickRef, LeadMatchContext } from '../../../src/integrations/destinations/adapter.js'
import { GOOGLE_ADS_API, GOOGLE_ADS_API_VERSION, googleAdsAdapter, googleDateTime } from '../../../src/integrations/destinations/google-ads.js'
import { LINKEDIN_API, linkedinAdapter } from '../../../src/integrations/destinations/linkedin.js'
import { META_API, metaAdapter } from '../../../src/integrations/destinations/meta.js'
import type { RawOptions } from '../../../src/integrations/types.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 5, 1)

function error(f: () => unknown): ClError {
  try { f() } catch (err) { if (err instanceof ClError) return err; throw err }
  throw new Error('did not throw')
}

const GOOGLE: RawOptions = {
  'client-id': 'cid.apps.googleusercontent.com', 'client-secret': 'sec', 'refresh-token': '1//r', 'developer-token': 'dev',
  'customer-id': '123-456-7890', action: 'Qualified lead=111\nClosed, won=222',
}
const without = (raw: RawOptions, name: string): RawOptions => Object.fromEntries(Object.entries(raw).filter(([k]) => k !== name))

const lead = (clicks: ClickRef[], over: Partial<LeadMatchContext> = {}): LeadMatchContext => ({ leadId: 'l', convertedAt: NOW, clicks, hasEmail: false, hasPhone: false, ...over })
const click = (type: string, daysBefore: number): ClickRef => ({ type, value: `${type}-${daysBefore}`, ts: NOW - daysBefore * DAY })

describe('Google Ads options', () => {
  it('reads the OAuth client, account and conversion actions, with defaults', () => {
    const o = googleAdsAdapter.parseOptions(GOOGLE)
    expect(o).toMatchObject({ customerId: '1234567890', loginCustomerId: null, apiBase: GOOGLE_ADS_API, tokenUrl: 'https://oauth2.googleapis.com/token', apiVersion: GOOGLE_ADS_API_VERSION })
    // A name may hold a comma; entries are split on line breaks (repeated --action) or commas.
    expect(o.actions).toEqual({ 'Qualified lead': '111', 'Closed, won': '222' })
    expect(googleAdsAdapter.parseOptions({ ...GOOGLE, action: 'A=1, B=2', 'login-customer-id': '9876543210', 'api-base': 'http://127.0.0.1:9/' })).toMatchObject({
      actions: { A: '1', B: '2' }, loginCustomerId: '9876543210', apiBase: 'http://127.0.0.1:9',
    })
    expect(googleAdsAdapter.secretOptions).toEqual(['client-secret', 'refresh-token', 'developer-token'])
  })

  it('names the option that is missing or wrong', () => {
    for (const name of ['client-id', 'client-secret', 'refresh-token', 'developer-token', 'customer-id', 'action']) {
      const e = error(() => googleAdsAdapter.parseOptions(without(GOOGLE, name)))
      expect([e.code, e.message.startsWith(`--${name} is required`)]).toEqual(['CL_ERR_BAD_CONFIG', true])
    }
    expect(error(() => googleAdsAdapter.parseOptions({ ...GOOGLE, 'customer-id': '12345' })).message).toBe('--customer-id must be a Google Ads customer ID such as 123-456-7890')
    expect(error(() => googleAdsAdapter.parseOptions({ ...GOOGLE, 'login-customer-id': 'abc' })).message).toContain('--login-customer-id must be')
    expect(error(() => googleAdsAdapter.parseOptions({ ...GOOGLE, action: 'Qualified lead' })).message).toBe('--action must be NAME=VALUE entries such as --action "Qualified lead=123456789"')
    expect(error(() => googleAdsAdapter.parseOptions({ ...GOOGLE, action: 'Lead=abc' })).message).toContain('--action must be NAME=VALUE')
    expect(error(() => googleAdsAdapter.parseOptions({ ...GOOGLE, action: 'A=1\nA=2' })).message).toBe('--action names "A" twice')
    expect(error(() => googleAdsAdapter.parseOptions({ ...GOOGLE, 'api-base': 'ftp://x' })).message).toBe('--api-base must be an http(s) URL')
    expect(error(() => googleAdsAdapter.parseOptions({ ...GOOGLE, 'token-url': 'nope' })).message).toBe('--token-url must be an http(s) URL')
    expect(error(() => googleAdsAdapter.parseOptions({ ...GOOGLE, 'api-version': '26' })).message).toBe('--api-version must look like v26')
  })

  it('matches a gclid/gbraid/wbraid inside 90 days before the conversion, else by identity', () => {
    expect(googleAdsAdapter.matchable(lead([click('fbclid', 1), click('gclid', 89)]), null as never)).toEqual({ by: 'click', click: click('gclid', 89) })
    expect(googleAdsAdapter.matchable(lead([click('wbraid', 2)]), null as never)).toEqual({ by: 'click', click: click('wbraid', 2) })
    expect(googleAdsAdapter.matchable(lead([click('gclid', 91)]), null as never)).toBeNull()
    expect(googleAdsAdapter.matchable(lead([click('gclid', 91)], { hasPhone: true }), null as never)).toEqual({ by: 'identity' })
    // A click after the conversion did not lead to it.
    expect(googleAdsAdapter.matchable(lead([click('gclid', -1)], { hasEmail: true }), null as never)).toEqual({ by: 'identity' })
  })

  it('writes conversion times as yyyy-mm-dd hh:mm:ss+00:00 in UTC', () => {
    expect(googleDateTime(Date.UTC(2026, 0, 2, 3, 4, 5, 999))).toBe('2026-01-02 03:04:05+00:00')
    expect(googleDateTime(Date.UTC(2026, 11, 31, 23, 59, 59))).toBe('2026-12-31 23:59:59+00:00')
  })
})

describe('Meta options', () => {
  const META: RawOptions = { 'pixel-id': '1234567890123456', 'access-token': 'EAAB' }
  it('reads the pixel, token and test code, and names what is wrong', () => {
    expect(metaAdapter.parseOptions({ ...META, 'test-event-code': 'TEST123' })).toEqual({ pixelId: '1234567890123456', accessToken: 'EAAB', testEventCode: 'TEST123', apiBase: META_API, apiVersion: 'v24.0' })
    expect(error(() => metaAdapter.parseOptions(without(META, 'pixel-id'))).message).toMatch(/^--pixel-id is required/)
    expect(error(() => metaAdapter.parseOptions(without(META, 'access-token'))).message).toMatch(/^--access-token is required/)
    expect(error(() => metaAdapter.parseOptions({ ...META, 'pixel-id': 'px-1' })).message).toMatch(/^--pixel-id must be/)
    expect(error(() => metaAdapter.parseOptions({ ...META, 'test-event-code': 'has space' })).message).toMatch(/^--test-event-code must be/)
    expect(error(() => metaAdapter.parseOptions({ ...META, 'api-version': '24' })).code).toBe('CL_ERR_BAD_CONFIG')
    expect(metaAdapter.secretOptions).toEqual(['access-token'])
  })

  it('matches an fbclid of the last 28 days, else e-mail or phone', () => {
    expect(metaAdapter.matchable(lead([click('gclid', 1), click('fbclid', 28)]), null as never)).toEqual({ by: 'click', click: click('fbclid', 28) })
    expect(metaAdapter.matchable(lead([click('fbclid', 29)]), null as never)).toBeNull()
    expect(metaAdapter.matchable(lead([click('fbclid', 29)], { hasPhone: true }), null as never)).toEqual({ by: 'identity' })
  })
})

describe('LinkedIn options', () => {
  const LI: RawOptions = { 'access-token': 'AQV', 'conversion-urn': 'urn:lla:llaPartnerConversion:1111' }
  it('takes one rule URN for every conversion, or NAME=URN entries', () => {
    expect(linkedinAdapter.parseOptions(LI)).toEqual({ accessToken: 'AQV', conversions: { '*': 'urn:lla:llaPartnerConversion:1111' }, apiBase: LINKEDIN_API, apiVersion: '202603' })
    expect(linkedinAdapter.parseOptions({ ...LI, 'conversion-urn': 'SQL=urn:lla:llaPartnerConversion:1\nWon=urn:lla:llaPartnerConversion:2' }).conversions).toEqual({
      SQL: 'urn:lla:llaPartnerConversion:1', Won: 'urn:lla:llaPartnerConversion:2',
    })
  })

  it('names what is wrong', () => {
    expect(error(() => linkedinAdapter.parseOptions(without(LI, 'access-token'))).message).toMatch(/^--access-token is required/)
    expect(error(() => linkedinAdapter.parseOptions(without(LI, 'conversion-urn'))).message).toMatch(/^--conversion-urn is required/)
    expect(error(() => linkedinAdapter.parseOptions({ ...LI, 'conversion-urn': 'urn:li:sponsoredAccount:1' })).message).toMatch(/^--conversion-urn must be a conversion rule URN/)
    expect(error(() => linkedinAdapter.parseOptions({ ...LI, 'conversion-urn': 'SQL=123' })).message).toMatch(/^--conversion-urn must be NAME=VALUE/)
    expect(error(() => linkedinAdapter.parseOptions({ ...LI, 'api-version': '2026-03' })).message).toMatch(/^--api-version must be/)
  })

  it('matches an li_fat_id of the last 90 days, else an e-mail (never a phone alone)', () => {
    expect(linkedinAdapter.matchable(lead([click('li_fat_id', 90)]), null as never)).toEqual({ by: 'click', click: click('li_fat_id', 90) })
    expect(linkedinAdapter.matchable(lead([click('li_fat_id', 91)], { hasPhone: true }), null as never)).toBeNull()
    expect(linkedinAdapter.matchable(lead([click('li_fat_id', 91)], { hasEmail: true }), null as never)).toEqual({ by: 'identity' })
  })
})
