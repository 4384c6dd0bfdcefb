// Identity keys: the deterministic match keys of a person and the salted hashes that
// outlive an erasure. Raw values never reach the store; only these hashes and ciphertexts do.

import { createHmac } from 'node:crypto'
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js'
import { sha256Hex, type InstallKeys } from './crypto.js'
import type { IdentityKey, IdentityKind, Store } from '../store/types.js'

/** Region used to read phone numbers written without a country code (site setting `phoneRegion`). */
export const DEFAULT_PHONE_REGION = 'US'

const MAX_EMAIL = 254
const MAX_LOCAL_PART = 64
// Deliberately loose: the aim is a stable match key, not RFC 5322 policing. One @, no spaces,
// a dot in the domain, no empty labels.
const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/

/** Trimmed, lower-cased email, or null when it cannot be an address. */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase()
  if (email.length === 0 || email.length > MAX_EMAIL || !EMAIL_RE.test(email)) return null
  if (email.indexOf('@') > MAX_LOCAL_PART) return null
  return email
}

/**
 * E.164 form (`+14155550132`), or null. A number without `+`/country code is read in
 * `defaultRegion` (ISO 3166 alpha-2; an unknown region means only international numbers
 * parse). "Possible" (right length for the country) rather than "valid": the bundled minimal
 * metadata would reject some real, newly allocated ranges.
 */
export function normalizePhone(raw: string, defaultRegion: string = DEFAULT_PHONE_REGION): string | null {
  const trimmed = raw.trim()
  if (trimmed.length === 0 || trimmed.length > 64) return null
  const region = defaultRegion.toUpperCase()
  const phone = parsePhoneNumberFromString(trimmed, isSupportedCountry(region) ? (region as CountryCode) : undefined)
  if (!phone || !phone.isPossible()) return null
  return phone.number
}

/**
 * The lead match key of a normalised identity value: HMAC-SHA-256 under the install's match key
 * of the value's SHA-256 hex. Keyed, so a copy of the database cannot be searched by hashing
 * guessed e-mails or every phone number; over the SHA-256 rather than the value, so a store of
 * older unkeyed SHA-256 keys is upgraded without the values (`keyUnkeyedHash`, `keyMatchHashes`).
 */
export function matchHash(value: string, matchKey: Buffer): string {
  return keyUnkeyedHash(sha256Hex(value), matchKey)
}

/** The keyed form of an unkeyed match key (the SHA-256 hex stored before keys were keyed). */
export function keyUnkeyedHash(unkeyed: string, matchKey: Buffer): string {
  return createHmac('sha256', matchKey).update(unkeyed, 'utf8').digest('hex')
}

/**
 * Upgrades a store whose match keys are still unkeyed SHA-256 (written before they were keyed):
 * every stored key h becomes `keyUnkeyedHash(h)`, once per store (the store records it). Run
 * wherever the store is opened with the install keys, before anything computes a match key
 * against it. Returns the values rewritten (0 once done).
 */
export function keyMatchHashes(store: Store, keys: Pick<InstallKeys, 'matchKey'>): Promise<number> {
  return store.rekeyMatchHashes((h) => keyUnkeyedHash(h, keys.matchKey))
}

/**
 * HMAC-SHA-256 hex under the install's suppression salt: like the match key it cannot be
 * recomputed from a guessed email without the install secret, so an erased person's suppression
 * entry reveals nothing; and it is unrelated to the match key, so nothing links the two.
 */
export function suppressionHash(value: string, salt: Buffer): string {
  return createHmac('sha256', salt).update(value, 'utf8').digest('hex')
}

export interface PersonInput {
  email?: string | null
  phone?: string | null
  externalId?: string | null
}

export interface NormalizedPerson {
  email: string | null
  phone: string | null
  externalId: string | null
  /** Match keys in priority order: email, phone, external. */
  keys: IdentityKey[]
}

/**
 * Normalise the person's identifiers and derive the match keys. Returns null for the field that
 * was given but cannot be normalised, so the caller can reject the request precisely.
 */
export function normalizePerson(
  input: PersonInput,
  matchKey: Buffer,
  defaultRegion: string = DEFAULT_PHONE_REGION,
): { ok: true; person: NormalizedPerson } | { ok: false; field: 'email' | 'phone' | 'externalId' } {
  const keys: IdentityKey[] = []
  let email: string | null = null
  let phone: string | null = null
  let externalId: string | null = null
  if (input.email != null) {
    email = normalizeEmail(input.email)
    if (email === null) return { ok: false, field: 'email' }
    keys.push({ kind: 'email', hash: matchHash(email, matchKey) })
  }
  if (input.phone != null) {
    phone = normalizePhone(input.phone, defaultRegion)
    if (phone === null) return { ok: false, field: 'phone' }
    keys.push({ kind: 'phone', hash: matchHash(phone, matchKey) })
  }
  if (input.externalId != null) {
    externalId = input.externalId
    if (externalId.length === 0 || externalId.length > 500) return { ok: false, field: 'externalId' }
    keys.push({ kind: 'external', hash: matchHash(externalId, matchKey) })
  }
  return { ok: true, person: { email, phone, externalId, keys } }
}

/**
 * Suppression hashes of a person: one per normalised identifier (and the visitor ID when given),
 * each prefixed with its kind so an email and an external ID with the same text never collide.
 * Erase stores them; ingestion checks them.
 */
export function suppressionHashes(
  salt: Buffer,
  person: { email?: string | null; phone?: string | null; externalId?: string | null; visitorId?: string | null },
): string[] {
  const out: string[] = []
  const add = (kind: IdentityKind | 'visitor', value: string | null | undefined): void => {
    if (value != null && value !== '') out.push(suppressionHash(`${kind}:${value}`, salt))
  }
  add('email', person.email)
  add('phone', person.phone)
  add('external', person.externalId)
  add('visitor', person.visitorId)
  return out
}
