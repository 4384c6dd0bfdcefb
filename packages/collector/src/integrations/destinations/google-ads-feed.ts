// Google Ads offline click conversions as a CSV feed for scheduled uploads from an HTTPS URL
// (Goals → Conversions → Uploads → Schedules). Google's "Conversions from clicks" template: a
// `Parameters:TimeZone=` row, then Google Click ID, Conversion Name, Conversion Time, Conversion
// Value, Conversion Currency. Only a Google click (gclid, gbraid, wbraid) within 90 days matches:
// the template carries no identity. Google ignores a row it already imported (same click, name and time).

import type { FeedDestinationAdapter } from './adapter.js'
import { cell, clickInWindow, feedTime, feedValue, noOptions, plainClickId, TIME_ZONE_ROW } from './feed-csv.js'

export const GOOGLE_FEED_HEADER = ['Google Click ID', 'Conversion Name', 'Conversion Time', 'Conversion Value', 'Conversion Currency'] as const
const CLICK_TYPES = ['gclid', 'gbraid', 'wbraid']

export const googleAdsFeed: FeedDestinationAdapter<Record<string, never>> = {
  kind: 'google-ads-feed',
  secretOptions: [],
  parseOptions: (raw) => noOptions(raw, 'google-ads-feed'),
  matchable(lead) {
    const click = clickInWindow(lead, CLICK_TYPES)
    return click === null ? null : { by: 'click', click }
  },
  feed(rows) {
    const lines = [TIME_ZONE_ROW, GOOGLE_FEED_HEADER.join(',')]
    for (const r of rows) {
      if (r.click === null || !CLICK_TYPES.includes(r.click.type) || !plainClickId(r.click.value)) continue
      lines.push([r.click.value, cell(r.conversionName), feedTime(r.occurredAt), feedValue(r.value), r.value === null ? '' : cell(r.currency)].join(','))
    }
    return lines.join('\r\n') + '\r\n'
  },
}
