// Touch rules 3–4 and the session/first-touch/last-touch bookkeeping around a detected touch.
import { id } from './id.js'
import type { State } from './storage.js'
import { type Touch, TOUCH_FIELDS } from './touch.js'

/**
 * Applies a page view to the state and returns the touch it opened, if any. `found` is the touch
 * of rules 1–2; reloading a tagged URL (or a page whose referrer is still the search engine) in
 * the same session repeats the last touch, so it is not counted again.
 */
export function advance(st: State, found: Touch | null, direct: () => Touch, now: number, timeoutMs: number): Touch | null {
  // A visitor without a first touch (new, or just reset) starts a session with this page.
  const expired = !st.sid || !st.ft || now - st.last > timeoutMs
  const lt = st.lt
  // `found` becomes the touch this page view opens.
  if (found && !expired && lt && TOUCH_FIELDS.every((k) => found![k] == lt[k])) found = null
  if (!found && expired) found = direct()
  if (found) {
    // A new touch is what the localStorage mirror must keep (storage.ts).
    st.m = st.sid = id()
    st.ft = st.ft || found
    // A direct visit never overwrites a real source (`_cl_lt`).
    if (found.source != '(direct)' || !lt) st.lt = found
  }
  st.last = now
  return found
}
