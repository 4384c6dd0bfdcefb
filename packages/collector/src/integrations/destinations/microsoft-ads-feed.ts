// Microsoft Advertising offline conversions as a CSV feed for scheduled imports from a URL
// (Tools → Conversions → Offline conversions → Schedule imports). Microsoft's offline conversion
// template: a `Parameters:TimeZone=` row, then Microsoft Click ID, Conversion Name, Conversion
// Time, Conversion Value, Conversion Currency. Only an msclkid within 90 days (the longest
// conversion window of an offline goal) matches. Microsoft ignores a second row with the same
// click ID and conversion time.

import type { FeedDestinationAdapter } from './adapter.js'
import { cell, clickInWindow, feedTime, feedValue, noOptions, plainClickId, TIME_ZONE_ROW } from './feed-csv.js'

export const MICROSOFT_FEED_HEADER = ['Microsoft Click ID', 'Conversion Name', 'Conversion Time', 'Conversion Value', 'Conversion Currency'] as const

export const microsoftAdsFeed: FeedDestinationAdapter<Record<string, never>> = {
  kind: 'microsoft-ads-feed',
  secretOptions: [],
  parseOptions: (raw) => noOptions(raw, 'microsoft-ads-feed'),
  matchable(lead) {
    const click = clickInWindow(lead, ['msclkid'])
    return click === null ? null : { by: 'click', click }
  },
  feed(rows) {
    const lines = [TIME_ZONE_ROW, MICROSOFT_FEED_HEADER.join(',')]
    for (const r of rows) {
      if (r.click === null || r.click.type !== 'msclkid' || !plainClickId(r.click.value)) continue
      lines.push([r.click.value, cell(r.conversionName), feedTime(r.occurredAt), feedValue(r.value), r.value === null ? '' : cell(r.currency)].join(','))
    }
    return lines.join('\r\n') + '\r\n'
  },
}
