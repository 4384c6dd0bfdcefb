// The columns of a lead in a list (recent leads, an account's contacts): who, when, where from.

import { hashTo } from '../hash.js'
import { date, num } from '../format.js'
import type { Column } from '../table.js'
import type { LeadList } from '../types.js'

export type LeadSummary = LeadList['leads'][number]

/** A touch up to identify made the visitor a lead; a later one (nurture, retargeting) came to a lead. */
export function phase(ts: number, identifiedAt: number | undefined): 'visitor' | 'lead' | null {
  if (identifiedAt === undefined) return null
  return ts > identifiedAt ? 'lead' : 'visitor'
}

export const LEAD_COLUMNS: Column<LeadSummary>[] = [
  { label: 'E-mail', value: (l) => l.email, format: (l) => l.email ?? '(no e-mail)', link: (l) => hashTo('journey', l.id) },
  { label: 'Identified', value: (l) => (l.identifiedAt === null ? null : new Date(l.identifiedAt).toISOString()), format: (l) => date(l.identifiedAt) },
  { label: 'Original channel', value: (l) => l.firstTouch?.channel, format: (l) => l.firstTouch?.channel ?? '— (no touches)' },
  { label: 'Source / medium', value: (l) => (l.firstTouch ? `${l.firstTouch.source} / ${l.firstTouch.medium}` : null) },
  { label: 'Campaign', value: (l) => l.firstTouch?.campaign },
  { label: 'Touches', numeric: true, value: (l) => l.touchCount, format: (l) => num(l.touchCount) },
  { label: 'Lead ID', value: (l) => l.id },
]
