// Consent states. Only `granted` may write cookies/storage or send; `pending` keeps the
// arrival in memory until consent('granted'); `denied` removes what was stored.
export type Consent = 'granted' | 'pending' | 'denied'

/**
 * Browser-wide privacy signals that count as `denied`: Global Privacy Control ("do not sell/share")
 * unless respect-gpc is off, and Do Not Track (`DNT: 1`) when respect-dnt is on.
 */
export const gpcDenies = (respectGpc: boolean, respectDnt?: boolean): boolean | undefined =>
  (respectGpc && (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl) || (respectDnt && navigator.doNotTrack == '1')

/** The consent state the tracker starts in. */
export function initialConsent(configured: string, respectGpc: boolean, respectDnt?: boolean): Consent {
  return gpcDenies(respectGpc, respectDnt) ? 'denied' : configured == 'pending' || configured == 'denied' ? configured : 'granted'
}

/**
 * Google Consent Mode v2: the state of `analytics_storage` set by the page's
 * `gtag('consent', 'default' | 'update', {…})` commands, read from `dataLayer` now and from every
 * later push (`onChange` hears the changes). An update is the visitor's choice and wins. A default
 * is the state before any choice: `granted` is granted, while `denied` holds the tracker as
 * `pending` (nothing stored or sent, the arrival kept in memory, stored state left alone) until an
 * update says otherwise; defaults scoped to regions cannot be told apart here, so one denied default
 * holds whatever other defaults say. No command at all is `pending`. (gtag has no other consent
 * command: one that is not an update is read as a default.)
 */
export function gtagConsent(onChange: (state: Consent) => void): Consent {
  const w = window as unknown as { dataLayer?: ArrayLike<unknown> & { push(...a: unknown[]): number } }
  // The page's gtag snippet reuses an existing dataLayer (`window.dataLayer || []`), so creating it
  // here loses nothing and lets later pushes be heard; gtag.js keeps a push it finds in place.
  const dl = (w.dataLayer = w.dataLayer || [])
  let state: Consent = 'pending'
  // Set by an update or a denied default: from then on only updates count.
  let fixed = 0
  // Any entry may be anything (GTM events, nulls, objects that throw): nothing of it reaches the page.
  const read = (c: any) => {
    try {
      const v = c[2].analytics_storage
      if (c[0] == 'consent' && (v == 'granted' || v == 'denied'))
        state = c[1] == 'update' ? ((fixed = 1), v) : fixed ? state : v == 'denied' ? ((fixed = 1), 'pending') : v
    } catch {
      // Not a consent command.
    }
  }
  ;[].forEach.call(dl, read)
  const push = dl.push
  dl.push = function (...a: unknown[]) {
    const was = state
    a.forEach(read)
    if (state != was) onChange(state)
    return push.apply(this, a)
  }
  return state
}
