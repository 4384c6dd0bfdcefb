// First-party persistence. Cookies carry the state across subdomains
// (cookie-domain) and are what the server refreshes; localStorage mirrors the state in full and
// restores a lost cookie. A touch cookie is the touch form-encoded (source=google&medium=cpc&…);
// when that exceeds 900 characters every field is cut to the same, halving length, so the four
// cookies stay under 2 KB, and the value ends in `&` to say so. localStorage keeps the untruncated
// touch and wins when it holds the same touch. Nothing here throws: blocked, full or corrupt storage
// reads as empty.
//
// A fresh page's first localStorage use costs ~3 ms of wall time (bench/RESULTS.md), so the common
// page view, with its cookies whole and no events waiting, does not touch localStorage: the mirror
// is read only when a cookie is missing or cut short, and written only by a page that read it or
// opened a touch (State.m); the stored queue is read unless the cookie `_cl_q` says none wait
// (transport.ts). So a mirror a page left alone holds the session's last activity as of its last touch.
import { isId } from './id.js'
import type { Touch } from './touch.js'

export interface State {
  vid: string
  sid: string
  /** Last activity, epoch ms. */
  last: number
  ft: Touch | null
  lt: Touch | null
  /** Set when this page keeps the localStorage mirror current: it read it, or a touch was opened. */
  m?: unknown
}

const LS_STATE = '_cl'
export const LS_QUEUE = '_cl_q'
/** Longest cookie value for one touch. */
export const TOUCH_COOKIE_MAX = 900

export function lsGet(key: string): unknown {
  try {
    // A missing key is not parsed: a thrown error costs a fresh page ~1.4 ms of CPU.
    const v = localStorage[key]
    return v && JSON.parse(v)
  } catch {
    // Missing, blocked or corrupt: empty.
  }
}

/** Writes JSON, or removes the key for a falsy value. */
export function lsSet(key: string, value?: unknown): void {
  try {
    value ? (localStorage[key] = JSON.stringify(value)) : delete localStorage[key]
  } catch {
    // Blocked or full: the cookies (or memory) still hold the state.
  }
}

/** document.cookie, or empty where reading it throws (sandboxed frames): one read serves every cookie. */
export function jar(): string {
  try {
    return document.cookie
  } catch {
    return ''
  }
}

/** Reads cookie `name` from a copy of document.cookie. */
export const fromJar = (jar: string, name: string): string | undefined => (jar.match('(^|; ?)' + name + '=([^;]*)') || [])[2]

/**
 * Compact, URL-safe cookie value of a touch (form encoding), at most TOUCH_COOKIE_MAX characters;
 * empty (a deleted cookie) for none. Too long, every field is cut to `n` characters, halved until
 * it fits, and a final `&` (which form decoding ignores) marks the cut. URLSearchParams never
 * throws: a half surrogate pair left by a cut becomes U+FFFD.
 */
export function packTouch(t: Touch | null, n = 500): string {
  const s = '' + new URLSearchParams(Object.entries(t || {}).map(([k, v]) => [k, String(v).slice(0, n)]))
  return s.length >= TOUCH_COOKIE_MAX ? packTouch(t, n >> 1) : n < 500 ? s + '&' : s
}

/** Touch from a cookie value or a stored object; null unless it has a time and a source. */
export function toTouch(raw: unknown): Touch | null {
  // Form decoding never throws on malformed `%` sequences.
  const t = (typeof raw == 'string' ? Object.fromEntries(new URLSearchParams(raw)) : raw) as Record<string, unknown>
  return t && (t.ts as number) > 0 && typeof t.source == 'string' && t.source ? ({ ...t, ts: +(t.ts as number) } as Touch) : null
}

/** A cookie of the tracker's (`_cl_` + name); an empty value deletes it. */
export function setCookie(name: string, value: unknown, domain: string): void {
  try {
    document.cookie =
      '_cl_' + name + '=' + (value || '') + ';path=/;max-age=' + (value ? 34560000 : 0) + ';SameSite=Lax' +
      (location.protocol == 'https:' ? ';Secure' : '') + (domain ? ';domain=' + domain : '')
  } catch {
    // document.cookie throws in sandboxed frames: localStorage (or memory) carries on.
  }
}

/** Reads the persisted state; cookies win, localStorage fills what a lost or truncated cookie lacks. */
export function loadState(): State {
  // Sandboxed frames read no cookies: localStorage (or memory) carries on.
  const all = jar()
  const c = (n: string) => fromJar(all, '_cl_' + n)
  // Only a cookie missing or cut short (its last character is not above `&`) sends the read on to
  // the mirror.
  const ls = ((['vid', 'ft', 'lt', 's'].every((n) => c(n)?.slice(-1)! > '&') ? 0 : lsGet(LS_STATE)) || {}) as State
  const [sid, last] = (c('s') || '').split('.')
  const touch = (n: 'ft' | 'lt') => {
    const a = toTouch(c(n)),
      b = toTouch(ls[n])
    return a && a.ts != b?.ts ? a : b
  }
  return {
    m: ls.vid,
    vid: [c('vid'), ls.vid].find(isId) || '',
    sid: [sid, ls.sid].find(isId) || '',
    last: (isId(sid) ? parseInt(last, 36) : +ls.last) || 0,
    ft: touch('ft'),
    lt: touch('lt'),
  }
}

/** Writes the state's cookies, and with `st.m` its localStorage copy; an empty state (clearState) deletes them. */
export function saveState(st: State, domain: string): void {
  const v: Record<string, string> = { vid: st.vid, ft: packTouch(st.ft), lt: packTouch(st.lt), s: st.sid && st.sid + '.' + st.last.toString(36) }
  for (const k in v) setCookie(k, v[k], domain)
  st.m && lsSet(LS_STATE, st.vid && st)
}

/** Removes every cookie and localStorage entry the tracker wrote. */
export function clearState(domain: string): void {
  saveState({ m: 1 } as State, domain)
  setCookie('q', '', domain)
  lsSet(LS_QUEUE)
}
