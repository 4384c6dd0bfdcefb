import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  googleEmail, googleHashedEmail, googleHashedPhone, linkedinHashedEmail, metaHashedEmail, metaHashedExternalId, metaHashedPhone,
  normaliseEmail, normalisePhone, sha256Hex,
} from '../../../src/integrations/destinations/identity-hash.js'

// Hashes computed here with node:crypto directly, not through the module under test.
const sha = (s: string) => createHash('sha256').update(s).digest('hex')

describe('identity hashing per platform', () => {
  it('hashes as SHA-256 in lower-case hex (published vectors)', () => {
    // FIPS 180-2 / NIST example: SHA-256("abc").
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    // Meta's Conversions API request example hashes the phone 12345678901 to this value.
    expect(metaHashedPhone('+12345678901')).toBe('254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4')
  })

  it('normalises e-mail by trimming and lower-casing, and refuses what is not an address', () => {
    expect(normaliseEmail('  Jane.Doe@Example.COM \n')).toBe('jane.doe@example.com')
    expect(normaliseEmail('no-at-sign')).toBeNull()
    expect(normaliseEmail('two@@example.com')).toBeNull()
    expect(normaliseEmail('')).toBeNull()
    expect(normaliseEmail(null)).toBeNull()
  })

  it('drops the dots of Gmail local parts for Google only, and keeps a +tag', () => {
    expect(googleEmail(' Jane.Doe+News@GMAIL.com')).toBe('janedoe+news@gmail.com')
    expect(googleEmail('j.a.n.e@googlemail.com')).toBe('jane@googlemail.com')
    // Other domains keep their dots, in the local part and the domain.
    expect(googleEmail('jane.doe@mail.example.com')).toBe('jane.doe@mail.example.com')
    expect(googleHashedEmail('Jane.Doe@Gmail.com')).toBe(sha('janedoe@gmail.com'))
    expect(metaHashedEmail('Jane.Doe@Gmail.com')).toBe(sha('jane.doe@gmail.com'))
    expect(linkedinHashedEmail(' Jane.Doe@Gmail.com ')).toBe(sha('jane.doe@gmail.com'))
    expect(googleHashedEmail('not an address')).toBeNull()
  })

  it('writes phones in E.164; Google hashes them with the "+", Meta without', () => {
    expect(normalisePhone('+44 20 7946-0958')).toBe('+442079460958')
    expect(normalisePhone('0044 (20) 7946 0958')).toBe('+442079460958')
    expect(normalisePhone('+1 650.555.1212')).toBe('+16505551212')
    // Too short, letters, or a national number with a trunk zero: not E.164.
    expect(normalisePhone('+12345')).toBeNull()
    expect(normalisePhone('+1 650 CALL NOW')).toBeNull()
    expect(normalisePhone('020 7946 0958')).toBeNull()
    expect(googleHashedPhone('+1 650 555 1212')).toBe(sha('+16505551212'))
    expect(metaHashedPhone('+1 650 555 1212')).toBe(sha('16505551212'))
    expect(metaHashedPhone(null)).toBeNull()
  })

  it("hashes Meta's external_id from the lead ID", () => {
    expect(metaHashedExternalId('lead_Abc123')).toBe(sha('lead_Abc123'))
  })
})
