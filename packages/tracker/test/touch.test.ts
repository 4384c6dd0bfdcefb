import { describe, expect, it } from 'vitest'
import { classifyChannel } from '../src/channel-full.js'
import { COMPACT_SOURCES } from '../src/sources-compact.js'
import { CAMPAIGN_PARAMS, detectTouch } from '../src/touch.js'

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
      gclid: 'google', gbraid: 'google', wbraid: 'google', dclid: 'google', fbclid: 'facebook', msclkid: 'bing',
      li_fat_id: 'linkedin', ttclid: 'tiktok', twclid: 'twitter', epik: 'pinterest', rdt_cid: 'reddit', sccid: 'snapchat',
      irclickid: 'impact', yclid: 'yandex', qclid: 'quora',
    }
    const clickIds = CAMPAIGN_PARAMS.split(' ').filter((g) => g.split(':').length == 2).flatMap((g) => g.split(':')[0].split(','))
    expect(clickIds).toEqual(Object.keys(want))
    for (const [param, source] of Object.entries(want)) {
      const t = at(`?${param}=CLICK-1`)!
      expect([t.source, t.medium, t.click_id, t.click_id_type]).toEqual([source, 'cpc', 'CLICK-1', param])
      // The script names every platform's paid click as the collector's full rules do.
      expect(t.channel, param).toBe(classifyChannel(t))
    }
    expect(at('?gclid=x')!.channel).toBe('Paid Search')
    expect(at('?fbclid=x')!.channel).toBe('Paid Social')
    expect(at('?sccid=x')!.channel).toBe('Paid Social')
  })

  it('click-ID names match in any case, as platforms spell them (Snapchat: ScCid)', () => {
    const t = at('?ScCid=snap-1')!
    expect([t.source, t.medium, t.click_id, t.click_id_type, t.channel]).toEqual(['snapchat', 'cpc', 'snap-1', 'sccid', 'Paid Social'])
    expect(at('?GCLID=g-1')).toMatchObject({ source: 'google', click_id: 'g-1', click_id_type: 'gclid' })
    // The first non-empty value in the URL wins, whatever its case.
    expect(at('?sccid=&ScCid=snap-2&SCCID=snap-3')!.click_id).toBe('snap-2')
  })

  it('Mailchimp and Klaviyo links are e-mail campaigns, never ad clicks', () => {
    for (const [param, source] of [['mc_cid', 'mailchimp'], ['_kx', 'klaviyo']]) {
      const t = at(`?${param}=abc123&mc_eid=e1`)!
      expect(t, param).toEqual({ ts: NOW, source, medium: 'email', landing: `https://www.example.com/land?${param}=abc123&mc_eid=e1`, channel: 'Email' })
      expect(classifyChannel(t)).toBe('Email')
    }
    // UTM parameters say otherwise where they are set; the marker fills the rest.
    expect(at('?utm_source=newsletter&mc_cid=a')).toMatchObject({ source: 'newsletter', medium: 'email', channel: 'Email' })
    expect(at('?utm_medium=newsletter&_kx=a')).toMatchObject({ source: 'klaviyo', medium: 'newsletter' })
    expect(at('?utm_source=x&utm_medium=social&mc_cid=a')).toMatchObject({ source: 'x', medium: 'social', channel: 'Organic Social' })
    // An ad click ID on the same link is the click.
    expect(at('?mc_cid=a&fbclid=f')).toMatchObject({ source: 'facebook', medium: 'cpc', click_id: 'f', click_id_type: 'fbclid' })
  })

  it("Google's ad-source flags mark a Google ad without being a click ID", () => {
    for (const q of ['?gad_source=1', '?gclsrc=aw.ds']) {
      const t = at(q)!
      expect([t.source, t.medium, t.click_id, t.click_id_type, t.channel], q).toEqual(['google', 'cpc', undefined, undefined, 'Paid Search'])
    }
    for (const q of ['?gad_source=1&gclid=g-1', '?gclid=g-1&gad_source=1', '?gad_source=1&gclsrc=aw.ds&gclid=g-1'])
      expect(at(q), q).toMatchObject({ source: 'google', medium: 'cpc', click_id: 'g-1', click_id_type: 'gclid', channel: 'Paid Search' })
  })

  it("Instagram's igshid marks a share, not a paid visit", () => {
    expect(at('?igshid=MzRlODBiNWFlZA==')).toBeNull()
    const t = at('?igshid=MzRlODBiNWFlZA==', 'https://l.instagram.com/')!
    expect([t.source, t.medium, t.click_id, t.click_id_type, t.channel]).toEqual(['l.instagram.com', 'referral', undefined, undefined, 'Organic Social'])
    expect(classifyChannel(t)).toBe('Organic Social')
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
