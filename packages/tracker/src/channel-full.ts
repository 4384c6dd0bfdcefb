// `@closeloop/tracker/channel`: the complete GA4 classifier, for the collector (authoritative) and
// for anyone who wants the same channel names server-side.
import { classify, type ChannelInput } from './channel.js'
import { categoryIn, type Category } from './sources.js'
import { FULL_SOURCES } from './sources-full.js'

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
