import { describe, expect, it } from 'vitest'
import { convertMessage, segmentEventId, segmentTouch, segmentVisitorId, type SegmentBatchContext } from '../../../src/ingest/segment.js'
import { VISITOR_ID_RE } from '../../../src/ingest/schemas.js'

const NOW = Date.UTC(2026, 11, 4, 12)
const ctx = (over: Partial<SegmentBatchContext> = {}): SegmentBatchContext => ({ receivedAt: NOW, internalHosts: ['shop.example'], newId: () => 'generated', ...over })

function ok(message: unknown, c = ctx()) {
  const r = convertMessage(message, c)
  if (!r.ok) throw new Error(`rejected: ${r.code}`)
  return r
}

describe('segmentVisitorId', () => {
  it('maps any client string to a store visitor key, the same each time', () => {
    for (const id of ['a', 'd8f5c3e2-7a1b-4c6d-9e0f-123456789abc', '12345', 'ünïcødé/with spaces', 'x'.repeat(1000)]) {
      expect(segmentVisitorId(id)).toMatch(VISITOR_ID_RE)
      expect(segmentVisitorId(id)).toBe(segmentVisitorId(id))
    }
  })

  it('gives distinct IDs distinct visitors (no collision among 100,000 near-identical IDs)', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 100_000; i++) seen.add(segmentVisitorId(`anon-${i}`))
    expect(seen.size).toBe(100_000)
  })

  it('event IDs differ in length from the tracker\'s, so they never meet', () => {
    expect(segmentEventId('m1')).toHaveLength(32)
    expect(segmentEventId('m1')).not.toBe(segmentEventId('m1', 'user'))
  })
})

describe('segmentTouch: the tracker\'s rules on Segment fields', () => {
  it('reads utm_* and click IDs from context.page.url', () => {
    const t = segmentTouch({ page: { url: 'https://shop.example/land?utm_source=Google&utm_medium=cpc&utm_campaign=spring&gclid=abc#x', referrer: 'https://www.google.com/' } }, {}, NOW, [])
    expect(t).toMatchObject({ source: 'google', medium: 'cpc', campaign: 'spring', click_id: 'abc', click_id_type: 'gclid', landing: 'https://shop.example/land?utm_source=Google&utm_medium=cpc&utm_campaign=spring&gclid=abc', referrer: 'https://www.google.com/' })
  })

  it('fills from context.campaign what the URL lacks (name is utm_campaign)', () => {
    const t = segmentTouch({ campaign: { name: 'launch', source: 'newsletter', medium: 'email', content: 'hero' }, page: { url: 'https://shop.example/' } }, {}, NOW, [])
    expect(t).toMatchObject({ source: 'newsletter', medium: 'email', campaign: 'launch', content: 'hero', landing: 'https://shop.example/' })
  })

  it('the URL wins over context.campaign', () => {
    const t = segmentTouch({ campaign: { source: 'other' }, page: { url: 'https://shop.example/?utm_source=linkedin&utm_medium=paid_social' } }, {}, NOW, [])
    expect(t).toMatchObject({ source: 'linkedin', medium: 'paid_social' })
  })

  it('reads the query from page.search when the URL has none', () => {
    expect(segmentTouch({ page: { url: 'https://shop.example/p', search: '?fbclid=f1' } }, {}, NOW, [])).toMatchObject({ source: 'facebook', medium: 'cpc', click_id: 'f1' })
  })

  it('classifies a search engine referrer as organic, another site as referral', () => {
    expect(segmentTouch({ page: { url: 'https://shop.example/', referrer: 'https://www.bing.com/search?q=x' } }, {}, NOW, [])).toMatchObject({ source: 'bing', medium: 'organic' })
    expect(segmentTouch({ page: { url: 'https://shop.example/', referrer: 'https://news.ycombinator.com/item' } }, {}, NOW, [])).toMatchObject({ source: 'news.ycombinator.com', medium: 'referral' })
  })

  it('no touch from the site itself, an internal host, or without a referrer', () => {
    expect(segmentTouch({ page: { url: 'https://shop.example/b', referrer: 'https://shop.example/a' } }, {}, NOW, [])).toBeNull()
    expect(segmentTouch({ page: { url: 'https://shop.example/b', referrer: 'https://checkout.example/' } }, {}, NOW, ['checkout.example'])).toBeNull()
    expect(segmentTouch({ page: { url: 'https://shop.example/b' } }, {}, NOW, [])).toBeNull()
  })

  it('a campaign without any page (a mobile screen) is a touch without a landing', () => {
    const t = segmentTouch({ campaign: { source: 'google', medium: 'cpc' } }, {}, NOW, [])
    expect(t).toMatchObject({ source: 'google', medium: 'cpc' })
    expect(t).not.toHaveProperty('landing')
  })

  it('falls back to the page properties analytics.js sends', () => {
    expect(segmentTouch({}, { url: 'https://shop.example/?utm_source=x&utm_medium=y' }, NOW, [])).toMatchObject({ source: 'x', medium: 'y' })
  })
})

