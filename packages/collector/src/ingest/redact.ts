// Personal data in tracked text is redacted before storage (as GA4 does for URLs): e-mail
// addresses anywhere — also percent-encoded (`%40`, `%2540`) — and the values of query parameters
// and properties named like an e-mail or phone field. A form that submits by GET puts its fields
// in the next page's URL; analytics must not become the place those addresses are kept.

export const REDACTED_EMAIL = '[email]'
export const REDACTED = '[redacted]'

// Local part, @ (raw or percent-encoded once or twice), a domain with a dot.
const EMAIL = /[A-Za-z0-9._%+-]{1,64}(?:@|%40|%2540)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+/gi
const MAYBE_EMAIL = /@|%40|%2540/i

/** Words that make a field personal, whole words of its name: user_email, phoneNumber, Tel, mobile-phone. */
const PERSONAL_WORDS = new Set(['email', 'mail', 'phone', 'tel', 'telephone', 'mobile', 'cell', 'msisdn'])
const MAYBE_PERSONAL = /mail|phone|tel|mobile|cell|msisdn/i

/** Whether a query parameter or property of this name holds personal data. */
export function isPersonalName(name: string): boolean {
  if (!MAYBE_PERSONAL.test(name)) return false
  const words = name.replace(/e-mail/gi, 'email').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z]+/)
  return words.some((w) => PERSONAL_WORDS.has(w))
}

/** E-mail addresses in free text (titles, referrers, property values) → [email]. */
export function redactText(value: string): string {
  return MAYBE_EMAIL.test(value) ? value.replace(EMAIL, REDACTED_EMAIL) : value
}

/** A URL (or any text holding one): e-mails anywhere, and the values of personal query parameters. */
export function redactUrl(value: string): string {
  let v = redactText(value)
  const q = v.indexOf('?')
  if (q < 0 || !MAYBE_PERSONAL.test(v.slice(q))) return v
  const hash = v.indexOf('#', q)
  const query = v.slice(q + 1, hash < 0 ? undefined : hash)
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=')
    if (eq < 0) return pair
    let name = pair.slice(0, eq)
    try { name = decodeURIComponent(name.replace(/\+/g, ' ')) } catch { /* keep as sent */ }
    return isPersonalName(name) && eq < pair.length - 1 ? `${pair.slice(0, eq)}=${encodeURIComponent(REDACTED)}` : pair
  })
  v = `${v.slice(0, q + 1)}${parts.join('&')}${hash < 0 ? '' : v.slice(hash)}`
  return v
}

/**
 * Event properties: personal-named keys lose their value, every string is redacted by `text`
 * (e-mails; redactUrl also handles query parameters); same shape.
 */
export function redactProps<T>(value: T, text: (s: string) => string = redactText): T {
  if (typeof value === 'string') return text(value) as T
  if (Array.isArray(value)) return value.map((v) => redactProps(v, text)) as T
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    // defineProperty: a "__proto__" key stays a plain key (assignment would set the prototype).
    Object.defineProperty(out, k, { value: isPersonalName(k) && (typeof v === 'string' || typeof v === 'number') ? REDACTED : redactProps(v, text), enumerable: true, writable: true, configurable: true })
  }
  return out as T
}
