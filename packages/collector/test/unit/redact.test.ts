import { describe, expect, it } from 'vitest'
import { isPersonalName, redactProps, redactText, redactUrl } from '../../src/ingest/redact.js'

describe('redaction of personal data in tracked text', () => {
  it('redacts e-mail addresses, raw and percent-encoded, anywhere', () => {
    expect(redactText('Thanks, ann.lee+promo@example.co.uk!')).toBe('Thanks, [email]!')
    expect(redactUrl('https://shop.example/thanks?from=ann%40example.com&x=1')).toBe('https://shop.example/thanks?from=[email]&x=1')
    expect(redactUrl('https://shop.example/u/ann%2540example.com/profile')).toBe('https://shop.example/u/[email]/profile')
    expect(redactText('no address @ here, nor a@b')).toBe('no address @ here, nor a@b')
  })

  it('redacts the values of query parameters named like e-mail or phone fields', () => {
    expect(redactUrl('https://s.example/p?utm_source=x&phone=%2B14155550132&Tel=555&e-mail=z&user_email=q#top'))
      .toBe('https://s.example/p?utm_source=x&phone=%5Bredacted%5D&Tel=%5Bredacted%5D&e-mail=%5Bredacted%5D&user_email=%5Bredacted%5D#top')
    expect(redactUrl('https://s.example/p?mobile_number=07700900123&hotel=ritz&telescope=1')).toBe('https://s.example/p?mobile_number=%5Bredacted%5D&hotel=ritz&telescope=1')
    // Nothing personal: the same string back (no copy made).
    const clean = 'https://s.example/p?utm_campaign=spring&gclid=abc'
    expect(redactUrl(clean)).toBe(clean)
  })

  it('names: what counts as personal', () => {
    for (const n of ['email', 'Email', 'e-mail', 'user_email', 'emailAddress', 'phone', 'phone_number', 'tel', 'mobile', 'mobilePhone', 'work-phone']) expect(isPersonalName(n), n).toBe(true)
    for (const n of ['hotel', 'telescope', 'mailchimp_id', 'automobile', 'telemetry', 'gclid', 'campaign']) expect(isPersonalName(n), n).toBe(false)
  })

  it('keeps a "__proto__" key a plain key', () => {
    const props = JSON.parse('{"__proto__":{"email":"a@b.example"},"x":1}') as Record<string, unknown>
    const out = redactProps(props)
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(JSON.stringify(out)).toBe('{"__proto__":{"email":"[redacted]"},"x":1}')
  })

  it('redacts properties by name and by content, keeping their shape', () => {
    expect(redactProps({ plan: 'pro', phone: '+44 7700 900123', contact: { email: 'x@y.io', note: 'mail me at bo@corp.example' }, list: ['a@b.example.org', 3], n: 4 }))
      .toEqual({ plan: 'pro', phone: '[redacted]', contact: { email: '[redacted]', note: 'mail me at [email]' }, list: ['[email]', 3], n: 4 })
  })
})
