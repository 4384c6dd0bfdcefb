// The simulated B2B business: where visitors come from, how well each source converts, what a deal
// is worth and what each paid campaign costs per day. Numbers are plausible, not calibrated.

export interface Arrival {
  /** Relative share of first visits. */
  weight: number
  source: string
  medium: string
  campaigns: readonly string[]
  /** Click-ID parameter added to the landing URL (and its value's type). */
  clickId?: 'gclid' | 'fbclid' | 'li_fat_id' | 'msclkid'
  /** Referrer of the visit (organic search, referrals); no UTM parameters then. */
  referrer?: string
  /** Multiplier of the base chance that a visitor becomes a lead. */
  leadQuality: number
  /** Multiplier of the median deal amount. */
  dealSize: number
  /** Daily spend per campaign (paid arrivals only), in the site currency. */
  dailySpend?: number
}

export const ARRIVALS: readonly Arrival[] = [
  { weight: 14, source: 'google', medium: 'cpc', campaigns: ['brand-search', 'competitor-search', 'generic-crm-search'], clickId: 'gclid', leadQuality: 1.6, dealSize: 1.1, dailySpend: 180 },
  { weight: 4, source: 'bing', medium: 'cpc', campaigns: ['generic-crm-search'], clickId: 'msclkid', leadQuality: 1.2, dealSize: 1.0, dailySpend: 40 },
  { weight: 9, source: 'facebook', medium: 'paid_social', campaigns: ['retargeting-q1', 'lookalike-founders'], clickId: 'fbclid', leadQuality: 0.7, dealSize: 0.6, dailySpend: 120 },
  { weight: 6, source: 'linkedin', medium: 'paid_social', campaigns: ['abm-enterprise', 'webinar-promo'], clickId: 'li_fat_id', leadQuality: 1.3, dealSize: 2.2, dailySpend: 220 },
  { weight: 22, source: 'google', medium: 'organic', campaigns: [], referrer: 'https://www.google.com/', leadQuality: 1.0, dealSize: 1.0 },
  { weight: 4, source: 'bing', medium: 'organic', campaigns: [], referrer: 'https://www.bing.com/', leadQuality: 1.0, dealSize: 0.9 },
  { weight: 8, source: 'newsletter', medium: 'email', campaigns: ['monthly-digest', 'product-launch'], leadQuality: 1.4, dealSize: 0.9 },
  { weight: 5, source: 'g2.com', medium: 'referral', campaigns: [], referrer: 'https://www.g2.com/products/closeloop/reviews', leadQuality: 1.8, dealSize: 1.3 },
  { weight: 3, source: 'partner.example.org', medium: 'referral', campaigns: [], referrer: 'https://partner.example.org/blog/best-crm', leadQuality: 1.1, dealSize: 1.0 },
  { weight: 25, source: '(direct)', medium: '(none)', campaigns: [], leadQuality: 0.8, dealSize: 1.0 },
]

export const PAGES = ['/', '/pricing', '/features', '/blog/closed-loop-attribution', '/customers', '/demo', '/integrations/hubspot']

/** CRM stage names as a CRM would send them; mapped by the built-in aliases. */
export const CRM_STAGES = {
  mql: 'Marketing Qualified Lead',
  sql: 'Qualified To Buy',
  opportunity: 'Presentation Scheduled',
  won: 'Closed Won',
  lost: 'closedlost',
} as const

export const BUSINESS = {
  /** Base chance that a visitor fills a form (before the arrival's quality multiplier). */
  leadRate: 0.06,
  /** Extra lead chance per return session. */
  returnBoost: 0.25,
  /** Mean sessions per visitor. */
  meanSessions: 2.2,
  /** Share of leads marketing-qualified (a deal opens); of those, sales-qualified; of those, opportunities; of those, won. */
  mqlRate: 0.6,
  sqlRate: 0.75,
  opportunityRate: 0.6,
  winRate: 0.45,
  /** Share of leads with a deal who come back between becoming a lead and the deal's last stage. */
  nurtureRate: 0.5,
  medianDeal: 12_000,
  /** Share of deals the CRM reports in GBP (converted with an imported GBP rate). */
  gbpShare: 0.1,
  gbpRate: 1.25,
} as const