describe('convertMessage', () => {
  it('a page becomes a page event with its touch and corrected time', () => {
    const r = ok({ type: 'page', messageId: 'm1', anonymousId: 'anon-1', name: 'Pricing', timestamp: new Date(NOW + 3_600_000 - 2000).toISOString(), sentAt: new Date(NOW + 3_600_000).toISOString(), context: { page: { url: 'https://shop.example/?utm_source=google&utm_medium=cpc', referrer: '', title: 'Pricing – Shop' } }, properties: { path: '/' } })
    expect(r.events).toHaveLength(1)
    expect(r.events[0]).toMatchObject({ id: segmentEventId('m1'), type: 'page', vid: segmentVisitorId('anon-1'), ts: NOW - 2000, url: 'https://shop.example/?utm_source=google&utm_medium=cpc', title: 'Pricing – Shop', props: { path: '/' }, touch: { source: 'google', medium: 'cpc' } })
  })

  it('never places an event after its receipt', () => {
    const r = ok({ type: 'track', event: 'x', userId: 'u', timestamp: new Date(NOW + 86_400_000).toISOString() })
    expect(r.events[0].ts).toBe(NOW)
  })

  it('a batch-level sentAt corrects messages without their own', () => {
    const r = ok({ type: 'track', event: 'x', userId: 'u', timestamp: '2026-12-04T11:00:00.000Z' }, ctx({ sentAt: '2026-12-04T11:30:00.000Z' }))
    expect(r.events[0].ts).toBe(NOW - 30 * 60_000)
  })

  it('a track is a custom event without a touch', () => {
    const r = ok({ type: 'track', event: 'Signed Up', anonymousId: 'a', properties: { plan: 'pro' }, context: { campaign: { source: 'google', medium: 'cpc' } } })
    expect(r.events[0]).toMatchObject({ type: 'track', name: 'Signed Up', props: { plan: 'pro' } })
    expect(r.events[0].touch).toBeUndefined()
  })

  it('identify carries email, phone and userId as traits; both IDs link both visitors', () => {
    const r = ok({ type: 'identify', messageId: 'i1', anonymousId: 'anon-2', userId: 'user-2', traits: { email: 'ann@example.com', plan: 'pro', company: { name: 'Acme' } } })
    expect(r.events).toHaveLength(2)
    expect(r.events[0]).toMatchObject({ type: 'identify', vid: segmentVisitorId('anon-2'), traits: { email: 'ann@example.com', userId: 'user-2', plan: 'pro' } })
    expect(r.events[1]).toMatchObject({ type: 'identify', vid: segmentVisitorId('user-2'), traits: { userId: 'user-2' } })
    expect(r.company).toMatchObject({ company: 'Acme', email: 'ann@example.com', externalId: 'user-2', visitorId: segmentVisitorId('anon-2') })
  })

  it('reads identify traits from context.traits (RudderStack)', () => {
    expect(ok({ type: 'identify', userId: 'u', context: { traits: { email: 'b@example.com' } } }).events[0]).toMatchObject({ traits: { email: 'b@example.com', userId: 'u' } })
  })

  it('alias links the previous ID\'s visitor to the new userId', () => {
    expect(ok({ type: 'alias', previousId: 'anon-3', userId: 'user-3' }).events[0]).toMatchObject({ type: 'identify', vid: segmentVisitorId('anon-3'), traits: { userId: 'user-3' } })
  })

  it('group names the user\'s company and stores no event', () => {
    const r = ok({ type: 'group', userId: 'user-4', groupId: 'g1', traits: { name: 'Initech' } })
    expect(r.events).toEqual([])
    expect(r.company).toMatchObject({ company: 'Initech', externalId: 'user-4' })
  })

  it('cuts an overlong page URL to the wire bound instead of losing the page', () => {
    const url = 'https://shop.example/?utm_source=x&utm_medium=y&q=' + 'a'.repeat(3000)
    const e = ok({ type: 'page', anonymousId: 'a', context: { page: { url } } }).events[0]
    expect(e.url).toHaveLength(2048)
    expect(e.touch).toMatchObject({ source: 'x', medium: 'y' })
  })

  it('numeric IDs are read as strings', () => {
    expect(ok({ type: 'track', event: 'x', userId: 42 }).events[0].vid).toBe(segmentVisitorId('42'))
  })

  it('rejects with codes: no identity, bad type, track without event, too large, bad time', () => {
    const code = (m: unknown) => {
      const r = convertMessage(m, ctx())
      return r.ok ? 'ok' : r.code
    }
    expect(code({ type: 'track', event: 'x' })).toBe('CL_ERR_SEGMENT_NO_IDENTITY')
    expect(code({ type: 'launch', userId: 'u' })).toBe('CL_ERR_INVALID_EVENT')
    expect(code({ type: 'track', userId: 'u' })).toBe('CL_ERR_INVALID_EVENT')
    expect(code({ type: 'alias', userId: 'u' })).toBe('CL_ERR_INVALID_EVENT')
    expect(code({ type: 'track', event: 'x', userId: 'u', properties: { blob: 'x'.repeat(33 * 1024) } })).toBe('CL_ERR_EVENT_TOO_LARGE')
    expect(code({ type: 'track', event: 'x', userId: 'u', timestamp: 'yesterday' })).toBe('CL_ERR_INVALID_EVENT')
    expect(code('not an object')).toBe('CL_ERR_INVALID_EVENT')
  })
})
