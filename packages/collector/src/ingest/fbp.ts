// Meta's browser ID, the `_fbp` cookie its pixel sets, as the tracker sends it on a touch. It is
// handed to the Conversions API as `user_data.fbp`, so only Meta's own format is kept:
// `fb.{subdomain index}.{creation time, ms}.{random number}`. Anything else is dropped, never the
// event: the cookie belongs to another script and a bad one must not cost the page view.

const FBP_RE = /^fb\.\d\.\d{13}\.\d{1,20}$/

/** The value when it is a well-formed `_fbp`, otherwise null. */
export function cleanFbp(value: unknown): string | null {
  return typeof value === 'string' && FBP_RE.test(value) ? value : null
}
