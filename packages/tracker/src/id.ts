// nanoid's URL-safe IDs without the dependency: 21 symbols of 64 = 126 random bits. The symbol is
// computed (0-9a-z, A-Z, -, _) rather than looked up, which keeps a 64-character table out of the script.
export function id(): string {
  let s = ''
  // 64 symbols divide 256 evenly, so `& 63` keeps the distribution uniform.
  for (let b of crypto.getRandomValues(new Uint8Array(21)))
    s += (b &= 63) < 36 ? b.toString(36) : b < 62 ? (b - 26).toString(36).toUpperCase() : b > 62 ? '_' : '-'
  return s
}

/** True for a value shaped like an ID this tracker generated (visitor, session or event). */
export const isId = (v: unknown): v is string => /^[\w-]{21}$/.test(v as string)
