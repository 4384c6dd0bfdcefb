import { describe, expect, it } from 'vitest'
import { COMPACT_SOURCES } from '../src/sources-compact.js'
import { CLICK_IDS, detectTouch } from '../src/touch.js'

const ctx = { host: 'www.example.com', internal: ['example.org', '.partner-shop.co.uk'], sources: COMPACT_SOURCES }
const NOW = 1767225600000
const at = (query: string, referrer = '') => detectTouch('https://www.example.com/land' + query + '#frag', referrer, ctx, NOW)

describe('rule 1: UTM parameters and click IDs', () => {
  it('reads all nine utm_* parameters, lower-casing only source and medium', () => {
    const t = at(
      '?utm_source=Google&utm_medium=CPC&utm_campaign=Spring%20Sale&utm_term=Running+Shoes&utm_content=Ad1' +
        '&utm_id=abc123&utm_source_platform=SA360&utm_creative_format=Video&utm_marketing_tactic=Prospecting',
    )
    expect(t).toEqual({
      ts: NOW,
      source: 'google',
      medium: 'cpc',
      campaign: 'Spring Sale',
      term: 'Running Shoes',
      content: 'Ad1',
      id: 'abc123',
      source_platform: 'SA360',
      creative_format: 'Video',
      marketing_tactic: 'Prospecting',
      landing: 'https://www.example.com/land?utm_source=Google&utm_medium=CPC&utm_campaign=Spring%20Sale&utm_term=Running+Shoes&utm_content=Ad1&utm_id=abc123&utm_source_platform=SA360&utm_creative_format=Video&utm_marketing_tactic=Prospecting',
      channel: 'Paid Search',
    })
  })

  it('a click ID without utm_source implies the platform and medium cpc', () => {
    const want: Record<string, string> = {
      gclid: 'google', gbraid: 'google', wbraid: 'google', gclsrc: 'google', dclid: 'google', gad_source: 'google',
      fbclid: 'facebook', msclkid: 'bing', li_fat_id: 'linkedin', ttclid: 'tiktok', twclid: 'twitter', epik: 'pinterest',
      rdt_cid: 'reddit', sccid: 'snapchat', irclickid: 'impact', yclid: 'yandex', qclid: 'quora', mc_cid: 'mailchimp', _kx: 'klaviyo',
    }
    expect(CLICK_IDS).toEqual(want)
    for (const [param, source] of Object.entries(want)) {
      const t = at(`?${param}=CLICK-1`)!
      expect([t.source, t.medium, t.click_id, t.click_id_type]).toEqual([source, 'cpc', 'CLICK-1', param])
    }
    expect(at('?gclid=x')!.channel).toBe('Paid Search')
    expect(at('?fbclid=x')!.channel).toBe('Paid Social')
  })

  it('utm_source wins over the click ID platform; utm_medium is kept', () => {
    const t = at('?utm_source=newsletter&utm_medium=email&gclid=abc')!
    expect([t.source, t.medium, t.click_id, t.click_id_type]).toEqual(['newsletter', 'email', 'abc', 'gclid'])
    expect(at('?utm_medium=paid_social&fbclid=z')!.medium).toBe('paid_social')
  })

  it('any utm_* makes a touch, even without source or medium', () => {
    const t = at('?utm_campaign=launch')!
    expect([t.source, t.medium, t.campaign, t.channel]).toEqual(['(not set)', '(not set)', 'launch', 'Unassigned'])
    expect(at('?utm_foo=1')!.source).toBe('(not set)')
    expect(at('?utm_source=&utm_medium=%20')).toBeNull()
  })

  it('parameters beat the referrer', () => {
    expect(at('?utm_source=x', 'https://www.google.com/')!.source).toBe('x')
  })

  it('keeps hostile values as capped literal text; malformed % never throws', () => {
    const t = at('?utm_source=%3Cscript%3Ealert(1)%3C%2Fscript%3E&utm_campaign=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&utm_term=%E0%A4%A&utm_content=100%')!
    expect(t.source).toBe('<script>alert(1)</script>')
    expect(t.campaign).toBe('"><img src=x onerror=alert(1)>')
    expect(t.term).toBe('\ufffd%A')
    expect(t.content).toBe('100%')
    const long = at('?utm_source=' + 'a'.repeat(10_000) + '&x=' + 'b'.repeat(10_000))!
    expect(long.source).toHaveLength(500)
    expect(long.landing).toHaveLength(500)
  })
})

describe('rule 2: referrers', () => {
  it.each([
    ['https://www.google.com/', 'google', 'organic', 'Organic Search'],
    ['https://www.google.co.uk/search?q=x', 'google', 'organic', 'Organic Search'],
    ['https://www.bing.com/', 'bing', 'organic', 'Organic Search'],
    ['https://cn.bing.com/', 'bing', 'organic', 'Organic Search'],
    ['https://duckduckgo.com/', 'duckduckgo', 'organic', 'Organic Search'],
    ['https://search.yahoo.com/', 'yahoo', 'organic', 'Organic Search'],
    ['https://www.ecosia.org/', 'ecosia.org', 'organic', 'Organic Search'],
    ['https://l.facebook.com/l.php?u=x', 'l.facebook.com', 'referral', 'Organic Social'],
    ['https://t.co/abc', 't.co', 'referral', 'Organic Social'],
    ['https://www.linkedin.com/feed/', 'linkedin.com', 'referral', 'Organic Social'],
    ['https://m.youtube.com/', 'm.youtube.com', 'referral', 'Organic Video'],
    ['https://www.partner.com/post', 'partner.com', 'referral', 'Referral'],
    ['https://blog.partner.co.uk/', 'blog.partner.co.uk', 'referral', 'Referral'],
  ])('%s → %s / %s (%s)', (ref, source, medium, channel) => {
    const t = at('', ref)!
    expect([t.source, t.medium, t.channel, t.referrer]).toEqual([source, medium, channel, ref])
  })

  it('same registrable domain, internal domains and non-web referrers are not touches', () => {
    for (const ref of [
      'https://www.example.com/other',
      'https://shop.example.com/',
      'http://example.com/',
      'https://example.org/',
      'https://eu.partner-shop.co.uk/',
      '',
      'about:blank',
      'not a url',
      'file:///etc/passwd',
    ])
      expect(at('', ref), ref).toBeNull()
  })
})

describe('the direct touch (rule 3)', () => {
  it('is (direct) / (none), channel Direct, landing without fragment', () => {
    expect(detectTouch('https://www.example.com/a?b=1#c', '', ctx, NOW, true)).toEqual({
      ts: NOW,
      source: '(direct)',
      medium: '(none)',
      landing: 'https://www.example.com/a?b=1',
      channel: 'Direct',
    })
  })
})
