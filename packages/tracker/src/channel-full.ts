// `@closeloop/tracker/channel`: the complete GA4 classifier, for the collector (authoritative) and
// for anyone who wants the same channel names server-side.
import { classify, type ChannelInput } from './channel.js'
import { categoryIn, type Category } from './sources.js'
import { FULL_SOURCES } from './sources-full.js'
import { detectTouch as detect, type Touch } from './touch.js'

/** Registrable domain of a host, approximated without the Public Suffix List (see domain.ts). */
export { registrable as registrableDomain } from './domain.js'

export type { ChannelInput, Category }

/** GA4 source category of a source name or host, from Google's full list; null when unlisted. */
export function sourceCategory(source: string): Category | null {
  return categoryIn(FULL_SOURCES, source)
}

/** GA4 default channel group, e.g. "Paid Search", "Organic Social", "Unassigned". */
export function classifyChannel(input: ChannelInput): string {
  return classify(input, sourceCategory)
}

export type { Touch, TouchContext } from './touch.js'
export { CAMPAIGN_PARAMS } from './touch.js'

/**
 * The tracker's touch rules 1–2 for a page load (touch.ts, the same function the script runs),
 * with Google's full source list: for servers that receive page URLs and referrers from other
 * clients. `host` is the site's host, `internal` other own domains; null when the URL carries no
 * campaign and the referrer is absent, this site or an internal domain.
 */
export function detectTouch(href: string, referrer: string, site: { host: string; internal: string[] }, now: number): Touch | null {
  return detect(href, referrer, { host: site.host, internal: site.internal, sources: FULL_SOURCES }, now)
}
