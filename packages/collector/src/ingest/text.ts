// Text that is safe for every store: NUL removed (PostgreSQL text/jsonb reject it) and lone UTF-16
// surrogates replaced (they cannot be encoded as UTF-8).

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

export function cleanText(value: string): string {
  // Fast path: almost every string is already clean.
  if (!/[\u0000\uD800-\uDFFF]/.test(value)) return value
  return value.replace(/\u0000/g, '').replace(LONE_SURROGATE, '\uFFFD')
}

/** Touch values: trimmed, at most 500 characters, optionally lower-cased. */
export function cleanTouchValue(value: string | null | undefined, lower = false): string | null {
  if (value === null || value === undefined) return null
  let v = cleanText(value).trim()
  if (v.length > 500) v = v.slice(0, 500)
  if (lower) v = v.toLowerCase()
  return v === '' ? null : v
}
