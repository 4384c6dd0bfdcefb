// The account domain of an e-mail address: its registrable domain, unless that is a free-mail
// provider's. Computed where the raw address is held (pii.ts); the store only sees the domain.

import { isFreeMail } from './free-mail.js'

/**
 * Registrable domain without the Public Suffix List, the tracker's approximation: a host whose
 * last label is a two-letter country code and whose second-to-last is a generic second-level label
 * (co, com, net, org, …) keeps three labels (mail.example.co.uk → example.co.uk); others keep two.
 */
export function registrableDomain(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '')
  return /^[\d.]+$|:/.test(h)
    ? h
    : (h.match(/[^.]+\.((co|com|net|org|gov|edu|ac|ne|or|go|gob|ltd|plc|sch|mil|nic|nom)\.[a-z]{2}|[^.]+)$/) || [h])[0]
}

/** The account domain of a normalised e-mail address, or null (free mail, or an IP-literal domain). */
export function accountDomain(email: string): string | null {
  const at = email.lastIndexOf('@')
  if (at < 0) return null
  const host = email.slice(at + 1)
  if (host.startsWith('[') || /^[\d.]+$/.test(host)) return null
  const domain = registrableDomain(host)
  return isFreeMail(domain) ? null : domain
}
