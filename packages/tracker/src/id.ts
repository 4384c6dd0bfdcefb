// nanoid's URL-safe IDs without the dependency: 21 symbols of 64 = 126 random bits. The symbols are
// base64's, from btoa over 16 random bytes (its first 21 characters carry 126 of their bits, each
// symbol 6 bits, so uniform), with its `+` and `/` made URL-safe (`-`, `_`): no table in the script.
export function id(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .slice(0, 21)
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
}

/** True for a value shaped like an ID this tracker generated (visitor, session or event). */
export const isId = (v: unknown): v is string => /^[\w-]{21}$/.test(v as string)
