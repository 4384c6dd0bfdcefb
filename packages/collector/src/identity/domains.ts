// The account domain of an e-mail address: its registrable domain, unless that is a free-mail
// provider's. Computed where the raw address is held (pii.ts); the store only sees the domain.

import { registrableDomain } from '@closeloop/tracker/channel'
import { isFreeMail } from './free-mail.js'

// The tracker's approximation, so the browser and the server agree on what a site's domain is.
export { registrableDomain }

/** The account domain of a normalised e-mail address, or null (free mail, or an IP-literal domain). */
export function accountDomain(email: string): string | null {
  const at = email.lastIndexOf('@')
  if (at < 0) return null
  const host = email.slice(at + 1)
  if (host.startsWith('[') || /^[\d.]+$/.test(host)) return null
  const domain = registrableDomain(host)
  return isFreeMail(domain) ? null : domain
}
