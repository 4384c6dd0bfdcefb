// Decides whether a page load is a new touch (SPEC §2, rules 1–2) and what it says.
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
}

/** Touch fields besides `ts`; the first nine are the utm_* parameters. */
export const TOUCH_FIELDS = 'source medium campaign term content id source_platform creative_format marketing_tactic click_id click_id_type channel landing referrer'.split(' ') as (keyof Touch)[]

/** Click-ID parameter → the platform's source, in precedence order when a URL carries several. */
export const CLICK_IDS: Record<string, string> = {}
for (const group of 'gclid,gbraid,wbraid,gclsrc,dclid,gad_source:google fbclid:facebook msclkid:bing li_fat_id:linkedin ttclid:tiktok twclid:twitter epik:pinterest rdt_cid:reddit sccid:snapchat irclickid:impact yclid:yandex qclid:quora mc_cid:mailchimp _kx:klaviyo'.split(' ')) {
  const [params, source] = group.split(':')
  for (const p of params.split(',')) CLICK_IDS[p] = source
}

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
    q.forEach((v, k) => {
      if (!k.indexOf('utm_') && v.trim()) tagged = 1
    })
    TOUCH_FIELDS.slice(0, 9).forEach((f, i) => (t[f as string] = clean(q.get('utm_' + f), i < 2)))
    for (const k in CLICK_IDS)
      if (!t.click_id && (t.click_id = clean(q.get(k)))) {
        t.click_id_type = k
        if (!t.source) {
          t.source = CLICK_IDS[k]
          t.medium = t.medium || 'cpc'
        }
        tagged = 1
      }
    if (!tagged) {
      let host: string
      try {
        host = new URL(referrer).hostname
      } catch {
        return null
      }
      const reg = registrable(host)
      if (!host || reg == registrable(ctx.host) || ctx.internal.some((d) => registrable(d.replace(/^\./, '')) == reg)) return null
      const keys = sourceKeys(host)
      const search = categoryIn(ctx.sources, host) == 'SEARCH'
      // GA4 names a search engine by its shortest listed name (google, not www.google.co.uk).
      t.source = search ? (keys.reverse().find((k) => ctx.sources[k] == 'SEARCH') as string) : keys[0]
      t.medium = search ? 'organic' : 'referral'
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
