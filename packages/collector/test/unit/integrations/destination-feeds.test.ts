// The two CSV feeds against the platforms' published offline-conversion templates, column by
// column; what they match on; and that tracked text cannot become a spreadsheet formula.

import { describe, expect, it } from 'vitest'
import { parseCsv } from '../../../src/outcomes/csv.js'
import type { ConversionRow, Destination, LeadMatchContext } from '../../../src/integrations/destinations/adapter.js'
import { googleAdsFeed } from '../../../src/integrations/destinations/google-ads-feed.js'
import { microsoftAdsFeed } from '../../../src/integrations/destinations/microsoft-ads-feed.js'
import { parseSend } from '../../../src/integrations/destinations/destinations.js'
import { destinationRegistry } from '../../../src/integrations/destinations/registry.js'

const DAY = 86_400_000
const T = Date.UTC(2026, 2, 14, 9, 26, 53)

// The templates as Google Ads ("Conversions from clicks", Goals → Conversions → Uploads → View
// templates) and Microsoft Advertising (Conversions → Offline conversions → Download template) publish them.
const GOOGLE_TEMPLATE = ['Parameters:TimeZone=', 'Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency']
const MICROSOFT_TEMPLATE = ['Parameters:TimeZone=', 'Microsoft Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency']

const dest = (kind: 'google-ads-feed' | 'microsoft-ads-feed'): Destination<Record<string, never>> => ({ id: 'dst_1', siteId: 's', kind, options: {}, send: {} })

function row(over: Partial<ConversionRow>): ConversionRow {
  return {
    key: 'cl_k', leadId: 'l1', stage: 'won', conversionName: 'Closed deal', value: 4200.5, currency: 'EUR', occurredAt: T,
    click: { type: 'gclid', value: 'Cj0KCQiA-abc_DEF', ts: T - DAY }, email: 'a@b.example', phone: null, fbp: null, ...over,
  }
}

/** The rows under the header row (the line after the TimeZone row), as header → cell. */
function table(csv: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(csv.split('\r\n').slice(1).join('\n'))
  return rows.map((r) => Object.fromEntries(header.fields.map((h, i) => [h, r.fields[i]])))
}

const lead = (clicks: LeadMatchContext['clicks'], convertedAt = T): LeadMatchContext => ({ leadId: 'l', convertedAt, clicks, hasEmail: true, hasPhone: true })

describe('Google Ads offline click-conversion feed', () => {
  it('follows the template column by column', () => {
    const csv = googleAdsFeed.feed([row({}), row({ key: 'k2', stage: 'sql', conversionName: 'Qualified lead', value: 100, click: { type: 'gbraid', value: '0AAAAA-x', ts: T }, occurredAt: T + 1000 })], dest('google-ads-feed'))
    const lines = csv.split('\r\n')
    expect(lines[0].startsWith(GOOGLE_TEMPLATE[0])).toBe(true)
    expect(lines[0]).toBe('Parameters:TimeZone=+0000')
    expect(lines[1]).toBe(GOOGLE_TEMPLATE[1])
    const records = table(csv)
    expect(records.map((r) => [r['Google Click ID'], r['Conversion Name'], r['Conversion Time'], r['Conversion Value'], r['Conversion Currency']])).toEqual([
      ['Cj0KCQiA-abc_DEF', 'Closed deal', '2026-03-14 09:26:53', '4200.5', 'EUR'],
      ['0AAAAA-x', 'Qualified lead', '2026-03-14 09:26:54', '100', 'EUR'],
    ])
    expect(csv.endsWith('\r\n')).toBe(true)
  })

  it('leaves out rows without a Google click, and an empty value and currency when there is no value', () => {
    const csv = googleAdsFeed.feed([row({ click: null }), row({ click: { type: 'msclkid', value: 'ms', ts: T } }), row({ value: null })], dest('google-ads-feed'))
    expect(csv.split('\r\n').slice(2, -1)).toEqual(['Cj0KCQiA-abc_DEF,Closed deal,2026-03-14 09:26:53,,'])
  })

  it('matches only a Google click within 90 days before the conversion, newest first', () => {
    expect(googleAdsFeed.matchable(lead([{ type: 'gclid', value: 'new', ts: T - DAY }, { type: 'gclid', value: 'old', ts: T - 10 * DAY }]), dest('google-ads-feed'))).toEqual({ by: 'click', click: { type: 'gclid', value: 'new', ts: T - DAY } })
    expect(googleAdsFeed.matchable(lead([{ type: 'wbraid', value: 'w', ts: T - 90 * DAY }]), dest('google-ads-feed'))?.by).toBe('click')
    expect(googleAdsFeed.matchable(lead([{ type: 'gclid', value: 'late', ts: T - 90 * DAY - 1 }]), dest('google-ads-feed'))).toBeNull()
    expect(googleAdsFeed.matchable(lead([{ type: 'fbclid', value: 'fb', ts: T }]), dest('google-ads-feed'))).toBeNull()
    // An e-mail is no match: the template has no identity column.
    expect(googleAdsFeed.matchable(lead([]), dest('google-ads-feed'))).toBeNull()
    // A tracked "click ID" that is not one (text from a URL) never matches.
    expect(googleAdsFeed.matchable(lead([{ type: 'gclid', value: '=HYPERLINK("x")', ts: T }]), dest('google-ads-feed'))).toBeNull()
  })
})

