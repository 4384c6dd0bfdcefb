// The pure event rules, without HTTP.
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { deriveKeys } from '../../../src/identity/crypto.js'
import { cleanTouch, correctTs, prepareEvent, type EventContext } from '../../../src/ingest/events.js'
import { rejectedExcerpt } from '../../../src/ingest/batch.js'
import { boundedObject } from '../../../src/ingest/json-bounds.js'
import { Pii } from '../../../src/identity/pii.js'
import { pageEvent, visitorId } from '../../http/helpers.js'

const pii = new Pii(deriveKeys(randomBytes(32)))
const now = Date.UTC(2026, 0, 1)
const collectCtx: EventContext = { siteId: 's', receivedAt: now, sentAt: now + 60_000, trustTs: false }

describe('correctTs', () => {
  it('shifts by the client clock offset and never lands after receipt', () => {
    expect(correctTs(now + 50_000, collectCtx)).toBe(now - 10_000)
    expect(correctTs(now + 120_000, collectCtx)).toBe(now) // "sent" before it happened: clamp
    expect(correctTs(123, { ...collectCtx, trustTs: true })).toBe(123)
  })
})

describe('cleanTouch', () => {
  it('trims, caps, lower-cases and classifies', () => {
    const t = cleanTouch({ source: ' FaceBook.com ', medium: ' Referral', campaign: '  ', click_id_type: 'FBCLID', landing: 'x'.repeat(900) }, now, collectCtx)
    expect(t).toMatchObject({ source: 'facebook.com', medium: 'referral', campaign: null, click_id_type: 'fbclid', ts: now, channel: 'Organic Social' })
    expect(t.landing).toHaveLength(500)
    expect(cleanTouch({}, now, collectCtx)).toMatchObject({ source: '(direct)', medium: '(none)', channel: 'Direct' })
    expect(cleanTouch({ source: 'google', medium: 'cpc', channel: 'Email' }, now, collectCtx).channel).toBe('Paid Search')
  })

  it('classifies campaign markers as the tracker does: e-mail links and shares are not paid clicks', () => {
    const channel = (raw: Parameters<typeof cleanTouch>[0]) => cleanTouch(raw, now, collectCtx).channel
    // What the tracker sends for ?mc_cid=…, ?_kx=…, ?ScCid=… and ?gad_source=1.
    expect(channel({ source: 'mailchimp', medium: 'email', channel: 'Email' })).toBe('Email')
    expect(channel({ source: 'klaviyo', medium: 'email', channel: 'Email' })).toBe('Email')
    expect(channel({ source: 'snapchat', medium: 'cpc', click_id: 's1', click_id_type: 'sccid', channel: 'Paid Social' })).toBe('Paid Social')
    expect(channel({ source: 'google', medium: 'cpc', channel: 'Paid Search' })).toBe('Paid Search')
    // The same links recorded as click IDs (an import, an earlier tracker): still e-mail.
    expect(channel({ source: 'mailchimp', medium: 'cpc', click_id: 'c1', click_id_type: 'mc_cid', channel: 'Paid Other' })).toBe('Email')
    expect(channel({ source: 'Klaviyo', click_id: 'k1', click_id_type: '_KX' })).toBe('Email')
    // An Instagram share ID without a medium is no paid click.
    expect(channel({ source: 'l.instagram.com', medium: 'referral', click_id_type: 'igshid' })).toBe('Organic Social')
    expect(channel({ source: 'instagram', click_id: 'i1', click_id_type: 'igshid' })).toBe('Organic Social')
  })
})

describe("Meta's _fbp on a touch", () => {
  const FBP = 'fb.1.1767225500000.1234567890'
  it('keeps a well-formed value and drops anything else, never the event', () => {
    expect(cleanTouch({ source: 'facebook', fbp: FBP }, now, collectCtx).fbp).toBe(FBP)
    expect(cleanTouch({ source: 'facebook', fbp: 'fb.2.1767225500000.98765432109876543210' }, now, collectCtx).fbp).toBe('fb.2.1767225500000.98765432109876543210')
    const bad: unknown[] = [
      undefined, null, 42, { v: FBP }, [FBP], '', ' ' + FBP, FBP + ' ', 'fb.1.1767225500.1234567890', 'fb.12.1767225500000.1234567890',
      'fb.1.1767225500000.', 'fb.1.1767225500000.12a4', 'fbp.1.1767225500000.1234567890', 'fb.1.1767225500000.' + '1'.repeat(21),
      'fb.1.1767225500000.1234567890\n', 'fb.1.1767225500000.1234567890;x=1', 'x'.repeat(5000),
    ]
    for (const fbp of bad) {
      const p = prepareEvent({ ...pageEvent(visitorId(), { ts: now }), touch: { source: 'facebook', medium: 'cpc', fbp } }, collectCtx, pii)
      expect(p.ok, String(fbp)).toBe(true)
      if (p.ok) expect(p.event.touch?.fbp, String(fbp)).toBeNull()
    }
    const good = prepareEvent({ ...pageEvent(visitorId(), { ts: now }), touch: { source: 'facebook', medium: 'cpc', fbp: FBP } }, collectCtx, pii)
    expect(good.ok && good.event.touch?.fbp).toBe(FBP)
  })
})

describe('prepareEvent', () => {
  it('protects identify traits and keeps the rest', () => {
    const vid = visitorId()
    const p = prepareEvent(pageEvent(vid, { type: 'identify', ts: now, traits: { email: 'A@B.co', userId: 'u1', plan: 'pro' } }), collectCtx, pii)
    expect(p.ok).toBe(true)
    if (!p.ok) return
    expect(p.event.traits).toEqual({ plan: 'pro' })
    expect(p.person?.keys.map((k) => k.kind)).toEqual(['email', 'external'])
    expect(p.person?.emailEnc).toMatch(/^v1\./)
    expect(p.person?.suppression.length).toBe(3) // email, external, visitor
  })

  it('strips identifiers from traits of non-identify events without linking', () => {
    const p = prepareEvent(pageEvent(visitorId(), { type: 'track', name: 'x', ts: now, traits: { email: 'a@b.co' } }), collectCtx, pii)
    expect(p.ok && p.event.traits).toEqual({})
    expect(p.ok && p.person).toBeNull()
  })
})

describe('bounds and excerpts', () => {
  it('caps depth, keys and strings', () => {
    expect(boundedObject({ a: { b: { c: { d: { e: 1 } } } } })).not.toBeNull()
    expect(boundedObject({ a: { b: { c: { d: { e: { f: 1 } } } } } })).toBeNull()
    expect(boundedObject(Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, i])))).toBeNull()
    expect(boundedObject({ s: 'x'.repeat(2001) })).toBeNull()
    expect(boundedObject({ n: Infinity })).toBeNull()
    expect(boundedObject([1])).toBeNull()
  })

  it('removes traits and email addresses from rejected excerpts', () => {
    const text = rejectedExcerpt({ type: 'identify', traits: { email: 'x@y.co' }, url: 'https://a.b/?e=someone@example.com' })
    expect(text).not.toContain('x@y.co')
    expect(text).not.toContain('someone@example.com')
    expect(text).toContain('[email]')
    expect(rejectedExcerpt('z'.repeat(5000)).length).toBeLessThanOrEqual(1000)
  })
})
