// The dashboard session cookie: HttpOnly (no script can read it), SameSite=Strict (never sent
// on cross-site requests), Secure on https, scoped to the collector's base path.

export const SESSION_COOKIE = 'cl_dash'

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

export interface CookieOptions {
  path: string
  secure: boolean
  /** Seconds; 0 clears the cookie. */
  maxAge: number
}

export function sessionCookie(value: string, opts: CookieOptions): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    `Path=${opts.path}`,
    `Max-Age=${opts.maxAge}`,
    'HttpOnly',
    'SameSite=Strict',
    opts.secure ? 'Secure' : null,
  ].filter(Boolean).join('; ')
}