describe('Microsoft Advertising offline conversion feed', () => {
  it('follows the template column by column', () => {
    const csv = microsoftAdsFeed.feed([row({ click: { type: 'msclkid', value: 'f894f652ea334e739002f7167ab8f8e3', ts: T - DAY }, value: 10, currency: 'USD' })], dest('microsoft-ads-feed'))
    const lines = csv.split('\r\n')
    expect(lines[0].startsWith(MICROSOFT_TEMPLATE[0])).toBe(true)
    expect(lines[1]).toBe(MICROSOFT_TEMPLATE[1])
    const [r] = table(csv)
    expect([r['Microsoft Click ID'], r['Conversion Name'], r['Conversion Time'], r['Conversion Value'], r['Conversion Currency']])
      .toEqual(['f894f652ea334e739002f7167ab8f8e3', 'Closed deal', '2026-03-14 09:26:53', '10', 'USD'])
  })

  it('matches only an msclkid within 90 days', () => {
    expect(microsoftAdsFeed.matchable(lead([{ type: 'gclid', value: 'g', ts: T }, { type: 'msclkid', value: 'm', ts: T - 5 * DAY }]), dest('microsoft-ads-feed'))).toEqual({ by: 'click', click: { type: 'msclkid', value: 'm', ts: T - 5 * DAY } })
    expect(microsoftAdsFeed.matchable(lead([{ type: 'msclkid', value: 'm', ts: T - 91 * DAY }]), dest('microsoft-ads-feed'))).toBeNull()
    // A click after the conversion is not its cause.
    expect(microsoftAdsFeed.matchable(lead([{ type: 'msclkid', value: 'm', ts: T + 1 }]), dest('microsoft-ads-feed'))).toBeNull()
  })
})

describe('CSV injection', () => {
  it('writes a conversion name starting with a formula character as text, quoted where needed', () => {
    for (const adapter of [googleAdsFeed, microsoftAdsFeed]) {
      const click = { type: adapter.kind === 'google-ads-feed' ? 'gclid' : 'msclkid', value: 'abc', ts: T }
      const csv = adapter.feed([
        row({ click, conversionName: '=cmd|\' /C calc\'!A0' }), row({ click, conversionName: '+1, "two"' }), row({ click, conversionName: '@SUM(A1)' }), row({ click, conversionName: '-2' }),
      ], dest(adapter.kind))
      const names = table(csv).map((r) => r['Conversion Name'])
      expect(names).toEqual(["'=cmd|' /C calc'!A0", "'+1, \"two\"", "'@SUM(A1)", "'-2"])
    }
  })

  it('never writes a click ID that is not a plain token', () => {
    const csv = googleAdsFeed.feed([row({ click: { type: 'gclid', value: '=1+1', ts: T } }), row({ click: { type: 'gclid', value: 'a,b', ts: T } })], dest('google-ads-feed'))
    expect(csv.split('\r\n').slice(2, -1)).toEqual([])
  })
})

describe('feed options and registry', () => {
  it('feeds take no options and are registered', () => {
    expect(googleAdsFeed.parseOptions({})).toEqual({})
    expect(() => microsoftAdsFeed.parseOptions({ 'api-base': 'http://x' })).toThrow(expect.objectContaining({ code: 'CL_ERR_BAD_CONFIG' }))
    expect(destinationRegistry.get('google-ads-feed')).toBe(googleAdsFeed)
    expect(destinationRegistry.get('microsoft-ads-feed')).toBe(microsoftAdsFeed)
  })
})

describe('--send STAGE=NAME[:VALUE]', () => {
  it('reads stages, names, fixed values and the deal amount', () => {
    expect(parseSend(['sql=Qualified lead:100', 'won=Closed deal', 'MQL=Lead: webinar', 'opportunity= Demo :99.50'])).toEqual({
      sql: { name: 'Qualified lead', value: 100 }, won: { name: 'Closed deal', value: null }, mql: { name: 'Lead: webinar', value: null }, opportunity: { name: 'Demo', value: 99.5 },
    })
  })

  it.each([
    [[], 'at least one --send'],
    [['won'], 'must be STAGE=NAME[:VALUE]'],
    [['closed=Deal'], '"closed" is not a stage'],
    [['won=Deal:-5'], 'the value "-5" must be a number of at least 0'],
    [['won=Deal:1,5'], 'the value "1,5"'],
    [['won=Deal:1.2.3'], 'the value "1.2.3"'],
    [['won=:100'], 'the conversion name must be 1 to 100 characters'],
    [['won=' + 'x'.repeat(101)], 'the conversion name must be 1 to 100'],
    [['won=A', 'won=B'], 'names the stage "won" twice'],
  ])('refuses %j with CL_ERR_BAD_SEND', (values, message) => {
    let err: unknown
    try { parseSend(values) } catch (e) { err = e }
    expect(err).toMatchObject({ code: 'CL_ERR_BAD_SEND', status: 400 })
    expect((err as Error).message).toContain(message)
  })
})
