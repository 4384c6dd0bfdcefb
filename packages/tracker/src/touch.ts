// Decides whether a page load is a new touch (rules 1–2) and what it says.
// Rules 3–4 (direct touch on a new session, otherwise none) need the session: see session.ts.
import { compactChannel } from './channel-compact.js'
import { clean } from './clean.js'
import { registrable } from './domain.js'
import { categoryIn, sourceKeys, type SourceTable } from './sources.js'

export interface Touch {
  /** Epoch milliseconds. */
  ts: number
  source: string
  medium: string
  campaign?: string
  term?: string
  content?: string
  /** utm_id */
  id?: string
  source_platform?: string
  creative_format?: string
  marketing_tactic?: string
  click_id?: string
  click_id_type?: string
  referrer?: string
  /** Landing URL without fragment. */
  landing?: string
  channel: string
  /** Meta's browser ID (the `_fbp` cookie of its pixel) when the page has one; sent, never stored. */
  fbp?: string
}

/** The touch fields a campaign sets: the nine utm_* parameters, then the click ID and its type. */
export const TOUCH_FIELDS = 'source medium campaign term content id source_platform creative_format marketing_tactic click_id click_id_type'.split(' ') as (keyof Touch)[]

/**
 * Campaign parameters in precedence order (names match in any case: Snapchat documents ScCid).
 * `names:source` are ad click IDs: stored as click_id, with medium cpc under the platform's source.
 * `names:source:medium` are markers that identify no click, used for what no UTM parameter says:
 * Google's ad-source flags (a gclid beside them is the click ID) and Mailchimp's and Klaviyo's
 * e-mail links. Instagram's igshid marks a share, not a visit from an ad, and is ignored.
 */
export const CAMPAIGN_PARAMS = 'gclid,gbraid,wbraid,dclid:google fbclid:facebook msclkid:bing li_fat_id:linkedin ttclid:tiktok twclid:twitter epik:pinterest rdt_cid:reddit sccid:snapchat irclickid:impact yclid:yandex qclid:quora gad_source,gclsrc:google:cpc mc_cid:mailchimp:email _kx:klaviyo:email'

export interface TouchContext {
  /** This site's host (location.hostname). */
  host: string
  /** Other own domains whose referrals are not touches. */
  internal: string[]
  sources: SourceTable
}

/**
 * The touch of a page load: rules 1–2, or with `direct` rule 3's `(direct)` touch; null when the
 * URL carries no campaign and the referrer is absent, this site or an internal domain.
 */
export function detectTouch(href: string, referrer: string, ctx: TouchContext, now: number, direct?: boolean): Touch | null {
  const t: Record<string, unknown> & Partial<Touch> = { ts: now }
  let tagged = 0
  if (direct) {
    t.source = '(direct)'
    t.medium = '(none)'
  } else {
    const q = new URL(href).searchParams
    TOUCH_FIELDS.slice(0, 9).forEach((f, i) => (t[f as string] = clean(q.get('utm_' + f), i < 2)))
    for (const group of CAMPAIGN_PARAMS.split(' ')) {
      const [names, source, medium] = group.split(':')
      for (const k of names.split(','))
        for (const [n, v] of q)
          // Any utm_* parameter with a value makes a touch; checked in this scan, no loop of its own.
          if (!n.indexOf('utm_') && v.trim()) tagged = 1
          else if (!t.click_id && n.toLowerCase() == k && clean(v)) {
            if (!medium) {
              t.click_id = clean(v)
              t.click_id_type = k
            }
            // A click ID implies cpc only under its own platform's source (utm_source unset).
            t.medium = t.medium || medium || (t.source ? '' : 'cpc')
            t.source = t.source || source
            tagged = 1
          }
    }
    if (!tagged) {
      let host: string
      try {
        // No referrer is no touch (below), without a thrown error, which is costly on a fresh page.
        host = referrer && new URL(referrer).hostname
      } catch {
        return null
      }
      const reg = registrable(host)
      if (!host || reg == registrable(ctx.host) || ctx.internal.some((d) => registrable(d) == reg)) return null
      const keys = sourceKeys(host)
      t.source = keys[0]
      t.medium = 'referral'
      if (categoryIn(ctx.sources, host) == 'SEARCH') {
        // GA4 names a search engine by its shortest listed name (google, not www.google.co.uk).
        t.source = keys.reverse().find((k) => ctx.sources[k] == 'SEARCH')
        t.medium = 'organic'
      }
    }
    t.source = t.source || '(not set)'
    t.medium = t.medium || '(not set)'
  }
  t.landing = clean(href.split('#')[0])
  t.referrer = clean(referrer)
  t.channel = compactChannel(t as Touch, (s) => categoryIn(ctx.sources, s))
  // Empty fields are left out of the wire format and the cookies.
  for (const k in t) if (t[k] === '') delete t[k]
  return t as Touch
}
