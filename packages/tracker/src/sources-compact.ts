// The script's subset of the GA4 source list (the full one is ~10 KB): the sources that bring
// nearly all traffic, every click-ID platform's source (touch.ts), so the script names paid clicks
// as the collector does, and Meta's default utm_source values fb and ig. A touch from a source outside
// this subset falls back to its medium's channel in the browser; the collector reclassifies every
// touch with the full list (authoritative). A test checks each name here has the same category in
// the full list.
import { type Category, sourceTable } from './sources.js'

/** The lists; the tracker builds its lookup table from them when it first needs it, not at load. */
export const COMPACT_LISTS: Record<Category, string> = {
  SEARCH: 'google|bing|yahoo|duckduckgo|baidu|yandex|ecosia.org',
  SOCIAL: 'facebook|fb|instagram|ig|linkedin|lnkd.in|t.co|twitter|pinterest|reddit|tiktok|snapchat|quora',
  SHOPPING: 'amazon|ebay|etsy|shopify',
  VIDEO: 'youtube|vimeo',
}

export const COMPACT_SOURCES = /*#__PURE__*/ sourceTable(COMPACT_LISTS)
