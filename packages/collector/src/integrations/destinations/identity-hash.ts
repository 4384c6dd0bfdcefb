// E-mail addresses and phone numbers as each ad platform wants them before SHA-256 (hex, lower
// case): the platforms match on the hash of their own normal form, so one stray capital or dot
// means no match. Rules as each platform publishes them:
// - Google (enhanced conversions): trim, lower-case; for gmail.com / googlemail.com addresses drop
//   every dot before the @ (Gmail ignores them). A "+tag" is kept: Google does not publish removing it.
//   Phones in E.164 with the leading "+".
// - Meta (Conversions API `em`, `ph`): trim, lower-case; phones as digits only with the country
//   code, no "+" and no leading zeros.
// - LinkedIn (SHA256_EMAIL): trim, lower-case.

import { createHash } from 'node:crypto'

export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex')

/** Trimmed and lower-cased, or null when nothing like an address (one @, text both sides) is left. */
export function normaliseEmail(email: string | null | undefined): string | null {
  const e = (email ?? '').trim().toLowerCase()
  return /^[^\s@]+@[^\s@]+$/.test(e) ? e : null
}

/**
 * E.164 ("+" then 8–15 digits, the first not 0) from a number that already carries its country
 * code; spaces, dashes, dots and brackets are dropped. null when that is not what is left.
 */
export function normalisePhone(phone: string | null | undefined): string | null {
  const p = (phone ?? '').trim().replace(/[\s\-().]/g, '')
  const digits = p.startsWith('+') ? p.slice(1) : p.startsWith('00') ? p.slice(2) : p
  return /^[1-9]\d{7,14}$/.test(digits) ? `+${digits}` : null
}

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com'])

/** Google's normal form of an e-mail address (dots dropped from Gmail local parts). */
export function googleEmail(email: string | null | undefined): string | null {
  const e = normaliseEmail(email)
  if (e === null) return null
  const at = e.lastIndexOf('@')
  const local = e.slice(0, at)
  const domain = e.slice(at + 1)
  return GMAIL_DOMAINS.has(domain) ? `${local.replace(/\./g, '')}@${domain}` : e
}

export const googleHashedEmail = (email: string | null | undefined): string | null => hashed(googleEmail(email))
/** Google hashes the E.164 form, "+" included. */
export const googleHashedPhone = (phone: string | null | undefined): string | null => hashed(normalisePhone(phone))

export const metaHashedEmail = (email: string | null | undefined): string | null => hashed(normaliseEmail(email))
/** Meta hashes the digits only: E.164 without its "+". */
export const metaHashedPhone = (phone: string | null | undefined): string | null => hashed(normalisePhone(phone)?.slice(1) ?? null)
/** Meta's `external_id`: any stable ID, hashed (Meta recommends hashing it). */
export const metaHashedExternalId = (id: string): string => sha256Hex(id.trim())

export const linkedinHashedEmail = (email: string | null | undefined): string | null => hashed(normaliseEmail(email))

function hashed(value: string | null): string | null {
  return value === null ? null : sha256Hex(value)
}
