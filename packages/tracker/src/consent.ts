// Consent states. Only `granted` may write cookies/storage or send; `pending` keeps the
// arrival in memory until consent('granted'); `denied` removes what was stored.
export type Consent = 'granted' | 'pending' | 'denied'

/** Global Privacy Control is a browser-wide "do not sell/share": it counts as `denied`. */
export const gpcDenies = (respectGpc: boolean): boolean =>
  respectGpc && (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true

/** The consent state the tracker starts in. */
export function initialConsent(configured: string, respectGpc: boolean): Consent {
  return gpcDenies(respectGpc) ? 'denied' : configured == 'pending' || configured == 'denied' ? configured : 'granted'
}
