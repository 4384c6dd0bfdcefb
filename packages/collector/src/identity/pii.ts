// Personal identifiers in, match keys and ciphertexts out: the only place raw email/phone are held.

import { decrypt, encrypt, type InstallKeys } from './crypto.js'
import { clError, type ErrorName } from '../errors.js'
import { accountDomain } from './domains.js'
import { matchHash, normalizePerson, suppressionHashes, type NormalizedPerson } from './match-keys.js'
import type { IdentityKey } from '../store/types.js'

export interface ProtectedPerson {
  keys: IdentityKey[]
  emailEnc: string | null
  phoneEnc: string | null
  externalId: string | null
  /** The e-mail's registrable domain for the lead's account; null without an e-mail or for free mail. */
  accountDomain: string | null
  /** Salted hashes checked against the erasure list. */
  suppression: string[]
}

const FIELD_ERROR: Record<'email' | 'phone' | 'externalId', ErrorName> = {
  email: 'BAD_EMAIL',
  phone: 'BAD_PHONE',
  externalId: 'VALIDATION',
}

export class Pii {
  constructor(private readonly keys: InstallKeys) {}

  /** Throws a coded ClError naming the identifier that cannot be normalised. */
  /** `phoneRegion`: the site's region for numbers written without a country code (default US). */
  normalize(input: { email?: string | null; phone?: string | null; externalId?: string | null }, phoneRegion?: string): NormalizedPerson {
    const result = normalizePerson(input, this.keys.matchKey, phoneRegion)
    if (!result.ok) throw clError(FIELD_ERROR[result.field])
    return result.person
  }

  protect(input: { email?: string | null; phone?: string | null; externalId?: string | null }, visitorId?: string, phoneRegion?: string): ProtectedPerson {
    const person = this.normalize(input, phoneRegion)
    return {
      keys: person.keys,
      emailEnc: person.email === null ? null : encrypt(person.email, this.keys.encryptionKey),
      phoneEnc: person.phone === null ? null : encrypt(person.phone, this.keys.encryptionKey),
      externalId: person.externalId,
      accountDomain: person.email === null ? null : accountDomain(person.email),
      suppression: this.suppression({ ...person, visitorId }),
    }
  }

  /** The keyed match key of a normalised value (deals name people by e-mail or external ID). */
  readonly matchHash = (normalised: string): string => matchHash(normalised, this.keys.matchKey)

  suppression(person: { email?: string | null; phone?: string | null; externalId?: string | null; visitorId?: string | null }): string[] {
    return suppressionHashes(this.keys.suppressionSalt, person)
  }

  /** Decrypted value, or null when absent or undecryptable (e.g. written under another key). */
  reveal(token: string | null): string | null {
    if (token === null) return null
    try {
      return decrypt(token, this.keys.encryptionKey)
    } catch {
      return null
    }
  }
}
