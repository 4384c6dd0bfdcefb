// GA4's default channel grouping as one ordered rule list. The script and the collector
// run this same engine; only the source list behind `category` differs.
import type { Category } from './sources.js'

export interface ChannelInput {
  source: string
  medium?: string | null
  campaign?: string | null
  click_id_type?: string | null
}

// GA4's published patterns, written shorter with the same matches:
// ^(.*cp.*|ppc|retargeting|paid.*)$ and ^(.*(([^a-df-z]|^)shop|shopping).*)$
const PAID = /cp|^(ppc|retargeting)$|^paid/
const SHOP_CAMPAIGN = /(^|[^a-df-z])shop|shopping/
const EMAIL = /email|e-mail|e_mail|e mail/

/** GA4 default channel group of a touch; `category` maps a source to its GA4 source category. */
export function classify(t: ChannelInput, category: (source: string) => Category | null): string {
  const s = (t.source || '').toLowerCase().trim()
  let m = (t.medium || '').toLowerCase().trim()
  const c = (t.campaign || '').toLowerCase()
  const k = (t.click_id_type || '').toLowerCase()
  // Mailchimp's mc_cid and Klaviyo's _kx mark e-mail links, not ad clicks (touch.ts), yet a touch
  // recorded elsewhere or by an earlier tracker may carry them as click IDs with an implied cpc.
  if (/^(mc_cid|_kx)$/.test(k)) {
    if (!m || m == '(not set)' || m == 'cpc') m = 'email'
  }
  // Auto-tagged clicks (gclid without utm_medium) are paid, as GA4 treats them; an igshid marks
  // an Instagram share, not an ad click.
  else if (k && k != 'igshid' && (!m || m == '(not set)')) m = 'cpc'
  const cat = category(s)
  const paid = PAID.test(m)
  const shop = cat == 'SHOPPING' || SHOP_CAMPAIGN.test(c)
  // Paid and Organic Shopping/Search/Social/Video are named after the category: SEARCH → "Search".
  const name = (k: string) => k[0] + k.slice(1).toLowerCase()
  const organic =
    cat == 'SOCIAL' || /^(social([ -](network|media))?|sm)$/.test(m)
      ? 'SOCIAL'
      : cat == 'VIDEO' || m.includes('video')
        ? 'VIDEO'
        : cat == 'SEARCH' || m == 'organic'
          ? 'SEARCH'
          : ''
  // Rules in GA4's order; the first match wins.
  if (s == '(direct)' && (m == '(none)' || m == '(not set)' || !m)) return 'Direct'
  if (c.includes('cross-network')) return 'Cross-network'
  if (paid && (shop || cat)) return 'Paid ' + name(shop ? 'SHOPPING' : (cat as string))
  if (/^(display|banner|expandable|interstitial|cpm)$/.test(m)) return 'Display'
  if (paid) return 'Paid Other'
  if (shop || organic) return 'Organic ' + name(shop ? 'SHOPPING' : organic)
  if (/^(referral|app|link)$/.test(m)) return 'Referral'
  if (EMAIL.test(s) || EMAIL.test(m)) return 'Email'
  if (m == 'affiliate') return 'Affiliates'
  if (m == 'audio') return 'Audio'
  if (s == 'sms' || m == 'sms') return 'SMS'
  if (/push$|mobile|notification/.test(m) || s == 'firebase') return 'Mobile Push Notifications'
  return 'Unassigned'
}
