// Every value that reaches a touch, cookie or form comes from an attacker-controlled URL or
// referrer, so it is normalised in one place. Decoding is left to URL/URLSearchParams, which never
// throw on malformed `%` sequences (decodeURIComponent does, and is not used).

/** Longest value kept for any touch field. */
export const MAX_LEN = 500

/** Trims, caps at 500 characters and optionally lower-cases; never throws on any input. */
export function clean(value: unknown, lower?: boolean): string {
  // A cut may split a surrogate pair: JSON escapes the half, and packTouch (cookies) removes it.
  // The argument holds the result: the minifier then makes the body one expression.
  value = String(value ?? '').trim().slice(0, MAX_LEN)
  return lower ? (value as string).toLowerCase() : (value as string)
}
