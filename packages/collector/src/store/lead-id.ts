// Lead IDs that sort by creation time: 8 characters of the millisecond clock, then 13 random ones
// (78 bits), in the nanoid alphabet taken in byte order, so an ID is still 21 URL-safe characters.
// New leads then land at the right-hand end of every b-tree keyed by lead (leads, the lead
// identities' lead index, lead_visitors) instead of on a random page of each: /v1/identify's
// COMMIT writes fewer pages (the remaining random ones are the match-key hash and the visitor).
// The order within one millisecond is random; nothing relies on it. Like UUIDv7 or a ULID, an ID
// reveals when the lead was created, which the API returns anyway.

import { randomFillSync } from 'node:crypto'

// '-' < '0'-'9' < 'A'-'Z' < '_' < 'a'-'z' in ASCII: the order SQLite (and a bytewise collation) sorts by.
const ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'
const TIME_CHARS = 8 // 48 bits: milliseconds until the year 10889
const RANDOM_CHARS = 13
const pool = new Uint8Array(RANDOM_CHARS * 64)
let offset = pool.length

export function newLeadId(now = Date.now()): string {
  let id = ''
  let t = Math.max(0, Math.floor(now))
  const time: string[] = new Array(TIME_CHARS)
  for (let i = TIME_CHARS - 1; i >= 0; i--) {
    time[i] = ALPHABET[t % 64]
    t = Math.floor(t / 64)
  }
  id = time.join('')
  if (offset + RANDOM_CHARS > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  for (let i = 0; i < RANDOM_CHARS; i++) id += ALPHABET[pool[offset++] & 63]
  return id
}
