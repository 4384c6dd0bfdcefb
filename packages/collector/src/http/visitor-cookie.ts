// The server-set `_cl_vid` cookie: refreshed by every collect response so browsers
// that cap script-set cookies at 7 days (Safari ITP) keep the visitor for the full 400 days.

export const VISITOR_COOKIE = '_cl_vid'
export const VISITOR_COOKIE_MAX_AGE = 400 * 24 * 60 * 60

export function visitorCookie(visitorId: string, options: { domain: string | null; secure: boolean }): string {
  const parts = [`${VISITOR_COOKIE}=${visitorId}`, `Max-Age=${VISITOR_COOKIE_MAX_AGE}`, 'Path=/', 'SameSite=Lax']
  // Only a plain domain is echoed into the header, so a stored value can never inject attributes.
  if (options.domain && /^\.?[A-Za-z0-9.-]{1,253}$/.test(options.domain)) parts.push(`Domain=${options.domain}`)
  if (options.secure) parts.push('Secure')
  return parts.join('; ')
}
