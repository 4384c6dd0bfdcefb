import { createHash, createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { deriveKeys } from '../../../src/identity/crypto.js'
import {
  keyUnkeyedHash, matchHash, normalizeEmail, normalizePerson, normalizePhone, suppressionHash, suppressionHashes,
} from '../../../src/identity/match-keys.js'

describe('normalizeEmail', () => {
  it('trims and lower-cases', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM \n')).toBe('ada.lovelace@example.com')
    expect(normalizeEmail('a+tag@sub.example.co.uk')).toBe('a+tag@sub.example.co.uk')
  })

  it.each([
    '', '   ', 'no-at-sign', '@example.com', 'a@', 'a@b', 'a b@example.com', 'a@@example.com',
    'a@example..com', 'a@.example.com', `${'x'.repeat(65)}@example.com`, `a@${'x'.repeat(250)}.com`,
  ])('rejects %j', (raw) => {
    expect(normalizeEmail(raw)).toBeNull()
  })
})

describe('normalizePhone', () => {
  it('formats national numbers in the default region as E.164', () => {
    expect(normalizePhone('(415) 555-0132')).toBe('+14155550132')
    expect(normalizePhone('415.555.0132', 'US')).toBe('+14155550132')
    expect(normalizePhone('020 7946 0958', 'GB')).toBe('+442079460958')
    expect(normalizePhone('030 123456', 'DE')).toBe('+4930123456')
  })

  it('reads only international numbers when the region is unknown', () => {
    expect(normalizePhone('(415) 555-0132', 'XX')).toBeNull()
    expect(normalizePhone('+44 20 7946 0958', 'XX')).toBe('+442079460958')
    expect(normalizePhone('020 7946 0958', 'gb')).toBe('+442079460958')
  })

  it('keeps an explicit country code whatever the default region', () => {
    expect(normalizePhone('+44 20 7946 0958', 'US')).toBe('+442079460958')
    expect(normalizePhone('+1 415 555 0132', 'GB')).toBe('+14155550132')
  })

  it('makes different spellings of one number one key', () => {
    const spellings = ['+1 (415) 555-0132', '4155550132', '1-415-555-0132', ' +14155550132 ']
    expect(new Set(spellings.map((s) => normalizePhone(s, 'US'))).size).toBe(1)
  })

  it.each(['', 'call me', '12', '+999 1234', '1'.repeat(80)])('rejects %j', (raw) => {
    expect(normalizePhone(raw)).toBeNull()
  })
})

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')
const key = randomBytes(32)

describe('hashes', () => {
  it('matchHash is keyed: not the plain SHA-256, stable under one key, different under another', () => {
    const h = matchHash('+14155550132', key)
    expect(h).toMatch(/^[0-9a-f]{64}$/)
    expect(h).not.toBe(sha256('+14155550132'))
    expect(matchHash('+14155550132', Buffer.from(key))).toBe(h)
    expect(matchHash('+14155550132', randomBytes(32))).not.toBe(h)
    expect(matchHash('+14155550133', key)).not.toBe(h)
  })

  it('matchHash differs across installs (keys derived from different master keys)', () => {
    const a = deriveKeys(randomBytes(32)).matchKey
    const b = deriveKeys(randomBytes(32)).matchKey
    expect(a).toHaveLength(32)
    expect(matchHash('a@b.co', a)).not.toBe(matchHash('a@b.co', b))
    // The match key is its own: not the suppression salt, so the two hashes never coincide.
    const keys = deriveKeys(randomBytes(32))
    expect(keys.matchKey.equals(keys.suppressionSalt)).toBe(false)
    expect(matchHash('a@b.co', keys.matchKey)).not.toBe(suppressionHash('a@b.co', keys.suppressionSalt))
  })

  it('an older unkeyed hash (SHA-256 hex) is keyed into what matchHash gives for the value', () => {
    expect(keyUnkeyedHash(sha256('a@b.co'), key)).toBe(matchHash('a@b.co', key))
    expect(matchHash('a@b.co', key)).toBe(createHmac('sha256', key).update(sha256('a@b.co')).digest('hex'))
  })

  it('suppressionHash depends on the salt and differs from the plain hash', () => {
    const salt1 = randomBytes(32)
    const salt2 = randomBytes(32)
    expect(suppressionHash('email:a@b.co', salt1)).toBe(suppressionHash('email:a@b.co', salt1))
    expect(suppressionHash('email:a@b.co', salt1)).not.toBe(suppressionHash('email:a@b.co', salt2))
    expect(suppressionHash('a@b.co', salt1)).not.toBe(sha256('a@b.co'))
  })

  it('suppressionHashes gives one per identifier, kind-separated', () => {
    const salt = randomBytes(32)
    const all = suppressionHashes(salt, { email: 'x', phone: '+14155550132', externalId: 'x', visitorId: 'v' })
    expect(all).toHaveLength(4)
    expect(new Set(all).size).toBe(4) // email "x" and external ID "x" do not collide
    expect(suppressionHashes(salt, { email: null, visitorId: '' })).toEqual([])
  })
})

describe('normalizePerson', () => {
  it('derives match keys in priority order', () => {
    const r = normalizePerson({ externalId: 'crm-1', phone: '(415) 555-0132', email: ' A@B.co ' }, key)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.person.email).toBe('a@b.co')
    expect(r.person.phone).toBe('+14155550132')
    expect(r.person.keys).toEqual([
      { kind: 'email', hash: matchHash('a@b.co', key) },
      { kind: 'phone', hash: matchHash('+14155550132', key) },
      { kind: 'external', hash: matchHash('crm-1', key) },
    ])
  })

  it('names the field that cannot be normalised', () => {
    expect(normalizePerson({ email: 'nope' }, key)).toEqual({ ok: false, field: 'email' })
    expect(normalizePerson({ email: 'a@b.co', phone: 'x' }, key)).toEqual({ ok: false, field: 'phone' })
    expect(normalizePerson({ externalId: '' }, key)).toEqual({ ok: false, field: 'externalId' })
  })
})
