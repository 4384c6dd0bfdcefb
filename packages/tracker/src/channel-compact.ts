// The script's channel grouping: a compact subset of GA4's rules (channel.ts has them all) over the
// compact source list. It answers as the collector does for the channels nearly all traffic falls
// in: Direct, Paid and Organic Search/Social/Video/Shopping, Display, Paid Other, Referral, Email,
// Affiliates, else Unassigned. It leaves out Cross-network, the shopping-campaign rule, Audio, SMS
// and Mobile Push Notifications; the collector reclassifies every touch with the complete rules and
// list (authoritative), and identify answers with that channel. A test holds the two together.
import type { Touch } from './touch.js'
import type { Category } from './sources.js'

/** Channel of a detected touch, whose source and medium are already trimmed and lower-cased. */
export function compactChannel(t: Touch, category: (source: string) => Category | null): string {
  const m = t.medium
  const cat = category(t.source)
  // A click ID without a medium is paid, as GA4 treats auto-tagged clicks.
  const paid = /cp|^(ppc|retargeting)$|^paid/.test(m) || (!!t.click_id_type && m == '(not set)')
  const kind =
    cat ||
    (/^s(ocial([ -](network|media))?|m)$/.test(m) ? 'SOCIAL' : m.includes('video') ? 'VIDEO' : m == 'organic' ? 'SEARCH' : '')
  // Read only when kind is set.
  const name = kind[0] + kind.slice(1).toLowerCase()
  return t.source == '(direct)'
    ? 'Direct'
    : paid && cat
      ? 'Paid ' + name
      : /^(display|banner|expandable|interstitial|cpm)$/.test(m)
        ? 'Display'
        : paid
          ? 'Paid Other'
          : kind
            ? 'Organic ' + name
            : /^(referral|app|link)$/.test(m)
              ? 'Referral'
              : /e[-_ ]?mail/.test(t.source + '|' + m)
                ? 'Email'
                : m == 'affiliate'
                  ? 'Affiliates'
                  : 'Unassigned'
}
